"""Deadlines follow urgency: when a referral must be acknowledged, and answered."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from domain.vocabulary import Urgency


@dataclass(frozen=True, slots=True)
class Deadlines:
    acknowledge_by: datetime
    answer_by: datetime


def _defaults() -> dict[Urgency, tuple[timedelta, timedelta]]:
    # DOMAIN.md defaults: (acknowledge within, answer within).
    return {
        Urgency.EMERGENCY: (timedelta(hours=1), timedelta(hours=4)),
        Urgency.URGENT: (timedelta(hours=24), timedelta(hours=72)),
        Urgency.ROUTINE: (timedelta(hours=72), timedelta(days=10)),
    }


@dataclass(frozen=True, slots=True)
class DeadlinePolicy:
    """How long each urgency gives the recipient; configurable per network."""

    limits: Mapping[Urgency, tuple[timedelta, timedelta]] = field(default_factory=_defaults)

    def for_referral(self, urgency: Urgency, sent_at: datetime) -> Deadlines:
        acknowledge_within, answer_within = self.limits[urgency]
        return Deadlines(sent_at + acknowledge_within, sent_at + answer_within)
