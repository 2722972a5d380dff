"""The application as one object: what the API and the command line talk to.

The composition root (``infrastructure.bootstrap.build_rete``) builds it from
settings; tests build it there too, replacing any dependency they need to.
Neither the API nor the command line reaches past it: use cases are its
attributes, the ledger and the background work are handed to it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace

from application.access_log import AccessLog
from application.audit import Audit
from application.background import Background
from application.cases import Cases
from application.consent_expiry import ConsentExpiries
from application.context import Context
from application.erasures import ErasureRecords, Erasures
from application.escalation import Escalations
from application.integrity import IntegrityWatch
from application.ledger import LedgerProofs, LedgerUnavailable
from application.notifications.ports import AnnouncementFeed
from application.notifications.reading import AnnouncementReader
from application.notifications.subscriptions import Notifications, NotificationsUnavailable
from application.observatory.statistics import Observatory
from application.ports import Clock
from application.preconditions import Preconditions
from application.referrals import Referrals
from domain.network import Actor, NetworkDirectory
from domain.risk import RiskInstrument


def _always() -> bool:
    return True


def _ready() -> tuple[str, str] | None:
    return None


class Rete:
    def __init__(
        self,
        ctx: Context,
        *,
        ledger: Callable[[], LedgerProofs] | None = None,
        background: Sequence[Background] = (),
        database_reachable: Callable[[], bool] = _always,
        disk_writable: Callable[[], bool] = _always,
        closing: Sequence[Callable[[], None]] = (),
        erasures: ErasureRecords | None = None,
        readiness: Callable[[], tuple[str, str] | None] = _ready,
        notifications: Notifications | None = None,
        announcements: AnnouncementFeed | None = None,
    ) -> None:
        self.ctx = ctx  # the dependencies: tests reach them here
        self.cases = Cases(ctx)
        self.referrals = Referrals(ctx)
        self.access_log = AccessLog(ctx)
        self.audit = Audit(ctx, self.access_log)
        self.escalations = Escalations(ctx)
        self.consent_expiries = ConsentExpiries(ctx)
        self.observatory = Observatory(ctx)
        self.erasures = Erasures(erasures)
        self.preconditions = Preconditions(ctx)
        self.idempotency = ctx.idempotency
        # A person's own service's part of the outbox, authorised (the SSE stream).
        self.announcement_reader = AnnouncementReader(announcements)
        self.background = tuple(background)
        self.database_reachable = database_reachable
        self.disk_writable = disk_writable  # readiness: the disk takes a write
        # What keeps it from taking a write now, as (problem code, detail); None:
        # nothing (``infrastructure.health.Readiness``; ``GET /health/ready``).
        self.readiness = readiness
        self._ledger = ledger
        self._closing = list(closing)
        self._notifications = notifications
        # The outbox, in order (docs/NOTIFICATIONS.md): what the channels read.
        self.announcements = announcements

    @property
    def clock(self) -> Clock:
        return self.ctx.clock

    @property
    def integrity(self) -> IntegrityWatch:
        return self.ctx.integrity

    @property
    def directory(self) -> NetworkDirectory:
        return self.ctx.directory

    def identify(self, user_id: str, service_id: str, roles: Iterable[str]) -> Actor:
        """The actor a verified token speaks for (``Context.identify``)."""
        return self.ctx.identify(user_id, service_id, roles)

    def instrument(self, instrument_id: str) -> RiskInstrument:
        return self.ctx.instrument(instrument_id)

    @property
    def instruments(self) -> Sequence[RiskInstrument]:
        """Every risk instrument (the OpenAPI document lists their items)."""
        return list(self.ctx.instruments.values())

    def ledger(self) -> LedgerProofs:
        """The ledger beside the log, opened on first use; raises ``LedgerUnavailable``
        when this application was assembled without one."""
        if self._ledger is None:
            raise LedgerUnavailable("this application keeps no ledger")
        return self._ledger()

    @property
    def notifications(self) -> Notifications:
        """Webhook subscriptions and dead letters; raises ``NotificationsUnavailable``
        when this application was assembled without a database beside its log."""
        if self._notifications is None:
            raise NotificationsUnavailable("this application keeps no notifications")
        return self._notifications

    def with_clock(self, clock: Clock) -> Rete:
        """The same application over the same dependencies, telling time by ``clock``
        (the demo's story tells its own). It owns nothing: closing it closes nothing."""
        return Rete(
            replace(self.ctx, clock=clock),
            database_reachable=self.database_reachable,
            disk_writable=self.disk_writable,
            readiness=self.readiness,
        )

    def close(self) -> None:
        """Release what was opened for it (the ledger and the views' connections; the
        event store too when it was opened for it), in order; calling it again does
        nothing."""
        closing, self._closing = self._closing, []
        for close in closing:
            close()
