"""What auditors do: replay the non-personal history, and ask for a disclosure.

Only the ``auditor`` role (of an oversight service) may. The history shows
every non-personal fact of every event; personal fields read as ``"sealed"``
(``audit_events``). The personal data of one case reach an auditor only through
a disclosure: with a written reason, recorded in that case's access log before
the data leave.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from itertools import takewhile
from typing import TypeVar
from uuid import UUID

import msgspec
from eventsourcing.domain import Aggregate

from application.access_log import IN_PROCESS, AccessLog, case_categories
from application.audit_events import AuditEvent, aggregate_of, audit_event
from application.authorisation import Action, authorise, disclosure_access
from application.context import Context
from application.loading import Loader
from application.pagination import InvalidLimit
from application.presenting import case_view
from application.views import CaseView
from domain import errors
from domain.access import AccessRecord
from domain.case import Case
from domain.network import Actor
from domain.referral import Referral

MAX_EVENTS = 500
G = TypeVar("G", bound=Aggregate)


class InvalidPosition(errors.InvalidValue):
    code = "invalid-position"
    title = "A position in the log is a number from 0"


class AuditEventsPage(msgspec.Struct, frozen=True):
    """Events in log order; ``next_after`` is the ``after`` of the next page, or
    null when this page reached the head of the log (for now)."""

    items: list[AuditEvent]
    next_after: int | None


class ReferralThen(msgspec.Struct, frozen=True):
    id: str
    sender_service: str
    recipient_service: str
    kind: str
    urgency: str
    status: str
    version: int


class CaseThen(msgspec.Struct, frozen=True):
    """The non-personal state of a case at a moment (not its high-risk flag, which is
    derived from her risk assessments: ``domain.events.withheld_fields``)."""

    status: str
    owner_service: str
    legal_hold: bool
    version: int
    referrals: list[ReferralThen]


class CaseHistory(msgspec.Struct, frozen=True):
    """One case replayed to ``as_of``: its events, its referrals' and its access
    records', in time order; and its state then (null if not yet opened)."""

    case_id: str
    reference_code: str
    as_of: datetime | None
    events: list[AuditEvent]
    state: CaseThen | None


# Events written in one transaction share their moment. At the same moment a
# referral is sent before its case records it, and a consent is withdrawn before
# the referrals relying on it are suspended; reads come last.
def _same_moment_rank(event: Aggregate.Event) -> int:
    if isinstance(event, Referral.Sent):
        return 0
    return {"case": 1, "referral": 2}.get(aggregate_of(event), 3)


def _replayed(kind: type[G], events: Sequence[Aggregate.Event]) -> G | None:
    aggregate: Aggregate | None = None
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate if isinstance(aggregate, kind) else None


class Audit:
    def __init__(self, ctx: Context, access_log: AccessLog) -> None:
        self.ctx = ctx
        self.load = Loader(ctx)
        self.access_log = access_log

    def events(self, actor: Actor, after: int = 0, limit: int = 100) -> AuditEventsPage:
        """The whole log's non-personal history, in log order, after a position."""
        authorise(actor, Action.AUDIT)
        if after < 0:
            raise InvalidPosition("after must be 0 or the position of an event")
        if not 1 <= limit <= MAX_EVENTS:
            raise InvalidLimit(f"limit must be between 1 and {MAX_EVENTS}")
        logged = self.ctx.store.logged(after, limit)
        items = [audit_event(entry.event, entry.position) for entry in logged]
        return AuditEventsPage(items, items[-1].position if len(items) == limit else None)

    def history(self, actor: Actor, case_ref: str, as_of: datetime | None = None) -> CaseHistory:
        """One case as it was at ``as_of`` (now if not given)."""
        authorise(actor, Action.AUDIT)
        if as_of is not None and as_of.utcoffset() is None:
            raise errors.NaiveDatetime("as_of needs a time zone, e.g. 2026-03-02T10:00:00Z")
        case = self.load.case(case_ref)

        def until(stream_id: UUID) -> list[Aggregate.Event]:
            events = self.ctx.store.history_of(stream_id)
            return list(takewhile(lambda e: as_of is None or e.timestamp <= as_of, events))

        case_events = until(case.id)
        referrals = [until(UUID(rid)) for rid in case.referrals]
        reads = [until(rid) for rid in self.access_log.record_ids(case.id)]
        streams = [case_events, *referrals, *reads]
        ordered = sorted(
            (e for stream in streams for e in stream),
            key=lambda e: (e.timestamp, _same_moment_rank(e)),
        )  # stable: within a rank, streams keep their order and each stream its versions
        then = _replayed(Case, case_events)
        return CaseHistory(
            case_id=str(case.id),
            reference_code=case.reference_code,
            as_of=as_of,
            events=[self._with_owner(audit_event(e), case) for e in ordered],
            state=self._state(then, referrals) if then is not None else None,
        )

    def disclose(
        self, actor: Actor, case_ref: str, reason: str, *, via: str = IN_PROCESS
    ) -> CaseView:
        """Break-glass: the case as its owner sees it, for a written reason, logged first."""
        authorise(actor, Action.AUDIT)
        rows = self.load.case_rows(case_ref)
        owner = self.ctx.directory.service(rows.owner_service)
        at = self.ctx.clock.now()
        view = case_view(rows, disclosure_access(owner, rows), self.ctx.parts.open, at)
        # The disclosure is recorded before the data leave: no record, no data.
        record = AccessRecord.disclosure(
            rows.case.id, case_categories(view), via, reason, actor, at
        )
        self.ctx.store.save(record)
        return view

    @staticmethod
    def _with_owner(event: AuditEvent, case: Case) -> AuditEvent:
        """What only the owner service may do to a case, stored before every event named
        its service (``domain.events.NOT_RECORDED``), was done by the owner."""
        if event.aggregate == "case" and event.user_id and event.service_id is None:
            return msgspec.structs.replace(event, service_id=case.owner_service)
        return event

    @staticmethod
    def _state(case: Case, referrals: list[list[Aggregate.Event]]) -> CaseThen:
        then = [r for r in (_replayed(Referral, events) for events in referrals) if r]
        return CaseThen(
            status=case.status.value,
            owner_service=case.owner_service,
            legal_hold=case.legal_hold is not None,
            version=case.version,
            referrals=[
                ReferralThen(
                    id=str(r.id),
                    sender_service=r.sender_service,
                    recipient_service=r.recipient_service,
                    kind=r.kind.value,
                    urgency=r.urgency.value,
                    status=r.status.value,
                    version=r.version,
                )
                for r in then
            ],
        )
