"""What the observatory is answered: every table, hidden cells as ``null``.

``release`` builds and protects every table over all periods at once;
``publish`` cuts from it what a request asks for (one year by month, or every
year), so that two answers can never be set against each other.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import msgspec

from application.observatory.facts import CaseFact, ReferralFact
from application.observatory.periods import MONTHS, TOTAL, month_label, year_label
from application.observatory.suppression import (
    THRESHOLD,
    Protected,
    protect_counts,
    protect_times,
)
from application.observatory.tables import (
    CASE_TABLE,
    OUTCOME_TABLE,
    URGENCY_TABLE,
    Cell,
    Durations,
    case_table,
    referral_tables,
    time_tables,
)

TITLES = {
    CASE_TABLE: ("Cases opened, by the kind of service that owns them", "owner_kind", "cases"),
    "referrals_by_kind": ("Referrals sent, by what they ask", "kind", "referrals"),
    "referrals_by_sender_kind": (
        "Referrals sent, by kind of sending service",
        "sender_kind",
        "referrals",
    ),
    "referrals_by_recipient_kind": (
        "Referrals sent, by kind of receiving service",
        "recipient_kind",
        "referrals",
    ),
    URGENCY_TABLE: ("Referrals sent, by urgency", "urgency", "referrals"),
    OUTCOME_TABLE: ("Referrals sent, by their status today", "outcome", "referrals"),
    "time_to_acknowledge": (
        "Hours from sending to acknowledgement, by urgency (referrals acknowledged)",
        "urgency",
        "referrals",
    ),
    "time_to_answer": (
        "Hours from sending to the answer (accepted or declined), by urgency",
        "urgency",
        "referrals",
    ),
}


class CountCell(msgspec.Struct, frozen=True):
    value: int | None
    suppressed: bool = False


class CountRow(msgspec.Struct, frozen=True):
    key: str
    cells: list[CountCell]
    total: CountCell


class CountTable(msgspec.Struct, frozen=True):
    """Counts by row and period; ``total`` is the row of column totals, each row's
    ``total`` its total over the periods shown."""

    name: str
    title: str
    counts: str
    rows_are: str
    columns: list[str]
    rows: list[CountRow]
    total: CountRow


class TimeCell(msgspec.Struct, frozen=True):
    count: int | None
    median_hours: float | None
    suppressed: bool = False


class TimeRow(msgspec.Struct, frozen=True):
    key: str
    cells: list[TimeCell]
    total: TimeCell


class TimeTable(msgspec.Struct, frozen=True):
    """How many referrals it happened to, and the median hours it took (shown only
    with its count, when that is at least the threshold)."""

    name: str
    title: str
    rows_are: str
    columns: list[str]
    rows: list[TimeRow]
    total: TimeRow


class Stats(msgspec.Struct, frozen=True):
    """Everything the observatory may see: aggregates only, small counts suppressed."""

    year: int | None
    threshold: int
    tables: list[CountTable]
    times: list[TimeTable]


@dataclass(frozen=True)
class Release:
    """Every table, protected over all periods."""

    counts: Sequence[Protected]
    times: Sequence[tuple[Durations, Protected]]


def release(referrals: Sequence[ReferralFact], cases: Sequence[CaseFact]) -> Release:
    referral = protect_counts(referral_tables(referrals))
    by_name = {p.table.name: p for p in referral}
    acknowledge, answer = time_tables(referrals)
    protected = protect_times(acknowledge, answer, by_name[URGENCY_TABLE], by_name[OUTCOME_TABLE])
    return Release(
        counts=[*protect_counts([case_table(cases)]), *referral],
        times=list(zip((acknowledge, answer), protected, strict=True)),
    )


def _slice(groups: Sequence[str], year: int | None) -> tuple[list[str], str]:
    """The columns shown (years, or one year's months), and the column shown as
    each row's total (all years, or that year)."""
    if year is None:
        return list(groups), TOTAL
    return [month_label(year, m) for m in MONTHS], year_label(year)


def _count_table(protected: Protected, year: int | None) -> CountTable:
    table = protected.table
    columns, total = _slice(table.periods.groups, year)

    def cell(key: Cell) -> CountCell:
        if key not in table.counts:
            return CountCell(0)  # a year with nothing in it
        return CountCell(table[key]) if protected.shown(key) else CountCell(None, True)

    def row(key: str) -> CountRow:
        return CountRow(key, [cell((key, c)) for c in columns], cell((key, total)))

    title, rows_are, counts = TITLES[table.name]
    return CountTable(
        name=table.name,
        title=title,
        counts=counts,
        rows_are=rows_are,
        columns=columns,
        rows=[row(r) for r in table.rows],
        total=row(TOTAL),
    )


def _time_table(durations: Durations, protected: Protected, year: int | None) -> TimeTable:
    table = protected.table
    columns, total = (list(table.periods.leaves), TOTAL) if year is None else ([], year_label(year))

    def cell(key: Cell) -> TimeCell:
        if key not in table.counts:
            return TimeCell(0, None)
        if not protected.shown(key):
            return TimeCell(None, None, True)
        count = table[key]
        return TimeCell(count, durations.median(key) if count >= THRESHOLD else None)

    def row(key: str) -> TimeRow:
        return TimeRow(key, [cell((key, c)) for c in columns], cell((key, total)))

    title, rows_are, _ = TITLES[table.name]
    return TimeTable(
        name=table.name,
        title=title,
        rows_are=rows_are,
        columns=columns,
        rows=[row(r) for r in table.rows],
        total=row(TOTAL),
    )


def publish(made: Release, year: int | None = None) -> Stats:
    return Stats(
        year=year,
        threshold=THRESHOLD,
        tables=[_count_table(p, year) for p in made.counts],
        times=[_time_table(d, p, year) for d, p in made.times],
    )
