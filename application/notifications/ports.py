"""What the channels (webhook, SSE, email) rely on, and what they offer."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol
from uuid import UUID

import msgspec

from application.notifications.announcement import Announcement


class DeliveryFailed(Exception):
    """A delivery that did not succeed and is worth trying again later."""


class AnnouncementFeed(Protocol):
    """The outbox, read in order of position, one service at a time."""

    def after(self, position: int, *, service: str, limit: int = 100) -> Sequence[Announcement]:
        """The service's announcements with a position greater than ``position``, in order."""
        ...

    def latest_position(self) -> int:
        """The highest position in the outbox (0 when it is empty)."""
        ...


class Channel(Protocol):
    """One way of delivering an announcement to its service."""

    name: str

    def wants(self, announcement: Announcement) -> bool:
        """Whether this channel delivers this announcement at all."""
        ...

    def deliver(self, announcement: Announcement) -> None:
        """Deliver it; raise ``DeliveryFailed`` on a failure worth retrying."""
        ...


class SecretBox(Protocol):
    """Seals a subscription's signing secret so that only Rete's processes open it."""

    def seal(self, secret: str, subscription_id: UUID) -> bytes: ...

    def open(self, sealed: bytes, subscription_id: UUID) -> str: ...


class SubscriptionRow(msgspec.Struct, frozen=True, kw_only=True):
    """A subscription as its service's coordinator reads it: never its secret."""

    id: str
    url: str
    kinds: list[str]
    created_at: datetime
    previous_secret_until: datetime | None


class DeadLetter(msgspec.Struct, frozen=True, kw_only=True):
    """An announcement a subscription gave up delivering (or held behind one that was)."""

    subscription_id: str
    announcement: Announcement
    attempts: int
    last_error: str
    failed_at: datetime


class Deliveries(Protocol):
    """The webhooks' delivery state, as a service's coordinator reads and replays it."""

    def subscriptions(self, service: str) -> Sequence[SubscriptionRow]: ...

    def dead_letters(self, service: str, limit: int = 100) -> Sequence[DeadLetter]: ...

    def replay(self, service: str, announcement_ids: Sequence[str] | None, at: datetime) -> int:
        """Queue the service's dead letters again (those named, or all), in their
        order, to be tried at once; how many were queued."""
        ...
