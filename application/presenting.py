"""Turning what the application holds into views, keeping only what the reader's
access allows.

Reads come from the views' rows (``application.view_rows``) with their personal
parts opened at read time; a command answers from the aggregate it just changed.
Both go through the same functions here: rows become the domain's own values
(``Entry``, ``RiskAssessment``) or answer the same small protocols as the
aggregates, so a reader sees one shape whichever side answered.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol, TypeVar
from uuid import UUID

import msgspec

from application.authorisation import (
    shows_assessment,
    shows_consents,
    shows_entry,
    shows_referral,
)
from application.view_rows import (
    AssessmentRow,
    CaseRow,
    CaseRows,
    EntryRow,
    ReferralRow,
    SealedPart,
)
from application.views import (
    CaseSummary,
    CaseView,
    ConsentView,
    EntryView,
    ReferralSummary,
    ReferralView,
    RiskAssessmentView,
)
from application.visible_version import visible_version
from domain.case import Case
from domain.consent import Consent
from domain.entries import CaseStatus, Entry
from domain.erased import ERASED, Erased, unless_erased
from domain.risk import RiskAssessment, RiskLevel
from domain.visibility import CaseAccess
from domain.vocabulary import Category

T = TypeVar("T")
Opened = Mapping[str, Any] | Erased
OpenPart = Callable[[SealedPart], Opened]


def shown(value: T | Erased) -> T | None:
    """A personal value as a reader gets it: itself, or null once erased."""
    return None if isinstance(value, Erased) else value


def _field(opened: Opened, name: str) -> Any:
    return ERASED if isinstance(opened, Erased) else opened.get(name)


# -- entries and assessments ----------------------------------------------------


def entry_view(e: Entry, case_erased: bool = False) -> EntryView:
    # An erased case reads as erased even where a process still holds its key
    # for a few seconds (the key store's cache bound): the status is the truth.
    erased = case_erased or isinstance(e.text, Erased)
    return EntryView(
        e.id,
        e.category,
        None if erased else shown(e.text),
        e.author,
        e.service_id,
        e.recorded_at,
        erased=erased,
    )


def entry_of(row: EntryRow, opened: Opened) -> Entry:
    return Entry(
        row.id, row.category, _field(opened, "text"), row.author, row.service_id, row.recorded_at
    )


def assessment_view(a: RiskAssessment, case_erased: bool = False) -> RiskAssessmentView:
    if case_erased:
        a = erased_assessment(a)
    answers = shown(a.answers)
    return RiskAssessmentView(
        id=a.id,
        instrument_id=a.instrument_id,
        answers=dict(answers) if answers is not None else None,
        score=shown(a.score),
        computed_level=shown(a.computed_level),
        level=shown(a.level),
        justification=shown(a.justification),
        assessed_at=a.assessed_at,
        assessed_by=a.assessed_by,
        service_id=a.service_id,
        erased=isinstance(a.level, Erased),
    )


def assessment_of(row: AssessmentRow, opened: Opened) -> RiskAssessment:
    return RiskAssessment(
        id=row.id,
        instrument_id=row.instrument_id,
        answers=unless_erased(_field(opened, "answers"), dict),
        score=_field(opened, "score"),
        computed_level=unless_erased(_field(opened, "computed_level"), RiskLevel),
        level=unless_erased(_field(opened, "level"), RiskLevel),
        justification=_field(opened, "justification"),
        assessed_at=row.assessed_at,
        assessed_by=row.assessed_by,
        service_id=row.service_id,
    )


def erased_assessment(a: RiskAssessment) -> RiskAssessment:
    return replace(
        a,
        answers=ERASED,
        score=ERASED,
        computed_level=ERASED,
        level=ERASED,
        justification=ERASED,
    )


def consent_view(consent: Consent, at: datetime) -> ConsentView:
    return ConsentView(
        id=consent.id,
        recipient_kinds=sorted(consent.recipient_kinds),
        recipient_services=sorted(consent.recipient_services),
        purposes=sorted(consent.purposes),
        categories=sorted(consent.categories),
        recorded_at=consent.recorded_at,
        recorded_by=consent.recorded_by,
        expires_at=consent.expires_at,
        withdrawn_at=consent.withdrawn_at,
        active=consent.is_active(at),
    )


# -- referrals --------------------------------------------------------------------


class ReferralFacts(Protocol):
    """A referral's non-personal facts: the aggregate and the view's row both have them."""

    @property
    def id(self) -> UUID: ...
    @property
    def case_id(self) -> UUID: ...
    @property
    def sender_service(self) -> str: ...
    @property
    def recipient_service(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def urgency(self) -> str: ...
    @property
    def scope(self) -> frozenset[Category]: ...
    @property
    def legal_basis(self) -> str: ...
    @property
    def consent_id(self) -> str | None: ...
    @property
    def statute(self) -> str | None: ...
    @property
    def flagged_for_review(self) -> bool: ...
    @property
    def status(self) -> str: ...
    @property
    def sent_by(self) -> str: ...
    @property
    def sent_at(self) -> datetime: ...
    @property
    def acknowledge_by(self) -> datetime: ...
    @property
    def answer_by(self) -> datetime: ...
    @property
    def ended_at(self) -> datetime | None: ...
    @property
    def version(self) -> int: ...
    def overdue(self, at: datetime) -> bool: ...


def high_risk_shown(high_risk: bool | None, erased: bool) -> bool | None:
    """The case's high-risk flag as a service is shown it: derived from her risk
    assessments (``Case.RiskAssessed.DERIVED_FIELDS``), it is unknown once the case
    is erased, whatever a row or a process still holds."""
    return None if erased else high_risk


@dataclass(frozen=True, slots=True)
class CaseMark:
    """What a referral shows of its case."""

    reference_code: str
    high_risk: bool | None
    erased: bool

    @classmethod
    def of_case(cls, case: Case) -> CaseMark:
        erased = case.status == CaseStatus.ERASED
        return cls(case.reference_code, high_risk_shown(case.high_risk, erased), erased)

    @classmethod
    def of_row(cls, row: ReferralRow) -> CaseMark:
        erased = row.case_status == CaseStatus.ERASED
        return cls(row.case_reference, high_risk_shown(row.case_high_risk, erased), erased)


def referral_summary(r: ReferralFacts, case: CaseMark, at: datetime) -> ReferralSummary:
    """The referral for a list or a move's answer: no personal field."""
    return ReferralSummary(**_referral_facts(r, case, at))


