"""The announcement: what a channel delivers, and all it ever carries.

Only ids, kinds, urgency, deadlines and a link: never a name, note, reason or any
sealed, personal or derived field. An email or a webhook payload lives in systems
Rete does not protect, so what is not here cannot leak from there.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal, get_args

import msgspec

# The kinds an announcement may have (English keys in every payload), as a type
# so that the API's OpenAPI document lists the same words.
AnnouncementKind = Literal[
    "referral.received",
    "referral.acknowledged",
    "referral.accepted",
    "referral.declined",
    "referral.withdrawn",
    "referral.suspended",
    "referral.completed",
    "referral.expired",
    "deadline.approaching",
    "deadline.missed",
    "referral.escalated",
    "consent.withdrawn",
    "case.erased",
]
KINDS: tuple[str, ...] = get_args(AnnouncementKind)


class Announcement(msgspec.Struct, frozen=True, kw_only=True):
    """One announcement to one service, at one place in the outbox."""

    # Stable across restarts and re-derivation: receivers drop repeats by it.
    id: str
    # Total order of the outbox: increasing, not necessarily without gaps.
    position: int
    kind: str
    # The service this announcement is for (its recipient).
    service: str
    occurred_at: datetime
    referral_id: str | None
    # The case's reference code carries no personal data (DOMAIN.md "Case").
    case_ref: str | None
    urgency: str | None
    deadline: datetime | None
    # The API path the recipient follows to read the content; the read is logged.
    link: str


def referral_link(referral_id: str) -> str:
    """Where the recipient reads the referral (``GET``, which logs the read)."""
    return f"/api/v1/referrals/{referral_id}"
