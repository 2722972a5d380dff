"""The observatory's tables, as they truly are: counts by row and period, with totals.

These are never published as such: ``suppression`` decides which cells are shown.
A cell is ``(row, column)``; the row ``total`` holds the column totals, the column
``total`` (and each year's column, for monthly tables) the row totals.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from statistics import median

from application.observatory.facts import CaseFact, ReferralFact
from application.observatory.periods import TOTAL, Periods, month_label, year_label
from domain.referral import ReferralStatus
from domain.vocabulary import CASE_WORKING_KINDS, ReferralKind, ServiceKind, Urgency

Cell = tuple[str, str]

SERVICE_KINDS = tuple(k.value for k in ServiceKind if k in CASE_WORKING_KINDS)
URGENCIES = (Urgency.EMERGENCY.value, Urgency.URGENT.value, Urgency.ROUTINE.value)


@dataclass(frozen=True)
class Table:
    """One table: its rows, its periods, and the true count of every cell."""

    name: str
    rows: tuple[str, ...]
    periods: Periods
    counts: Mapping[Cell, int]

    def cells(self) -> list[Cell]:
        return [(row, column) for row in (*self.rows, TOTAL) for column in self.periods.columns]

    def __getitem__(self, cell: Cell) -> int:
        return self.counts[cell]


def tabulate(
    name: str, rows: Sequence[str], periods: Periods, items: Iterable[tuple[str, str]]
) -> Table:
    """Count ``(row, leaf period)`` items into a table with every total filled in.
    Rows found in the items but not in ``rows`` are added at the end."""
    found = Counter(items)
    all_rows = (*rows, *sorted({row for row, _ in found} - set(rows)))
    counts: dict[Cell, int] = defaultdict(int)
    for (row, leaf), n in found.items():
        for r in (row, TOTAL):
            for column in (leaf, periods.group_of.get(leaf), TOTAL):
                if column is not None:
                    counts[r, column] += n
    table = Table(name, all_rows, periods, {})
    return Table(name, all_rows, periods, {cell: counts[cell] for cell in table.cells()})


@dataclass(frozen=True)
class Dimension:
    """A way of counting referrals: the table's name, its row words, the fact's value."""

    table: str
    label: str
    rows: tuple[str, ...]
    value: Callable[[ReferralFact], str]


REFERRAL_DIMENSIONS = (
    Dimension("referrals_by_kind", "kind", tuple(k.value for k in ReferralKind), lambda f: f.kind),
    Dimension("referrals_by_sender_kind", "sender_kind", SERVICE_KINDS, lambda f: f.sender_kind),
    Dimension(
        "referrals_by_recipient_kind", "recipient_kind", SERVICE_KINDS, lambda f: f.recipient_kind
    ),
    Dimension("referrals_by_urgency", "urgency", URGENCIES, lambda f: f.urgency),
    Dimension(
        "referrals_by_outcome",
        "outcome",
        tuple(s.value for s in ReferralStatus),
        lambda f: f.outcome,
    ),
)
URGENCY_TABLE = "referrals_by_urgency"
OUTCOME_TABLE = "referrals_by_outcome"
CASE_TABLE = "cases_by_owner_kind"


Column = Callable[[ReferralFact | CaseFact], str]
"""The period column a fact counts in (its month, unless a publication says otherwise)."""


def _month(fact: ReferralFact | CaseFact) -> str:
    return month_label(fact.year, fact.month)


def referral_tables(
    facts: Sequence[ReferralFact], periods: Periods | None = None, column: Column = _month
) -> list[Table]:
    """Referrals by kind, sender kind, recipient kind, urgency and outcome: by month,
    or over ``periods`` with each fact in its ``column``."""
    periods = periods or Periods.monthly(f.year for f in facts)
    return [
        tabulate(d.table, d.rows, periods, ((str(d.value(f)), column(f)) for f in facts))
        for d in REFERRAL_DIMENSIONS
    ]


def case_table(
    facts: Sequence[CaseFact], periods: Periods | None = None, column: Column = _month
) -> Table:
    """Cases opened, by the kind of the service that owns them: by month, or over
    ``periods`` with each fact in its ``column``."""
    periods = periods or Periods.monthly(f.year for f in facts)
    items = ((f.owner_kind, column(f)) for f in facts)
    return tabulate(CASE_TABLE, SERVICE_KINDS, periods, items)


@dataclass(frozen=True)
class Durations:
    """How long something took, by urgency and year: how many, and the hours of each."""

    table: Table
    hours: Mapping[Cell, tuple[float, ...]] = field(default_factory=dict)

    def median(self, cell: Cell) -> float | None:
        values = self.hours.get(cell, ())
        return round(median(values), 1) if values else None


ACKNOWLEDGE_TABLE = "time_to_acknowledge"
ANSWER_TABLE = "time_to_answer"


def _year(fact: ReferralFact | CaseFact) -> str:
    return year_label(fact.year)


def durations(
    name: str,
    facts: Sequence[ReferralFact],
    hours_of: Callable[[ReferralFact], float | None],
    periods: Periods | None = None,
    column: Column = _year,
) -> Durations:
    """The referrals the event happened to, by urgency and year of sending (or over
    ``periods``, each in its ``column``), with the hours from sending to the event."""
    periods = periods or Periods.yearly(f.year for f in facts)
    timed = [(f, h) for f in facts if (h := hours_of(f)) is not None]
    items = ((f.urgency.value, column(f)) for f, _ in timed)
    table = tabulate(name, URGENCIES, periods, items)
    hours: dict[Cell, list[float]] = defaultdict(list)
    for f, h in timed:
        for row in (f.urgency.value, TOTAL):
            for at in (column(f), TOTAL):
                hours[row, at].append(h)
    return Durations(table, {cell: tuple(sorted(v)) for cell, v in hours.items()})


def time_tables(
    facts: Sequence[ReferralFact], periods: Periods | None = None, column: Column = _year
) -> tuple[Durations, Durations]:
    """Time to acknowledge, and time to answer (accept or decline): by year, or over
    ``periods`` with each fact in its ``column``."""
    return (
        durations(ACKNOWLEDGE_TABLE, facts, lambda f: f.hours_to_acknowledge, periods, column),
        durations(ANSWER_TABLE, facts, lambda f: f.hours_to_answer, periods, column),
    )
