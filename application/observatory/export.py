"""The statistics as CSV, one section per table.

Each section starts with a line ``table,<name>,<title>``, then a header line,
then one line per row and a last ``total`` line; sections are separated by an
empty line. A suppressed cell reads ``x`` (and its median too); a median that
cannot be given because too few referrals had it is left empty.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from application.observatory.periods import TOTAL
from application.observatory.publication import CountCell, CountTable, Stats, TimeCell, TimeTable

SUPPRESSED = "x"


def _count(cell: CountCell) -> str:
    return SUPPRESSED if cell.suppressed else str(cell.value)


def _time(cell: TimeCell) -> list[str]:
    if cell.suppressed:
        return [SUPPRESSED, SUPPRESSED]
    return [str(cell.count), "" if cell.median_hours is None else f"{cell.median_hours:.1f}"]


def _counts(table: CountTable) -> Iterable[list[str]]:
    yield ["table", table.name, table.title]
    yield [table.rows_are, *table.columns, TOTAL]
    for row in (*table.rows, table.total):
        yield [row.key, *(_count(c) for c in row.cells), _count(row.total)]


def _times(table: TimeTable) -> Iterable[list[str]]:
    yield ["table", table.name, table.title]
    columns = [*table.columns, TOTAL]
    yield [table.rows_are, *(f"{c} {what}" for c in columns for what in ("count", "median_hours"))]
    for row in (*table.rows, table.total):
        yield [row.key, *(v for c in (*row.cells, row.total) for v in _time(c))]


def to_csv(stats: Stats) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    sections = [*map(_counts, stats.tables), *map(_times, stats.times)]
    for i, section in enumerate(sections):
        if i:
            writer.writerow([])
        writer.writerows(section)
    return out.getvalue()
