"""The views in memory: ``application.view_ports.ViewReader`` answered from the
aggregates of an in-memory event store, loaded at each read.

The non-personal facts are the aggregates' own state (the domain's lifecycle, not
a copy of the projections); the times the aggregates do not keep (acknowledged,
answered) come from the referral's ``Moved`` events. Each personal part is the
sealed part of its stored record, so ``PersonalParts`` is the production opener
(``SealedPartOpener``): it opens with the case key, and reads ``ERASED`` once the
case's keys are destroyed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from application.view_ports import (
    AssessmentRow,
    CaseFact,
    CaseRow,
    CaseRows,
    CaseStanding,
    EntryRow,
    ObservatoryFacts,
    ReferralFact,
    ReferralRow,
    SealedPart,
    Slice,
)
from domain.access import AccessRecord
from domain.case import Case
from domain.entries import CaseStatus
from domain.referral import Referral, ReferralStatus
from domain.vocabulary import Urgency
from infrastructure.store import ReteEventStore
from infrastructure.views.records import open_outer

URGENCY_RANK = {Urgency.EMERGENCY: 0, Urgency.URGENT: 1, Urgency.ROUTINE: 2}
ANSWERS = frozenset({ReferralStatus.ACCEPTED, ReferralStatus.DECLINED})


class MemoryViews:
    """Implements ``application.view_ports.ViewReader`` over an in-memory store."""

    def __init__(self, store: ReteEventStore) -> None:
        self._store = store

    # -- the port ---------------------------------------------------------------------

    def cases_of(self, service_id: str, offset: int, limit: int) -> Slice[CaseRow]:
        mine = [
            _case_row(case)
            for case in self._cases()
            if case.owner_service == service_id
            or any(
                service_id in (r.sender_service, r.recipient_service)
                for r in case.referrals.values()
            )
        ]
        mine.reverse()  # the most recently opened first
        return _slice(mine, offset, limit)

    def standings(self, case_ids: Sequence[UUID]) -> dict[UUID, CaseStanding]:
        found = {}
        for case_id in case_ids:
            rows = self.case(case_id)
            if rows is not None:
                found[case_id] = CaseStanding(rows.owner_service, rows.consents, rows.referrals)
        return found

    def case(self, case_id: UUID) -> CaseRows | None:
        if case_id not in self._store.ids_of(Case):
            return None
        case = self._store.get(Case, case_id)
        history = self._store.history_of(case_id)
        notes = [e for e in history if isinstance(e, Case.NoteAdded)]
        assessed = [e for e in history if isinstance(e, Case.RiskAssessed)]
        return CaseRows(
            case=_case_row(case),
            entries=[
                EntryRow(
                    case.id,
                    entry.id,
                    entry.category,
                    entry.author,
                    entry.service_id,
                    entry.recorded_at,
                    self._sealed(case.id, event.originator_version),
                )
                for entry, event in zip(case.entries, notes, strict=True)
            ],
            referrals=[self._referral_row(UUID(rid), case) for rid in case.referrals],
            consents=dict(case.consents),
            assessments=[
                AssessmentRow(
                    case.id,
                    assessment.id,
                    assessment.instrument_id,
                    assessment.service_id,
                    assessment.assessed_by,
                    assessment.assessed_at,
                    event.high_risk,
                    self._sealed(case.id, event.originator_version),
                )
                for assessment, event in zip(case.assessments, assessed, strict=True)
            ],
        )

    def referral(self, referral_id: UUID) -> ReferralRow | None:
        if referral_id not in self._store.ids_of(Referral):
            return None
        return self._referral_row(referral_id)

    def inbox(
        self,
        service_id: str,
        at: datetime,
        statuses: frozenset[ReferralStatus],
        offset: int,
        limit: int,
    ) -> Slice[ReferralRow]:
        rows = [r for r in self._referral_rows() if r.recipient_service == service_id]
        return _box(rows, at, statuses, offset, limit)

    def outbox(
        self,
        service_id: str,
        at: datetime,
        statuses: frozenset[ReferralStatus],
        offset: int,
        limit: int,
    ) -> Slice[ReferralRow]:
        rows = [r for r in self._referral_rows() if r.sender_service == service_id]
        return _box(rows, at, statuses, offset, limit)

    def overdue(self, at: datetime) -> list[ReferralRow]:
        rows = [r for r in self._referral_rows() if r.overdue(at) and not _erased(r)]
        return sorted(rows, key=_due)

    def worklist(self, service_id: str) -> list[ReferralRow]:
        rows = [
            r
            for r in self._referral_rows()
            if service_id in (r.sender_service, r.recipient_service)
            and r.escalations
            and r.due() is not None
            and not _erased(r)
        ]
        return sorted(rows, key=_due)

    def access_records(self, case_id: UUID) -> list[UUID]:
        records = (self._store.get(AccessRecord, i) for i in self._store.ids_of(AccessRecord))
        return [r.id for r in records if r.case_id == case_id]

    def observatory_facts(self) -> ObservatoryFacts:
        cases = [
            CaseFact(c.id, c.owner_service, c.status, c.high_risk, c.created_on)
            for c in self._cases()
        ]
        referrals = [
            ReferralFact(
                r.id,
                r.case_id,
                r.sender_service,
                r.recipient_service,
                r.kind,
                r.urgency,
                r.legal_basis,
                r.status,
                r.sent_at,
                r.acknowledged_at,
                r.answered_at,
                r.ended_at,
                r.escalations,
            )
            for r in self._referral_rows()
        ]
        return ObservatoryFacts(cases, referrals)

    def catch_up(self) -> int:
        """Nothing to catch up: every read loads the aggregates as they are."""
        return 0

    # -- inside ------------------------------------------------------------------------

    def _cases(self) -> list[Case]:
        return [self._store.get(Case, i) for i in self._store.ids_of(Case)]

    def _referral_rows(self) -> list[ReferralRow]:
        return [self._referral_row(i) for i in self._store.ids_of(Referral)]

    def _referral_row(self, referral_id: UUID, case: Case | None = None) -> ReferralRow:
        referral = self._store.get(Referral, referral_id)
        case = case or self._store.get(Case, referral.case_id)
        moves = [e for e in self._store.history_of(referral_id) if isinstance(e, Referral.Moved)]
        acknowledged = [m.timestamp for m in moves if m.to_status == ReferralStatus.ACKNOWLEDGED]
        answered = [m.timestamp for m in moves if ReferralStatus(m.to_status) in ANSWERS]
        return ReferralRow(
            id=referral.id,
            case_id=referral.case_id,
            case_reference=case.reference_code,
            case_high_risk=case.high_risk,
            case_status=case.status,
            sender_service=referral.sender_service,
            recipient_service=referral.recipient_service,
            kind=referral.kind,
            urgency=referral.urgency,
            scope=referral.scope,
            legal_basis=referral.legal_basis,
            consent_id=referral.consent_id,
            statute=referral.statute,
            flagged_for_review=referral.flagged_for_review,
            status=referral.status,
            sent_by=referral.sent_by,
            sent_at=referral.sent_at,
            acknowledge_by=referral.acknowledge_by,
            answer_by=referral.answer_by,
            acknowledged_at=acknowledged[-1] if acknowledged else None,
            accepted_at=referral.accepted_at,
            answered_at=answered[0] if answered else None,
            ended_at=referral.ended_at,
            escalations=referral.escalations,
            version=referral.version,
            sealed=self._sealed(referral.id, 1),
        )

    def _sealed(self, stream_id: UUID, version: int) -> SealedPart:
        """The sealed personal part of one stored record, as a projection copies it."""
        (stored,) = self._store.recorder.select_events(stream_id, gt=version - 1, lte=version)
        _, blob = open_outer(
            self._store.keys, str(stream_id), version, stored.topic, stored.state, typed=False
        )
        assert blob is not None, f"{stored.topic} has no personal part"
        return SealedPart(blob, stream_id, version, stored.topic)


def _case_row(case: Case) -> CaseRow:
    return CaseRow(
        id=case.id,
        reference_code=case.reference_code,
        owner_service=case.owner_service,
        status=case.status,
        high_risk=case.high_risk,
        legal_hold=case.legal_hold is not None,
        opened_at=case.created_on,
        version=case.version,
    )


def _erased(row: ReferralRow) -> bool:
    return row.case_status == CaseStatus.ERASED


def _due(row: ReferralRow) -> datetime:
    due = row.due()
    assert due is not None
    return due


def _box(
    rows: list[ReferralRow],
    at: datetime,
    statuses: frozenset[ReferralStatus],
    offset: int,
    limit: int,
) -> Slice[ReferralRow]:
    """DOMAIN.md's order: active first; by urgency; the most overdue (the earliest
    deadline still owed; none owed counts as due now); the oldest."""
    wanted = [r for r in rows if not statuses or r.status in statuses]
    wanted.sort(key=lambda r: (not r.is_active, URGENCY_RANK[r.urgency], r.due() or at, r.sent_at))
    return _slice(wanted, offset, limit)


def _slice(items: list[ReferralRow] | list[CaseRow], offset: int, limit: int) -> Slice:  # type: ignore[type-arg]
    return Slice(list(items[offset : offset + limit]), len(items) > offset + limit)
