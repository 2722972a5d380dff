"""What the channels (webhook, SSE, email) rely on, and what they offer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

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
