"""From the views' stored rows (already decoded by kind) to the read port's rows."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from application.view_ports import (
    AssessmentRow,
    CaseFact,
    CaseRow,
    EntryRow,
    ReferralFact,
    ReferralRow,
    SealedPart,
)
from domain.consent import Consent
from domain.entries import CaseStatus
from domain.referral_lifecycle import Deadline, Lifecycle, ReferralStatus
from domain.vocabulary import Category, LegalBasis, ReferralKind, ServiceKind, Urgency
from infrastructure.views.schema import unwords

Stored = Mapping[str, Any]


def sealed(row: Stored) -> SealedPart:
    return SealedPart(
        bytes(row["sealed"]),
        UUID(row["sealed_stream"]),
        int(row["sealed_version"]),
        str(row["sealed_topic"]),
    )


def _flag(value: object) -> bool | None:
    """A derived flag: null once the case is erased (``cases_view``)."""
    return None if value is None else bool(value)


def _turns(value: str | None) -> frozenset[str] | None:
    return None if value is None else frozenset(unwords(value))


def case_row(row: Stored) -> CaseRow:
    return CaseRow(
        id=UUID(row["id"]),
        reference_code=row["reference_code"],
        owner_service=row["owner_service"],
        status=CaseStatus(row["status"]),
        high_risk=_flag(row["high_risk"]),
        high_risk_turns=_turns(row["high_risk_turns"]),
        legal_hold=bool(row["legal_hold"]),
        opened_at=row["opened_at"],
        version=int(row["version"]),
    )


def case_fact(row: Stored) -> CaseFact:
    return CaseFact(
        id=UUID(row["id"]),
        owner_service=row["owner_service"],
        status=CaseStatus(row["status"]),
        high_risk=_flag(row["high_risk"]),
        opened_at=row["opened_at"],
    )


def entry_row(row: Stored) -> EntryRow:
    return EntryRow(
        case_id=UUID(row["case_id"]),
        id=row["entry_id"],
        category=Category(row["category"]),
        author=row["author"],
        service_id=row["service_id"],
        recorded_at=row["recorded_at"],
        sealed=sealed(row),
    )


def assessment_row(row: Stored) -> AssessmentRow:
    return AssessmentRow(
        case_id=UUID(row["case_id"]),
        id=row["assessment_id"],
        instrument_id=row["instrument_id"],
        service_id=row["service_id"],
        assessed_by=row["assessed_by"],
        assessed_at=row["assessed_at"],
        sealed=sealed(row),
    )


def consent(row: Stored) -> Consent:
    return Consent(
        id=row["consent_id"],
        recipient_kinds=frozenset(ServiceKind(k) for k in unwords(row["recipient_kinds"])),
        recipient_services=frozenset(unwords(row["recipient_services"])),
        purposes=frozenset(ReferralKind(p) for p in unwords(row["purposes"])),
        categories=frozenset(Category(c) for c in unwords(row["categories"])),
        recorded_at=row["recorded_at"],
        recorded_by=row["recorded_by"],
        expires_at=row["expires_at"],
        withdrawn_at=row["withdrawn_at"],
    )


def lifecycle(row: Stored) -> Lifecycle:
    """A referral's lifecycle from its columns (``referrals_view`` writes them)."""
    return Lifecycle(
        status=ReferralStatus(row["status"]),
        sent_at=row["sent_at"],
        acknowledge_by=row["acknowledge_by"],
        answer_by=row["answer_by"],
        acknowledged_at=row["acknowledged_at"],
        accepted_at=row["accepted_at"],
        answered_at=row["answered_at"],
        ended_at=row["ended_at"],
        escalations=frozenset(Deadline(d) for d in unwords(row["escalations"])),
    )


def referral_row(row: Stored) -> ReferralRow:
    """``row`` holds the referral's columns, and its case's as ``case_reference``,
    ``case_high_risk`` and ``case_status``."""
    return ReferralRow(
        id=UUID(row["id"]),
        case_id=UUID(row["case_id"]),
        case_reference=row["case_reference"],
        case_high_risk=_flag(row["case_high_risk"]),
        case_status=CaseStatus(row["case_status"]),
        sender_service=row["sender_service"],
        recipient_service=row["recipient_service"],
        kind=ReferralKind(row["kind"]),
        urgency=Urgency(row["urgency"]),
        scope=frozenset(Category(c) for c in unwords(row["scope"])),
        legal_basis=LegalBasis(row["legal_basis"]),
        consent_id=row["consent_id"],
        statute=row["statute"],
        flagged_for_review=bool(row["flagged"]),
        sent_by=row["sent_by"],
        lifecycle=lifecycle(row),
        version=int(row["version"]),
        sealed=sealed(row),
    )


def referral_fact(row: Stored) -> ReferralFact:
    return ReferralFact(
        id=UUID(row["id"]),
        case_id=UUID(row["case_id"]),
        sender_service=row["sender_service"],
        recipient_service=row["recipient_service"],
        kind=ReferralKind(row["kind"]),
        urgency=Urgency(row["urgency"]),
        legal_basis=LegalBasis(row["legal_basis"]),
        lifecycle=lifecycle(row),
    )
