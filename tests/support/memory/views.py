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

import dataclasses
from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

from application import view_rows as vr
from application.list_filters import CaseFilter, ReferralFilter, ReferralTerms
from application.presenting import case_row
from application.view_ports import Box, Keyed, PageAsk
from domain.access import AccessRecord
from domain.case import Case
from domain.consent import Consent
from domain.entries import CaseStatus
from domain.referral import Referral, ReferralStatus
from domain.vocabulary import Urgency
from infrastructure.store import ReteEventStore
from infrastructure.views.records import open_outer

T = TypeVar("T")
URGENCY_RANK = {Urgency.EMERGENCY: 0, Urgency.URGENT: 1, Urgency.ROUTINE: 2}
ANSWERS = frozenset({ReferralStatus.ACCEPTED, ReferralStatus.DECLINED})


class MemoryViews:
    """Implements ``application.view_ports.ViewReader`` over an in-memory store."""

    def __init__(self, store: ReteEventStore) -> None:
        self._store = store

    # -- the port ---------------------------------------------------------------------

    def cases_of(
        self, service_id: str, at: datetime, where: CaseFilter, ask: PageAsk
    ) -> Keyed[vr.CaseRow]:
        """Keys: the case's place among the cases opened (the views': its log position)."""
        mine = []
        for number, case in enumerate(self._cases()):
            ours = [
                self._referral_row(UUID(rid), case)
                for rid, r in case.referrals.items()
                if service_id in (r.sender_service, r.recipient_service)
            ]
            if case.owner_service != service_id and not ours:
                continue
            row = self._case_row(case)
            if where.statuses and row.status not in where.statuses:
                continue
            if where.high_risk is not None and row.high_risk is not where.high_risk:
                continue
            terms = where.referrals
            rows = [r for r in ours if _matches(r, terms, service_id)]
            if (terms.narrows or terms.overdue) and not any(
                not terms.overdue or r.overdue(at) for r in rows
            ):
                continue
            if terms.overdue is False and any(r.overdue(at) for r in rows):
                continue
            mine.append((row, (number,)))
        mine.reverse()  # the most recently opened first
        return ask.keyed([m for m in mine if ask.after is None or m[1] < ask.after])

    def standings(
        self, case_ids: Sequence[UUID], *, caught_up: bool = True
    ) -> dict[UUID, vr.CaseStanding]:
        found = {}
        for case_id in case_ids:
            held = self.case(case_id)
            if held is not None:
                found[case_id] = vr.CaseStanding(held.owner_service, held.consents, held.referrals)
        return found

    def relied_on(
        self, referral_id: UUID, case_id: UUID, consent_id: str, *, caught_up: bool = True
    ) -> Consent | None:
        held = self.case(case_id)
        return held.consents.get(consent_id) if held is not None else None

    def case(self, case_id: UUID) -> vr.CaseRows | None:
        if case_id not in self._store.ids_of(Case):
            return None
        case = self._store.get(Case, case_id)
        history = self._store.history_of(case_id)
        notes = [e for e in history if isinstance(e, Case.NoteAdded)]
        assessed = [e for e in history if isinstance(e, Case.RiskAssessed)]
        return vr.CaseRows(
            case=self._case_row(case),
            entries=[
                _row(vr.EntryRow, entry, case_id=case.id, sealed=self._sealed(event))
                for entry, event in zip(case.entries, notes, strict=True)
            ],
            referrals=[self._referral_row(UUID(rid), case) for rid in case.referrals],
            consents=dict(case.consents),
            assessments=[
                _row(
                    vr.AssessmentRow,
                    assessment,
                    case_id=case.id,
                    sealed=self._sealed(event),
                )
                for assessment, event in zip(case.assessments, assessed, strict=True)
            ],
        )

    def referral(self, referral_id: UUID) -> vr.ReferralRow | None:
        if referral_id not in self._store.ids_of(Referral):
            return None
        return self._referral_row(referral_id)

    def referral_relying(self, referral_id: UUID) -> tuple[vr.ReferralRow, Consent | None] | None:
        row = self.referral(referral_id)
        if row is None or row.consent_id is None:
            return None if row is None else (row, None)
        return row, self.relied_on(referral_id, row.case_id, row.consent_id)

    def box(
        self, which: Box, service_id: str, at: datetime, where: ReferralFilter, ask: PageAsk
    ) -> Keyed[vr.ReferralRow]:
        """Keys: urgency rank, and the referral's place among those sent."""
        inbox = which is Box.INBOX
        mine = []
        for number, r in enumerate(self._referral_rows()):
            if (r.recipient_service if inbox else r.sender_service) != service_id:
                continue
            if where.statuses and r.status not in where.statuses:
                continue
            if where.high_risk is not None and r.case_high_risk is not where.high_risk:
                continue
            if not _matches(r, where.terms, service_id):
                continue
            if where.terms.overdue is not None and r.overdue(at) is not where.terms.overdue:
                continue
            mine.append((r, (URGENCY_RANK[r.urgency], number)))
        mine.sort(key=lambda m: m[1])
        return ask.keyed([m for m in mine if ask.after is None or m[1] > ask.after])

    def overdue(self, at: datetime) -> list[vr.ReferralRow]:
        rows = [r for r in self._referral_rows() if r.overdue(at) and not _erased(r)]
        return sorted(rows, key=_due)

    def worklist(self, service_id: str) -> list[vr.ReferralRow]:
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

    def observatory_facts(self) -> vr.ObservatoryFacts:
        return vr.ObservatoryFacts(
            [_row(vr.CaseFact, case_row(c)) for c in self._cases()],
            [_row(vr.ReferralFact, r) for r in self._referral_rows()],
        )

    def relying_on_ended(self, at: datetime) -> list[UUID]:
        """``application.ports.EndedConsents``, from the aggregates as they are."""
        found = []
        for referral_id in self._store.ids_of(Referral):
            referral = self._store.get(Referral, referral_id)
            if referral.consent_id is None or not referral.is_active:
                continue
            case = self._store.get(Case, referral.case_id)
            consent = case.consents.get(referral.consent_id)
            if case.status != CaseStatus.ERASED and consent and not consent.is_active(at):
                found.append(referral_id)
        return found

    def catch_up(self) -> int:
        """Nothing to catch up: every read loads the aggregates as they are."""
        return 0

    # -- inside ------------------------------------------------------------------------

    def _cases(self) -> list[Case]:
        return [self._store.get(Case, i) for i in self._store.ids_of(Case)]

    def _case_row(self, case: Case) -> vr.CaseRow:
        assessed = [e for e in self._store.history_of(case.id) if isinstance(e, Case.RiskAssessed)]
        return case_row(case, _turns(assessed))

    def _referral_rows(self) -> list[vr.ReferralRow]:
        return [self._referral_row(i) for i in self._store.ids_of(Referral)]

    def _referral_row(self, referral_id: UUID, case: Case | None = None) -> vr.ReferralRow:
        referral = self._store.get(Referral, referral_id)
        case = case or self._store.get(Case, referral.case_id)
        sent, *later = self._store.history_of(referral_id)
        moves = [e for e in later if isinstance(e, Referral.Moved)]
        acknowledged = [m.timestamp for m in moves if m.to_status == ReferralStatus.ACKNOWLEDGED]
        answered = [m.timestamp for m in moves if ReferralStatus(m.to_status) in ANSWERS]
        return _row(
            vr.ReferralRow,
            referral,
            case_reference=case.reference_code,
            case_high_risk=case.high_risk,
            case_status=case.status,
            acknowledged_at=acknowledged[-1] if acknowledged else None,
            answered_at=answered[0] if answered else None,
            sealed=self._sealed(sent),
        )

    def _sealed(self, event: Any) -> vr.SealedPart:
        """The sealed personal part of an event's stored record, as a projection copies it."""
        stream_id, version = event.originator_id, event.originator_version
        (stored,) = self._store.recorder.select_events(stream_id, gt=version - 1, lte=version)
        _, blob = open_outer(
            self._store.keys, str(stream_id), version, stored.topic, stored.state, typed=False
        )
        assert blob is not None, f"{stored.topic} has no personal part"
        return vr.SealedPart(blob, stream_id, version, stored.topic)


