"""What a case holds: entries (notes) in one category each, and the legal hold."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from domain.erased import Erased
from domain.vocabulary import Category


class CaseStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    ERASED = "erased"


@dataclass(frozen=True, slots=True)
class Entry:
    """A note in exactly one category, written by someone of one service."""

    id: str
    category: Category
    text: str | Erased
    author: str
    service_id: str
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class LegalHold:
    """Proceedings that forbid erasure until lifted."""

    reason: str | Erased
    placed_by: str
    placed_at: datetime


@dataclass(frozen=True, slots=True)
class ReferralLink:
    """What the case knows of a referral made on it: enough to find and suspend it."""

    referral_id: str
    sender_service: str
    recipient_service: str
    consent_id: str | None
    sent_at: datetime


@dataclass(frozen=True, slots=True)
class Erasure:
    reason: str
    erased_by: str
    erased_at: datetime
