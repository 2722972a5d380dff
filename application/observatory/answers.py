"""What the observatory is answered, put together from publications only.

With a year: one column per month of that year that was published. Without:
one column per year with a publication. A total over several months (a year's
column, a row's total) is the sum of the published numbers it covers, shown only
when every one of them is shown: then it says nothing they did not say, and,
being a sum of counts that are each 0 or at least 5, it is itself 0 or at least
5. So an answer never tells more than its publications, and two answers given
at different times differ only by whole publications, each protected on its own.

A median over several months cannot be worked out from theirs: a total shows one
only when a single month of it had any referral (then it is that month's).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from application.observatory.monthly import MonthCounts, MonthTables, MonthTimes, month_tables
from application.observatory.periods import TOTAL
from application.observatory.publication import (
    TITLES,
    CountCell,
    CountRow,
    CountTable,
    Stats,
    TimeCell,
    TimeRow,
    TimeTable,
)
from application.observatory.suppression import THRESHOLD
from domain.publication import Month

Published = Sequence[tuple[Month, MonthTables]]
Group = tuple[str, Sequence[MonthTables]]
"""A column of an answer: its label and the publications it adds up."""


def _groups(published: Published, year: int | None) -> list[Group]:
    if year is not None:
        return [(m.label, [t]) for m, t in published if m.year == year]
    years = sorted({m.year for m, _ in published})
    return [(f"{y:04d}", [t for m, t in published if m.year == y]) for y in years]


def _rows(template: Sequence[str], tables: Sequence[MonthCounts | MonthTimes]) -> list[str]:
    """Every row of the table, then any a publication added (a kind of service no
    longer in the directory), in the order they first come."""
    rows = list(template)
    for t in tables:
        rows.extend(r for r in t.rows if r not in rows)
    return rows


def _count(cells: Sequence[int | None]) -> CountCell:
    """A sum of published counts: hidden as soon as one of them is."""
    if any(c is None for c in cells):
        return CountCell(None, True)
    return CountCell(sum(c for c in cells if c is not None))


def _month_count(table: MonthCounts, row: str | None) -> int | None:
    if row is None:
        return table.total
    return table.values[table.rows.index(row)] if row in table.rows else 0


def _count_table(shape: MonthCounts, groups: Sequence[Group]) -> CountTable:
    rows, total = _lines(shape, groups, lambda t: t.counts, _month_count, _count, CountRow)
    title, rows_are, counts = TITLES[shape.name]
    return CountTable(shape.name, title, counts, rows_are, _columns(groups), rows, total)


def _month_time(table: MonthTimes, row: str | None) -> tuple[int | None, float | None]:
    if row is None:
        return table.total, table.total_median
    if row not in table.rows:
        return 0, None
    i = table.rows.index(row)
    return table.counts[i], table.medians[i]


def _time(cells: Sequence[tuple[int | None, float | None]]) -> TimeCell:
    if any(count is None for count, _ in cells):
        return TimeCell(None, None, True)
    count = sum(c for c, _ in cells if c is not None)
    busy = [median for c, median in cells if c]
    median = busy[0] if len(busy) == 1 and count >= THRESHOLD else None
    return TimeCell(count, median)


def _time_table(shape: MonthTimes, groups: Sequence[Group]) -> TimeTable:
    rows, total = _lines(shape, groups, lambda t: t.times, _month_time, _time, TimeRow)
    title, rows_are, _ = TITLES[shape.name]
    return TimeTable(shape.name, title, rows_are, _columns(groups), rows, total)


def _columns(groups: Sequence[Group]) -> list[str]:
    return [label for label, _ in groups]


T = TypeVar("T", MonthCounts, MonthTimes)


V = TypeVar("V")
C = TypeVar("C")
R = TypeVar("R")


def _named(name: str, tables: Sequence[T]) -> T:
    return next(t for t in tables if t.name == name)


def _lines(
    shape: T,
    groups: Sequence[Group],
    of: Callable[[MonthTables], Sequence[T]],
    value: Callable[[T, str | None], V],
    add: Callable[[Sequence[V]], C],
    line: Callable[[str, list[C], C], R],
) -> tuple[list[R], R]:
    """The rows of ``shape``'s table over ``groups``, and its row of column totals:
    in each row, one cell per column (the ``value``s of its publications, ``add``ed
    up) and the row's total over every column."""
    parts = [(label, [_named(shape.name, of(t)) for t in ts]) for label, ts in groups]
    keys = _rows(shape.rows, [t for _, ts in parts for t in ts])

    def row(key: str | None) -> R:
        cells = [[value(t, key) for t in ts] for _, ts in parts]
        return line(key or TOTAL, [add(c) for c in cells], add([v for c in cells for v in c]))

    return [row(k) for k in keys], row(None)


# The shape of every table (its name and rows), as a month with nothing in it.
SHAPE = month_tables(Month(2000, 1), [], [])


def answer(published: Published, year: int | None) -> Stats:
    """The answer for ``year`` (by month) or for every year, from ``published``:
    the publications made so far, in order."""
    groups = _groups(published, year)
    return Stats(
        year=year,
        threshold=THRESHOLD,
        published=[m.label for m, _ in published if year is None or m.year == year],
        tables=[_count_table(shape, groups) for shape in SHAPE.counts],
        times=[_time_table(shape, groups) for shape in SHAPE.times],
    )
