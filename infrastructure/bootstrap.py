"""The composition root: the one place that builds the application from settings.

``build_rete`` assembles everything a server or a command needs (the key store,
the event store, the views, the ledger, the background work, the clock, the
network's data) and hands it to ``Rete``, the only object the API and the
command line talk to. Every part is a parameter a test may pass instead; what is
passed in stays the caller's to close.

The other ``build_*``/``open_*`` functions here are the steps it takes, for the
commands that need only one part (``rete keys``, ``rete views``, ``rete ledger``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager

from application.background import Background
from application.consent_expiry import ConsentExpiries
from application.context import Context
from application.escalation import Escalations
from application.integrity import IntegrityWatch
from application.notifications.subscriptions import Notifications
from application.ports import Clock
from application.rete import Rete
from domain.deadlines import DeadlinePolicy
from domain.network import NetworkDirectory
from domain.risk import RiskInstrument
from infrastructure.clock import SystemClock
from infrastructure.crypto.kek import Keyring, load_keyring
from infrastructure.crypto.keystore import SqlKeyStore
from infrastructure.crypto.scoped_secret import scoped_secret
from infrastructure.crypto.view_mac import VIEW_MAC_SCOPE
from infrastructure.db import database_of, open_from_settings
from infrastructure.disk_check import DiskCheck
from infrastructure.ended_consents import EndedConsentQuery
from infrastructure.health import (
    DatabaseCheck,
    Readiness,
    ReadinessCheck,
    database_readiness,
)
from infrastructure.idempotency_store import open_idempotency
from infrastructure.ledger.alarms import SharedIntegrityWatch, StoredAlarms
from infrastructure.ledger.db import LedgerTables
from infrastructure.ledger.db import open_tables as open_ledger_tables
from infrastructure.ledger.ledger import HashedVersions, Ledger, open_ledger
from infrastructure.ledger.records import events_table, open_event_log
from infrastructure.ledger.serving import LedgerSigning, ServedLedger
from infrastructure.network_file import load_directory, load_instruments
from infrastructure.notifications.assembly import NotificationParts, open_notifications
from infrastructure.notifications.channel_delivery import ServiceChannel
from infrastructure.notifications.email import email_channels
from infrastructure.notifications.webhook import WebhookSender
from infrastructure.periodic import EveryInterval
from infrastructure.settings import NotifySettings, Settings
from infrastructure.store import ReteEventStore
from infrastructure.views import Views, open_views


def build_kek(settings: Settings) -> Keyring:
    """The configured key-encryption key (a development one created on first use)."""
    return load_keyring(
        env_value=settings.kek, key_file=settings.kek_file, var_dir=settings.var_dir
    )


def build_keys(settings: Settings, kek: Keyring | None = None) -> SqlKeyStore:
    """The data-key store, its keys wrapped under the configured KEK."""
    # On the process's pool, opened here so that it honours RETE_REQUEST_TIMEOUT
    # (infrastructure/db/timeouts.py); the event store built beside it shares it.
    return SqlKeyStore(
        open_from_settings(settings),
        kek or build_kek(settings),
        case_key_ttl=settings.key_cache_seconds,
        owns_database=True,
    )


def prepare_keys(settings: Settings) -> None:
    """Open the data-key store (its tables created where missing) and check the
    configured KEK against it (``SqlKeyStore.check_kek``), then close: run before a
    server's workers or a follower start, so that a KEK that is not this database's
    stops it with ``UnwrapError``'s message rather than each worker as it starts."""
    with build_keys(settings) as keys:
        keys.check_kek()


@contextmanager
def key_operations(settings: Settings) -> Iterator[tuple[Keyring, SqlKeyStore]]:
    """The KEK and the data-key store over it, for one key operation (``rete keys``),
    once the KEK is known to be the one the database's keys are wrapped under."""
    kek = build_kek(settings)
    with build_keys(settings, kek) as store:
        store.check_kek()
        yield kek, store


