"""The observatory's publications: statistics of closed months, each published once.

Statistics computed afresh at every request can be set against each other: two
answers a day apart differ by what happened in between, however well each one
hides its small counts. So the observatory is answered only from publications:
one per calendar month (UTC), made once the month has ended, in order and
without gaps, and never changed. What happens later, or is recorded late, goes
into a later publication, never into an earlier one (docs/OBSERVATORY.md).

The publications of the network are one aggregate, so that each is an event of
the verified history: the ledger proves what was published, when, and by whom.
A publication holds aggregate tables only, numbers and the words of their rows
(``tables``, opaque here): no id, no text written by anyone, no personal data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from domain import errors
from domain.events import ActedEvent, NetworkEvent, SystemEvent, acted_by
from domain.network import Actor
from domain.vocabulary import Role

PUBLICATIONS_ID = uuid5(NAMESPACE_URL, "urn:rete:observatory-publications")


@dataclass(frozen=True, slots=True, order=True)
class Month:
    """A calendar month in UTC: the period of one publication."""

    year: int
    month: int

    @classmethod
    def of(cls, moment: datetime) -> Month:
        moment = moment.astimezone(UTC)
        return cls(moment.year, moment.month)

    @classmethod
    def parse(cls, label: str) -> Month:
        year, month = label.split("-")
        return cls(int(year), int(month))

    @property
    def label(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def start(self) -> datetime:
        return datetime(self.year, self.month, 1, tzinfo=UTC)

    @property
    def end(self) -> datetime:
        """The first moment after the month: where it closes."""
        return self.next().start

    def next(self) -> Month:
        return Month(self.year + self.month // 12, self.month % 12 + 1)


@dataclass(frozen=True, slots=True)
class Cutoff:
    """Where a publication stops: the close of its month, and the last position of
    the log it read."""

    period_end: datetime
    up_to: int


@dataclass(frozen=True, slots=True)
class Issue:
    """One publication as the aggregate keeps it."""

    month: Month
    cutoff: Cutoff
    tables: dict[str, Any]
    published_at: datetime


class PeriodNotClosed(errors.InvalidState):
    code = "period-not-closed"
    title = "Only a month that has ended can be published"


class PeriodOutOfOrder(errors.InvalidState):
    code = "period-out-of-order"
    title = "Months are published once each, in order"


class Publications(Aggregate):
    """Every publication of the observatory, in order: the only source of its answers."""

    class Event(NetworkEvent):
        aggregate = "publications"

    class Started(SystemEvent, Aggregate.Created):
        pass

    class Published(ActedEvent):
        """One month's tables. ``period_end`` is the cut-off of every fact in it;
        ``up_to`` the position in the log of the last event it read: a fact
        recorded after it counts in a later publication."""

        period: str
        period_end: datetime
        up_to: int
        tables: dict[str, Any]

        def apply(self, publications: Publications) -> None:
            cutoff = Cutoff(self.period_end, self.up_to)
            issue = Issue(Month.parse(self.period), cutoff, self.tables, self.timestamp)
            publications.issues.append(issue)

    @staticmethod
    def create_id() -> UUID:
        return PUBLICATIONS_ID

    def __init__(self) -> None:
        self.issues: list[Issue] = []

    @classmethod
    def start(cls, at: datetime) -> Publications:
        return cls._create(cls.Started, timestamp=at)

    @property
    def last(self) -> Month | None:
        return self.issues[-1].month if self.issues else None

    @property
    def cutoffs(self) -> list[Cutoff]:
        return [issue.cutoff for issue in self.issues]

    def publish(
        self, month: Month, up_to: int, tables: dict[str, Any], by: Actor, at: datetime
    ) -> None:
        """Record ``month``'s tables: only once it has ended, and only the month
        after the last one published (or any month, for the first)."""
        by.require(Role.ANALYST)
        if at < month.end:
            raise PeriodNotClosed(f"{month.label} has not ended yet")
        last = self.last
        if last is not None and month != last.next():  # (a month at a time: no gap)
            raise PeriodOutOfOrder(
                f"{month.label} cannot follow {last.label}: months are published once, in order"
            )
        if self.issues and up_to < self.issues[-1].cutoff.up_to:
            raise PeriodOutOfOrder("a publication reads the log at least as far as the last one")
        self.trigger_event(
            self.Published,
            timestamp=at,
            **acted_by(by),
            period=month.label,
            period_end=month.end,
            up_to=up_to,
            tables=tables,
        )
