"""A person reads their service's announcements, in order: the desk application's stream.

The announcements are the outbox's (``AnnouncementFeed``), read by position: a
reader that remembers the last position it received (the SSE stream's
``Last-Event-ID``) asks for what came after it and misses nothing, sees nothing
twice. Who may read: the people who work referrals (caseworkers and
coordinators), and only their own service's announcements; what they read
carries no personal data, and following its link is an ordinary, logged read.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from application.authorisation import Action, authorise
from application.notifications.announcement import Announcement
from application.notifications.ports import AnnouncementFeed
from domain import errors
from domain.network import Actor

MAX_PAGE: Final = 500


class InvalidPosition(errors.InvalidValue):
    code = "invalid-position"
    title = "Not a position in the announcements"


class NoAnnouncements:
    """The feed of an application assembled without an outbox: always empty."""

    def after(self, position: int, *, service: str, limit: int = 100) -> Sequence[Announcement]:
        return []

    def latest_position(self) -> int:
        return 0


class AnnouncementReader:
    def __init__(self, feed: AnnouncementFeed | None = None) -> None:
        self._feed: AnnouncementFeed = feed if feed is not None else NoAnnouncements()

    def start(self, actor: Actor, after: int | None) -> int:
        """Where a reader starts: after the position it names, or, naming none, after
        the latest announcement (it hears what happens from now on)."""
        authorise(actor, Action.WORK_CASES)
        return self._feed.latest_position() if after is None else after

    def after(self, actor: Actor, position: int, limit: int = 100) -> Sequence[Announcement]:
        """The actor's service's announcements after ``position``, oldest first."""
        authorise(actor, Action.WORK_CASES)
        if position < 0:
            raise InvalidPosition("a position is a whole number from 0")
        limit = max(1, min(limit, MAX_PAGE))
        return self._feed.after(position, service=actor.service.id, limit=limit)

    def latest_position(self) -> int:
        """The outbox's highest position, for the stream's watch: a count, naming
        no service and nothing about any announcement."""
        return self._feed.latest_position()
