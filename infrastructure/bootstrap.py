"""Assembling the application from settings: the one place that wires adapters."""

from __future__ import annotations

from application.context import Context
from application.ports import Clock
from application.rete import Rete
from infrastructure.clock import SystemClock
from infrastructure.crypto.kek import load_keyring
from infrastructure.crypto.keystore import SqlKeyStore
from infrastructure.network_file import load_directory, load_instruments
from infrastructure.settings import Settings
from infrastructure.store import ReteEventStore
from infrastructure.views import open_views


def build_keys(settings: Settings) -> SqlKeyStore:
    """The data-key store, its keys wrapped under the configured KEK."""
    kek = load_keyring(env_value=settings.kek, key_file=settings.kek_file, var_dir=settings.var_dir)
    return SqlKeyStore.from_settings(settings, kek, case_key_ttl=settings.key_cache_seconds)


def build_store(settings: Settings, keys: SqlKeyStore | None = None) -> ReteEventStore:
    return ReteEventStore(
        settings.eventsourcing_env(), keys or build_keys(settings), settings.snapshot_interval
    )


def build_rete(
    settings: Settings, clock: Clock | None = None, store: ReteEventStore | None = None
) -> Rete:
    """The application over the configured database. ``Rete.close`` closes the views
    it opened, and the event store unless one was passed in (that stays the
    caller's to close, after the application)."""
    owned = store is None
    store = store or build_store(settings)
    try:
        # Reads catch up first on both backends, so that a caseworker sees her own
        # write on her next request, whichever worker answers it. On PostgreSQL
        # `rete views run` keeps the views current, and that catch-up is one query.
        views = open_views(settings, store.recorder, store.keys, catch_up_before_reads=True)
    except BaseException:
        if owned:
            store.close()
        raise
    ctx = Context(
        store=store,
        keys=store.keys,
        views=views.queries,
        parts=views.parts,
        clock=clock or SystemClock(),
        directory=load_directory(settings.directory_file),
        instruments=load_instruments(settings.instruments_file),
    )
    return Rete(ctx, closing=[views.close, store.close] if owned else [views.close])
