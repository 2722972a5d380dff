"""The demo's time: its own clock, and the moments a chapter names.

The clock (:class:`StoryClock`) starts a few weeks before the real "now" of the
application's clock and is moved step by step, so cases appear opened over the
past weeks and an emergency referral can be left unanswered past its deadline;
it never moves past the real "now".
"""

from __future__ import annotations

from collections.abc import Generator
from datetime import datetime, timedelta

from application.ports import Clock

STORY_DAYS = 28

# What a chapter yields: when (from the story's first midnight) its next step happens.
Chapter = Generator[timedelta, None, None]


def at(day: int, hhmm: str) -> timedelta:
    """Day ``day`` of the story at ``hhmm`` (UTC)."""
    hours, minutes = (int(part) for part in hhmm.split(":"))
    return timedelta(days=day, hours=hours, minutes=minutes)


class StoryClock:
    """The demo's clock: starts ``days`` before the real now, only moves forward,
    and never past the real now."""

    def __init__(self, real: Clock, days: int = STORY_DAYS) -> None:
        self._real = real
        start = real.now() - timedelta(days=days)
        self.start = start.replace(hour=0, minute=0, second=0, microsecond=0)
        self._at = self.start

    def now(self) -> datetime:
        return self._at

    def move_to(self, offset: timedelta) -> None:
        target = self.start + offset
        if target < self._at:
            raise ValueError("the story clock only moves forward")
        if target > self._real.now():
            raise ValueError("the story cannot happen after the real now")
        self._at = target
