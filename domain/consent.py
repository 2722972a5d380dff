"""Consent: recorded by the owner service, never assumed; it may expire or be withdrawn."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from domain.network import Service
from domain.vocabulary import Category, ReferralKind, ServiceKind


@dataclass(frozen=True, slots=True)
class Consent:
    """What she agreed to share, with whom, for what, until when."""

    id: str
    recipient_kinds: frozenset[ServiceKind]
    recipient_services: frozenset[str]
    purposes: frozenset[ReferralKind]
    categories: frozenset[Category]
    recorded_at: datetime
    recorded_by: str
    expires_at: datetime | None = None
    withdrawn_at: datetime | None = None

    def is_active(self, at: datetime) -> bool:
        if self.withdrawn_at is not None and self.withdrawn_at <= at:
            return False
        return self.expires_at is None or at < self.expires_at

    def ends_at(self) -> datetime | None:
        """When this consent stops standing as a legal basis (withdrawal or expiry)."""
        ends = [t for t in (self.withdrawn_at, self.expires_at) if t is not None]
        return min(ends) if ends else None

    def names(self, recipient: Service) -> bool:
        return recipient.id in self.recipient_services or recipient.kind in self.recipient_kinds

    def covers(
        self,
        recipient: Service,
        kind: ReferralKind,
        scope: frozenset[Category],
        at: datetime,
    ) -> bool:
        """Does it cover this recipient, this purpose and every category in scope, now?"""
        return (
            self.is_active(at)
            and self.names(recipient)
            and kind in self.purposes
            and scope <= self.categories
        )

    def withdrawn(self, at: datetime) -> Consent:
        return replace(self, withdrawn_at=at)