def build_store(settings: Settings, keys: SqlKeyStore | None = None) -> ReteEventStore:
    return ReteEventStore(
        settings.eventsourcing_env(), keys or build_keys(settings), settings.snapshot_interval
    )


def build_views(settings: Settings, store: ReteEventStore, *, for_reads: bool = True) -> Views:
    """The views beside ``store``. ``for_reads``: reads catch up first on both
    backends, so that a caseworker sees her own write on her next request, whichever
    worker answers it (on PostgreSQL `rete views run` keeps the views current, and
    that catch-up is one query); the commands that drive the views leave it off."""
    views = open_views(settings, store.recorder, store.keys, catch_up_before_reads=for_reads)
    if for_reads:
        # The next catch-up after this process's own write goes straight to its batch.
        store.on_append(views.runner.appended)
    return views


def build_rete(
    settings: Settings,
    clock: Clock | None = None,
    store: ReteEventStore | None = None,
    *,
    directory: NetworkDirectory | None = None,
    instruments: Mapping[str, RiskInstrument] | None = None,
    deadlines: DeadlinePolicy | None = None,
    views: Views | None = None,
    ledger: Callable[[], Ledger] | None = None,
    integrity: IntegrityWatch | None = None,
    notify: NotifySettings | None = None,
    webhooks: WebhookSender | None = None,
) -> Rete:
    """The application over the configured database. ``Rete.close`` closes what was
    opened here: the ledger, and the views and the event store unless they were
    passed in (those stay the caller's to close, after the application).

    The ledger opens on first use (a server opens it when it starts), by ``ledger``
    if given, and closes with the application; the background work (the ledger's signer, the escalation policy, the consent-expiry run) runs only once a
    server starts it, every ``RETE_CHECKPOINT_INTERVAL`` and
    ``RETE_ESCALATION_INTERVAL`` seconds (0: never)."""
    closing: list[Callable[[], None]] = []
    if store is None:
        store = build_store(settings)
        closing.append(store.close)
    # One watch per application: every checker (views, ledger) raises its alarms here,
    # and, stored beside the events, every process sees them (``ledger.alarms``).
    integrity = integrity or shared_watch(store)
    if views is None:
        try:
            views = build_views(settings, store)
        except BaseException:
            for close in closing:
                close()
            raise
        closing.insert(0, views.close)
    views.report_alarms_to(integrity)  # a view row found altered raises its alarm here
    ctx = Context(
        store=store,
        keys=store.keys,
        views=views.queries,
        parts=views.parts,
        clock=clock or SystemClock(),
        directory=directory if directory is not None else load_directory(settings.directory_file),
        instruments=(
            instruments if instruments is not None else load_instruments(settings.instruments_file)
        ),
        deadlines=deadlines or DeadlinePolicy(),
        integrity=integrity,
        idempotency=open_idempotency(settings, store),
        ended_consents=EndedConsentQuery(views),
        # List cursors are MACed under the views' data key, with a label of their own:
        # every process of the deployment opens the cursors any other gave out.
        cursor_secret=scoped_secret(store.keys, VIEW_MAC_SCOPE, b"rete list cursors v1"),
    )
    recorder = store.recorder
    served = ServedLedger(ledger or (lambda: open_ledger(settings, recorder, integrity=integrity)))
    # The ledger's alarms and the store's refusals go to the application's watch; a
    # write is checked against the versions the ledger hashed (``ReteEventStore.save``).
    store.integrity = integrity
    if _in_database(store):
        store.hashed_versions = HashedVersions(recorder)
    escalation = EveryInterval(
        "rete-escalation",
        settings.escalation_interval_seconds,
        Escalations(ctx).run,
        what="the escalation policy",
    )
    # Consents expire as deadlines pass: looked for on the escalation's schedule.
    consent_expiry = EveryInterval(
        "rete-consent-expiry",
        settings.escalation_interval_seconds,
        ConsentExpiries(ctx).run,
        what="the consent-expiry run",
    )
    keys = store.keys if isinstance(store.keys, SqlKeyStore) else None
    background: list[Background] = [
        LedgerSigning(served, settings.checkpoint_interval_seconds),
        escalation,
        consent_expiry,
    ]
    if keys is not None:
        # Pending erasures completed on a schedule (docs/ENCRYPTION.md, "Erasure").
        background.append(
            EveryInterval(
                "rete-erasures",
                settings.key_retirement_interval_seconds,
                keys.complete_erasures,
                what="the completion of pending erasures",
            )
        )
    # Notifications (docs/NOTIFICATIONS.md): after the escalation policy, whose
    # escalations they announce; ``settings.notify`` (``RETE_NOTIFY_*``), or ``notify``.
    notifications = _notifications(
        store, ctx, notify or settings.notify, webhooks, email_channels(settings)
    )
    if notifications is not None:
        background.append(notifications.worker)
        closing.insert(0, notifications.close)
    disk = DiskCheck.of(settings, store.storage_full)
    return Rete(
        ctx,
        ledger=served.proofs,
        # Started in this order, stopped in the reverse: the signer follows the last
        # escalations' writes.
        background=background,
        erasures=keys,
        notifications=(
            None
            if notifications is None
            else Notifications(ctx, notifications.secrets, notifications.deliveries)
        ),
        announcements=None if notifications is None else notifications.outbox,
        database_reachable=DatabaseCheck(store).reachable,
        disk_writable=disk.writable,
        closing=[served.close, *closing],
        # What ``GET /health/ready`` checks; more checks are appended here.
        readiness=Readiness(
            [
                database_readiness(store),
                ReadinessCheck("storage-full", "the disk cannot take a write", disk.writable),
            ]
        ),
    )


