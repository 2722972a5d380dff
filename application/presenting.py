"""Turning aggregates into views, keeping only what the reader's access allows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import TypeVar

import msgspec

from application.views import (
    CaseSummary,
    CaseView,
    ConsentView,
    EntryView,
    ReferralSummary,
    ReferralView,
    RiskAssessmentView,
)
from domain.case import Case
from domain.consent import Consent
from domain.entries import CaseStatus, Entry
from domain.erased import ERASED, Erased
from domain.referral import Referral
from domain.risk import RiskAssessment
from domain.visibility import CaseAccess
from domain.vocabulary import Category

T = TypeVar("T")


def shown(value: T | Erased) -> T | None:
    """A personal value as a reader gets it: itself, or null once erased."""
    return None if isinstance(value, Erased) else value


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


def erased_assessment(a: RiskAssessment) -> RiskAssessment:
    return replace(
        a,
        answers=ERASED,
        score=ERASED,
        computed_level=ERASED,
        level=ERASED,
        justification=ERASED,
    )


def referral_view(referral: Referral, case: Case, at: datetime) -> ReferralView:
    erased = case.status == CaseStatus.ERASED or isinstance(referral.reason, Erased)
    return ReferralView(
        id=str(referral.id),
        case_id=str(referral.case_id),
        case_reference=case.reference_code,
        sender_service=referral.sender_service,
        recipient_service=referral.recipient_service,
        kind=referral.kind,
        urgency=referral.urgency,
        reason=None if erased else shown(referral.reason),
        scope=sorted(referral.scope),
        legal_basis=referral.legal_basis,
        consent_id=referral.consent_id,
        statute=referral.statute,
        justification=None if erased else shown(referral.justification),
        flagged_for_review=referral.flagged_for_review,
        status=referral.status,
        sent_by=referral.sent_by,
        sent_at=referral.sent_at,
        acknowledge_by=referral.acknowledge_by,
        answer_by=referral.answer_by,
        ended_at=referral.ended_at,
        overdue=referral.overdue(at),
        high_risk=case.high_risk,
        version=referral.version,
        erased=erased,
    )


def referral_summary(referral: Referral, case: Case, at: datetime) -> ReferralSummary:
    """The referral for a list: the same facts as its view, without its personal fields."""
    facts = msgspec.structs.asdict(referral_view(referral, case, at))
    del facts["reason"], facts["justification"]
    return ReferralSummary(**facts)


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


def case_summary(case: Case) -> CaseSummary:
    return CaseSummary(
        id=str(case.id),
        reference_code=case.reference_code,
        owner_service=case.owner_service,
        status=case.status,
        high_risk=case.high_risk,
        opened_at=case.created_on,
        version=case.version,
    )


def case_view(
    case: Case, referrals: Sequence[Referral], access: CaseAccess, at: datetime
) -> CaseView:
    """The case as one service may see it: entries and assessments filtered by
    category and time; referrals it takes part in; consents for the owner only."""
    erased = case.status == CaseStatus.ERASED
    entries = [entry_view(e, erased) for e in case.entries if access.sees(e)]
    assessments = [
        assessment_view(a, erased)
        for a in case.assessments
        if a.service_id == access.service_id
        or access.sees_category_at(Category.RISK, a.assessed_at)
    ]
    taking_part = [
        r
        for r in referrals
        if access.owner or access.service_id in (r.sender_service, r.recipient_service)
    ]
    return CaseView(
        id=str(case.id),
        reference_code=case.reference_code,
        owner_service=case.owner_service,
        status=case.status,
        high_risk=case.high_risk,
        legal_hold=case.legal_hold is not None,
        opened_at=case.created_on,
        version=case.version,
        visible_categories=sorted(access.categories),
        entries=entries,
        consents=[consent_view(c, at) for c in case.consents.values()] if access.owner else [],
        risk_assessments=assessments,
        referrals=[referral_view(r, case, at) for r in taking_part],
    )
