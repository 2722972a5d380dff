"""The facts a publication counts, read from the log as it was recorded.

A publication of a month counts the cases opened and the referrals sent in it,
each as it stood at the close of the month: its status, and whether (and after
how long) it was acknowledged or answered by then. It reads the log up to a
position (``up_to``, kept in the publication), so that it can be told apart from
what came after: a case or referral recorded after the publication of its month
(a late fact) counts in the next publication made after it was recorded, never
by changing one already made.

The facts are folded event by event with ``facts.referral_after`` (the referral's
lifecycle, ``domain.referral_lifecycle``) and ``facts.case_fact_after``; nothing
else of an event is kept, and the ids that
tie an aggregate's events together are forgotten once the facts are counted.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate

from application.observatory.facts import (
    CaseFact,
    KindOf,
    ReferralFact,
    ReferralFolded,
    case_fact_after,
    referral_after,
)
from application.ports import EventStore
from domain.case import Case
from domain.publication import Cutoff, Month
from domain.referral import Referral

F = TypeVar("F", ReferralFolded, CaseFact)  # what is folded of a referral, of a case
PAGE = 500


@dataclass
class Timeline(Generic[F]):
    """One aggregate's fact after each event that changed it: (position, time, fact)."""

    steps: list[tuple[int, datetime, F]] = field(default_factory=list)

    @property
    def created(self) -> tuple[int, datetime]:
        position, at, _ = self.steps[0]
        return position, at

    def at(self, cutoff: Cutoff) -> F | None:
        """The fact at the close of a publication's month, as recorded up to it."""
        found = None
        for position, at, fact in self.steps:
            if position > cutoff.up_to or at >= cutoff.period_end:
                break
            found = fact
        return found

    def counts_in(self, cutoff: Cutoff, earlier: Sequence[Cutoff]) -> bool:
        """Whether it counts in the publication at ``cutoff``: recorded before it, of
        a month up to its own, and counted in none of the ``earlier`` ones."""

        def covers(c: Cutoff) -> bool:
            position, at = self.created
            return position <= c.up_to and at < c.period_end

        return covers(cutoff) and not any(covers(c) for c in earlier)


Step = Callable[[Aggregate.Event, F | None], F | None]


class Recorded:
    """Every case's and referral's facts through time, from one reading of the log."""

    def __init__(self, store: EventStore, kind_of: KindOf) -> None:
        self.kind_of = kind_of
        self.referrals: dict[UUID, Timeline[ReferralFolded]] = {}
        self.cases: dict[UUID, Timeline[CaseFact]] = {}
        self.up_to = 0
        after = 0
        while page := store.logged(after, PAGE):
            for logged in page:
                event = logged.event
                if isinstance(event, Referral.Event):
                    _follow(self.referrals, logged.position, event, referral_after)
                elif isinstance(event, Case.Event):
                    _follow(
                        self.cases,
                        logged.position,
                        event,
                        lambda e, f: case_fact_after(e, f, kind_of),
                    )
            after = self.up_to = page[-1].position

    def facts(
        self, cutoff: Cutoff, earlier: Sequence[Cutoff]
    ) -> tuple[list[ReferralFact], list[CaseFact]]:
        """The referrals and cases a publication counts, as they stood at its cut-off."""
        referrals = [r.fact(self.kind_of) for r in _counted(self.referrals, cutoff, earlier)]
        return referrals, _counted(self.cases, cutoff, earlier)

    def first_month(self) -> Month | None:
        """The month of the first case or referral recorded."""
        times = [t.created[1] for t in self.referrals.values()]
        times += [t.created[1] for t in self.cases.values()]
        return Month.of(min(times)) if times else None


def _follow(
    timelines: dict[UUID, Timeline[F]],
    position: int,
    event: Aggregate.Event,
    step: Step[F],
) -> None:
    timeline = timelines.get(event.originator_id)
    before = timeline.steps[-1][2] if timeline else None
    after = step(event, before)
    if after is None or after is before:
        return
    if timeline is None:
        timeline = timelines[event.originator_id] = Timeline()
    timeline.steps.append((position, event.timestamp, after))


def _counted(
    timelines: dict[UUID, Timeline[F]], cutoff: Cutoff, earlier: Sequence[Cutoff]
) -> list[F]:
    found = []
    for timeline in timelines.values():
        if timeline.counts_in(cutoff, earlier):
            fact = timeline.at(cutoff)
            if fact is not None:
                found.append(fact)
    return found