def _notifications(
    store: ReteEventStore,
    ctx: Context,
    notify: NotifySettings,
    webhooks: WebhookSender | None,
    channels: Sequence[ServiceChannel] = (),
) -> NotificationParts | None:
    """The outbox, its follower and the webhooks' worker (and email's), beside a stored log."""
    if not _in_database(store):
        return None
    return open_notifications(
        database_of(store.recorder),
        store.recorder,
        store.keys,
        ctx.clock,
        notify,
        webhooks,
        channels,
    )


def _in_database(store: ReteEventStore) -> bool:
    try:
        database_of(store.recorder)
    except TypeError:
        return False  # the library's in-memory recorder: no ledger beside it
    return True


def shared_watch(store: ReteEventStore) -> IntegrityWatch:
    """The watch whose alarms every process of this database sees; a store not kept
    in a database has a watch of its own."""
    if not _in_database(store):
        return IntegrityWatch()
    return SharedIntegrityWatch(StoredAlarms(database_of(store.recorder)))


@contextmanager
def operated_views(settings: Settings) -> Iterator[Views]:
    """The views and their event store, for the commands that drive the views
    (``rete views``): reads do not catch up on their own."""
    with (
        contextlib.closing(build_store(settings)) as store,
        build_views(settings, store, for_reads=False) as views,
    ):
        yield views


@contextmanager
def signing_ledger(settings: Settings) -> Iterator[Ledger]:
    """The ledger beside the configured log, with its signing key (``rete ledger checkpoint``)."""
    with (
        contextlib.closing(open_event_log(settings)) as log,
        open_ledger(settings, log.recorder) as ledger,  # its alarms stored for the server's
    ):
        yield ledger


@contextmanager
def ledger_tables(settings: Settings) -> Iterator[LedgerTables]:
    """The ledger's tables, without the signing key (reading needs only the public one)."""
    with contextlib.closing(open_event_log(settings)) as log:
        tables = open_ledger_tables(database_of(log.recorder), events_table(log.recorder))
        with contextlib.closing(tables):
            yield tables