def referral_view(
    r: ReferralFacts,
    case: CaseMark,
    at: datetime,
    reason: str | Erased,
    justification: str | Erased | None,
) -> ReferralView:
    erased = case.erased or isinstance(reason, Erased)
    return ReferralView(
        **_referral_facts(r, case, at),
        reason=None if erased else shown(reason),
        justification=None if erased else shown(justification),
    )


def referral_view_of(row: ReferralRow, opened: Opened, at: datetime) -> ReferralView:
    return referral_view(
        row,
        CaseMark.of_row(row),
        at,
        _field(opened, "reason"),
        _field(opened, "justification"),
    )


def _referral_facts(r: ReferralFacts, case: CaseMark, at: datetime) -> dict[str, Any]:
    return {
        "id": str(r.id),
        "case_id": str(r.case_id),
        "case_reference": case.reference_code,
        "sender_service": r.sender_service,
        "recipient_service": r.recipient_service,
        "kind": r.kind,
        "urgency": r.urgency,
        "scope": sorted(r.scope),
        "legal_basis": r.legal_basis,
        "consent_id": r.consent_id,
        "statute": r.statute,
        "flagged_for_review": r.flagged_for_review,
        "status": r.status,
        "sent_by": r.sent_by,
        "sent_at": r.sent_at,
        "acknowledge_by": r.acknowledge_by,
        "answer_by": r.answer_by,
        "ended_at": r.ended_at,
        "overdue": r.overdue(at),
        "high_risk": case.high_risk,
        "version": r.version,
        "erased": case.erased,
    }


# -- cases ------------------------------------------------------------------------


def case_row(case: Case, high_risk_turns: frozenset[str] = frozenset()) -> CaseRow:
    """A case aggregate as the views would hold it (for a command's answer), with
    the assessments that turned its high-risk flag (the aggregate does not keep them;
    a new case has none)."""
    return CaseRow(
        id=case.id,
        reference_code=case.reference_code,
        owner_service=case.owner_service,
        status=case.status,
        high_risk=case.high_risk,
        legal_hold=case.legal_hold is not None,
        opened_at=case.created_on,
        version=case.version,
        high_risk_turns=None if case.status == CaseStatus.ERASED else high_risk_turns,
    )


def case_summary(case: CaseRow, access: CaseAccess, version: int) -> CaseSummary:
    """The case's non-personal facts, with ``version`` as the reader sees it
    (``application.visible_version``)."""
    return CaseSummary(
        id=str(case.id),
        reference_code=case.reference_code,
        owner_service=case.owner_service,
        status=case.status,
        high_risk=high_risk_shown(case.high_risk, case.status == CaseStatus.ERASED),
        legal_hold=case.legal_hold,
        opened_at=case.opened_at,
        version=version,
        visible_categories=sorted(access.categories),
    )


def case_view(rows: CaseRows, access: CaseAccess, open_part: OpenPart, at: datetime) -> CaseView:
    """The case as one service may see it (``application.authorisation`` says what
    it shows): entries and assessments filtered by category and time; referrals it
    takes part in; consents for the owner only. Only what passes the rule is opened.
    Its version is the reader's own: it counts only the events the reader can see."""
    case = rows.case
    erased = case.status == CaseStatus.ERASED

    def opened(part: SealedPart) -> Opened:
        # An erased case opens nothing, even where this process still holds its key.
        return ERASED if erased else open_part(part)

    entries = [
        entry_view(entry_of(e, opened(e.sealed)), erased)
        for e in rows.entries
        if shows_entry(access, e)
    ]
    assessments = [
        assessment_view(assessment_of(a, opened(a.sealed)), erased)
        for a in rows.assessments
        if shows_assessment(access, a)
    ]
    referrals = [
        referral_view_of(r, opened(r.sealed), at)
        for r in rows.referrals
        if shows_referral(access, r.sender_service, r.recipient_service)
    ]
    return CaseView(
        **msgspec.structs.asdict(case_summary(case, access, visible_version(rows, access))),
        entries=entries,
        consents=[consent_view(c, at) for c in rows.consents.values()]
        if shows_consents(access)
        else [],
        risk_assessments=assessments,
        referrals=referrals,
    )
