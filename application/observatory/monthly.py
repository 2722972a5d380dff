"""One month's publication: its tables built and protected on their own, kept as
numbers only (``MonthTables``), ready to be stored in a ``Publications.Published``
event and never recomputed.

Each table has a single period, the month: a row's count, and the month's total.
Small counts are hidden and enough others with them (``suppression``), exactly as
within any table; what was hidden reads ``None``. Nothing of a single fact is
kept: no id, no time, no hours but the medians that may be shown.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import msgspec

from application.observatory.facts import CaseFact, ReferralFact
from application.observatory.periods import TOTAL, Periods
from application.observatory.publication import release
from application.observatory.suppression import THRESHOLD, Protected
from application.observatory.tables import Durations
from domain.publication import Month


class MonthCounts(msgspec.Struct, frozen=True):
    """A count table of one month: each row's count and the total (``None``: hidden)."""

    name: str
    rows: list[str]
    values: list[int | None]
    total: int | None


class MonthTimes(msgspec.Struct, frozen=True):
    """A time table of one month: how many referrals it happened to, and the median
    hours (only with a count shown of at least the threshold)."""

    name: str
    rows: list[str]
    counts: list[int | None]
    medians: list[float | None]
    total: int | None
    total_median: float | None


class MonthTables(msgspec.Struct, frozen=True):
    counts: list[MonthCounts]
    times: list[MonthTimes]


def _value(protected: Protected, row: str, label: str) -> int | None:
    """A row's count, unless hidden. The row's total over the single period is the
    same number: hidden with it (the line rule keeps them alike), either one hides."""
    cells = ((row, label), (row, TOTAL))
    return protected.table[cells[0]] if all(protected.shown(c) for c in cells) else None


def _counts(protected: Protected, label: str) -> MonthCounts:
    table = protected.table
    return MonthCounts(
        name=table.name,
        rows=list(table.rows),
        values=[_value(protected, r, label) for r in table.rows],
        total=_value(protected, TOTAL, label),
    )


def _times(durations: Durations, protected: Protected, label: str) -> MonthTimes:
    def median(row: str) -> float | None:
        count = _value(protected, row, label)
        if count is None or count < THRESHOLD:
            return None
        return durations.median((row, label))

    rows = list(protected.table.rows)
    return MonthTimes(
        name=protected.table.name,
        rows=rows,
        counts=[_value(protected, r, label) for r in rows],
        medians=[median(r) for r in rows],
        total=_value(protected, TOTAL, label),
        total_median=median(TOTAL),
    )


def month_tables(
    month: Month, referrals: Sequence[ReferralFact], cases: Sequence[CaseFact]
) -> MonthTables:
    """The tables of one publication: every fact given counts in ``month``."""
    label = month.label
    made = release(referrals, cases, Periods(leaves=(label,)), lambda _: label)
    return MonthTables(
        counts=[_counts(p, label) for p in made.counts],
        times=[_times(d, p, label) for d, p in made.times],
    )


def by_month(
    referrals: Sequence[ReferralFact], cases: Sequence[CaseFact]
) -> list[tuple[Month, MonthTables]]:
    """Every month from the first fact's to the last one's, each published with the
    facts of that month: the publications a network would have made on time."""
    months: dict[Month, tuple[list[ReferralFact], list[CaseFact]]] = defaultdict(lambda: ([], []))
    for r in referrals:
        months[Month.of(r.sent_at)][0].append(r)
    for c in cases:
        months[Month.of(c.opened_at)][1].append(c)
    if not months:
        return []
    month, last, found = min(months), max(months), []
    while month <= last:
        facts = months.get(month, ([], []))
        found.append((month, month_tables(month, *facts)))
        month = month.next()
    return found