def _row(kind: type[T], source: Any, **given: Any) -> T:
    """A row of ``kind``: the fields ``given``, the others read from ``source`` by name."""
    names = (f.name for f in dataclasses.fields(kind))  # type: ignore[arg-type]
    return kind(**{n: given[n] if n in given else getattr(source, n) for n in names})


def _turns(assessed: Sequence[Case.RiskAssessed]) -> frozenset[str]:
    """The assessments that turned the case's high-risk flag, as the cases view keeps them."""
    turns, high_risk = set(), False
    for event in assessed:
        if event.high_risk != high_risk:
            turns.add(event.assessment_id)
        high_risk = event.high_risk
    return frozenset(turns)


def _erased(row: vr.ReferralRow) -> bool:
    return row.case_status == CaseStatus.ERASED


def _due(row: vr.ReferralRow) -> datetime:
    due = row.due()
    assert due is not None
    return due


def _matches(row: vr.ReferralRow, terms: ReferralTerms, service_id: str) -> bool:
    """Urgency, kind and counterpart (the other side of ``service_id``)."""
    other = row.recipient_service if row.sender_service == service_id else row.sender_service
    return (
        (not terms.urgencies or row.urgency in terms.urgencies)
        and (not terms.kinds or row.kind in terms.kinds)
        and (not terms.counterparts or other in terms.counterparts)
    )
