"""What the observatory is answered (``Stats``: every table, hidden cells as
``null``), and ``release``: the tables built from facts and protected together.

A month's publication (``monthly``) is one ``release`` over that month alone;
an answer (``answers``) is put together from publications only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import msgspec

from application.observatory.facts import CaseFact, ReferralFact
from application.observatory.periods import Periods
from application.observatory.suppression import (
    Protected,
    protect_counts,
    protect_times,
)
from application.observatory.tables import (
    CASE_TABLE,
    OUTCOME_TABLE,
    URGENCY_TABLE,
    Column,
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
    OUTCOME_TABLE: (
        "Referrals sent, by their status at the close of the month published",
        "outcome",
        "referrals",
    ),
    "time_to_acknowledge": (
        "Hours from sending to acknowledgement, by urgency (referrals acknowledged by the close)",
        "urgency",
        "referrals",
    ),
    "time_to_answer": (
        "Hours from sending to the answer (accepted or declined by the close), by urgency",
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
    """Everything the observatory may see: aggregates only, small counts suppressed,
    put together from the months ``published`` (in order)."""

    year: int | None
    threshold: int
    published: list[str]
    tables: list[CountTable]
    times: list[TimeTable]


@dataclass(frozen=True)
class Release:
    """Every table, protected over all periods."""

    counts: Sequence[Protected]
    times: Sequence[tuple[Durations, Protected]]


def release(
    referrals: Sequence[ReferralFact],
    cases: Sequence[CaseFact],
    periods: Periods | None = None,
    column: Column | None = None,
) -> Release:
    """Every table, protected: by month (times by year), or over ``periods`` with
    each fact in its ``column`` (one month's publication)."""
    if periods is None or column is None:
        referral = protect_counts(referral_tables(referrals))
        cases_table = case_table(cases)
        acknowledge, answer = time_tables(referrals)
    else:
        referral = protect_counts(referral_tables(referrals, periods, column))
        cases_table = case_table(cases, periods, column)
        acknowledge, answer = time_tables(referrals, periods, column)
    by_name = {p.table.name: p for p in referral}
    protected = protect_times(acknowledge, answer, by_name[URGENCY_TABLE], by_name[OUTCOME_TABLE])
    return Release(
        counts=[*protect_counts([cases_table]), *referral],
        times=list(zip((acknowledge, answer), protected, strict=True)),
    )
