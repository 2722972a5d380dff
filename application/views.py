"""What queries return: plain structures with only what the reader may see.

A personal field of an erased case reads as ``null`` with ``erased: true`` on
the object that held it: explicit, never a crash, never a guess.
"""

from __future__ import annotations

from datetime import datetime

import msgspec


class EntryView(msgspec.Struct, frozen=True):
    id: str
    category: str
    text: str | None
    author: str
    service_id: str
    recorded_at: datetime
    erased: bool = False


class ConsentView(msgspec.Struct, frozen=True):
    id: str
    recipient_kinds: list[str]
    recipient_services: list[str]
    purposes: list[str]
    categories: list[str]
    recorded_at: datetime
    recorded_by: str
    expires_at: datetime | None
    withdrawn_at: datetime | None
    active: bool


class RiskAssessmentView(msgspec.Struct, frozen=True):
    id: str
    instrument_id: str
    answers: dict[str, bool] | None
    score: int | None
    computed_level: str | None
    level: str | None
    justification: str | None
    assessed_at: datetime
    assessed_by: str
    service_id: str
    erased: bool = False


class ReferralSummary(msgspec.Struct, frozen=True):
    """A referral in a list: every fact of it but its personal fields (reason and
    justification). Opening the referral shows them, and that read is logged."""

    id: str
    case_id: str
    case_reference: str
    sender_service: str
    recipient_service: str
    kind: str
    urgency: str
    scope: list[str]
    legal_basis: str
    consent_id: str | None
    statute: str | None
    flagged_for_review: bool
    status: str
    sent_by: str
    sent_at: datetime
    acknowledge_by: datetime
    answer_by: datetime
    ended_at: datetime | None
    overdue: bool
    high_risk: bool | None  # null once the case is erased
    version: int
    erased: bool = False


class ReferralView(ReferralSummary, frozen=True, kw_only=True):
    """One referral opened: its summary, and its reason and justification."""

    reason: str | None
    justification: str | None


class CaseSummary(msgspec.Struct, frozen=True):
    """A case in a list: its facts, and which categories the reader's service may
    see of it (listing reads nothing personal, so it is not logged)."""

    id: str
    reference_code: str
    owner_service: str
    status: str
    high_risk: bool | None  # derived from her risk assessments: null once erased
    legal_hold: bool
    opened_at: datetime
    # The reader's own: how many of the case's events its service can see (the ETag).
    version: int
    visible_categories: list[str]


class CaseView(CaseSummary, frozen=True, kw_only=True):
    """A case as one service may see it: its summary, and what of it the service may read."""

    entries: list[EntryView]
    consents: list[ConsentView]
    risk_assessments: list[RiskAssessmentView]
    referrals: list[ReferralView]


class CasePage(msgspec.Struct, frozen=True):
    """One page of cases; pass ``next_cursor`` back to get the next."""

    items: list[CaseSummary]
    next_cursor: str | None


class ReferralPage(msgspec.Struct, frozen=True):
    """One page of referrals; pass ``next_cursor`` back to get the next."""

    items: list[ReferralSummary]
    next_cursor: str | None


class AccessEntry(msgspec.Struct, frozen=True):
    """One read of a case's personal data: who, for which service, what, how, when."""

    id: str
    case_id: str
    user_id: str
    service_id: str
    categories: list[str]
    route: str
    kind: str
    reason: str | None
    read_at: datetime


class AccessLogPage(msgspec.Struct, frozen=True):
    """One page of a case's access log, newest first; pass ``next_cursor`` back."""

    items: list[AccessEntry]
    next_cursor: str | None
