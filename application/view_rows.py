"""The rows the views answer with (``application.view_ports``): non-personal facts,
and personal parts still sealed under their case key with the place they are
bound to."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar
from uuid import UUID

from domain.consent import Consent
from domain.entries import CaseStatus
from domain.referral_lifecycle import Lifecycle, StandsByLifecycle
from domain.vocabulary import Category, LegalBasis, ReferralKind, Urgency

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class SealedPart:
    """The personal fields of one stored event, sealed under its case key, and the
    place the seal is bound to: it opens there and nowhere else."""

    blob: bytes
    stream_id: UUID
    version: int
    topic: str


@dataclass(frozen=True, slots=True)
class Slice(Generic[T]):
    """One page of a list: its rows, and whether more follow."""

    items: list[T]
    more: bool


@dataclass(frozen=True, slots=True)
class CaseRow:
    id: UUID
    reference_code: str
    owner_service: str
    status: CaseStatus
    high_risk: bool | None  # derived from her risk assessments: None once erased
    legal_hold: bool
    opened_at: datetime
    version: int
    # The assessments that turned the flag (``application.visible_version``): None
    # once erased, as the flag.
    high_risk_turns: frozenset[str] | None = frozenset()


@dataclass(frozen=True, slots=True)
class EntryRow:
    case_id: UUID
    id: str
    category: Category
    author: str
    service_id: str
    recorded_at: datetime
    sealed: SealedPart  # holds "text"


@dataclass(frozen=True, slots=True)
class AssessmentRow:
    case_id: UUID
    id: str
    instrument_id: str
    service_id: str
    assessed_by: str
    assessed_at: datetime
    sealed: SealedPart  # holds answers, score, computed_level, level, justification


@dataclass(frozen=True, slots=True)
class ReferralRow(StandsByLifecycle):
    """A referral's non-personal facts, with its case's reference, high-risk flag and status.
    Attribute names follow ``domain.referral.Referral`` where they mean the same; where
    it stands (status, deadlines, what is due) is its ``lifecycle``, as the aggregate's."""

    id: UUID
    case_id: UUID
    case_reference: str
    case_high_risk: bool | None  # None once the case is erased
    case_status: CaseStatus
    sender_service: str
    recipient_service: str
    kind: ReferralKind
    urgency: Urgency
    scope: frozenset[Category]
    legal_basis: LegalBasis
    consent_id: str | None
    statute: str | None
    flagged_for_review: bool
    sent_by: str
    lifecycle: Lifecycle
    version: int
    sealed: SealedPart  # the Sent event's reason and justification

    def unescalated(self, at: datetime) -> bool:
        """Past the deadline it owes, and not yet escalated for it (the aggregate,
        ``Referral.escalate``, decides; this only picks whom to ask)."""
        return self.lifecycle.unescalated(at) is not None


@dataclass(frozen=True, slots=True)
class CaseRows:
    """Everything the views hold of one case, in the order it happened."""

    case: CaseRow
    entries: list[EntryRow]
    referrals: list[ReferralRow]
    consents: dict[str, Consent]  # non-personal terms: the domain's own value objects
    assessments: list[AssessmentRow]

    @property
    def owner_service(self) -> str:
        return self.case.owner_service

    def sealed_parts(self) -> list[SealedPart]:
        rows: Sequence[EntryRow | AssessmentRow | ReferralRow] = [
            *self.entries,
            *self.assessments,
            *self.referrals,
        ]
        return [row.sealed for row in rows]


@dataclass(frozen=True, slots=True)
class CaseStanding:
    """What decides which services may see a case: its owner, its consents, and the
    referrals made on it (``domain.visibility.access_of`` reads exactly these)."""

    owner_service: str
    consents: dict[str, Consent]
    referrals: list[ReferralRow]


@dataclass(frozen=True, slots=True)
class CaseFact:
    """A case as the observatory counts it: no personal data."""

    id: UUID
    owner_service: str
    status: CaseStatus
    high_risk: bool | None
    opened_at: datetime


@dataclass(frozen=True, slots=True)
class ReferralFact:
    """A referral as the observatory counts it: no personal data, no free text."""

    id: UUID
    case_id: UUID
    sender_service: str
    recipient_service: str
    kind: ReferralKind
    urgency: Urgency
    legal_basis: LegalBasis
    lifecycle: Lifecycle


@dataclass(frozen=True, slots=True)
class ObservatoryFacts:
    cases: list[CaseFact]
    referrals: list[ReferralFact]
