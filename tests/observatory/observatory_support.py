"""Helpers of the observatory tests: random facts, and an attacker.

The attacker is written apart from the application's auditor (which works by
network flows): it states what was published as linear equations ("a total is
the sum of its parts", every count a whole number >= 0) and searches, by
constraint propagation and exhaustive backtracking, for a table agreeing with
everything shown in which a hidden cell has another value than its true one.
A hidden cell for which no such table exists is *pinned*: recovered exactly.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import msgspec
from hypothesis import strategies as st

from application.observatory.facts import CaseFact, ReferralFact
from application.observatory.periods import Periods, month_label
from application.observatory.publication import CountTable, Stats, TimeTable
from application.observatory.tables import (
    SERVICE_KINDS,
    Table,
    case_table,
    referral_tables,
    time_tables,
)
from domain.entries import CaseStatus
from domain.referral import ReferralStatus as S
from domain.vocabulary import ReferralKind, Urgency

# -- random facts --------------------------------------------------------------------

ACKNOWLEDGED = {S.ACKNOWLEDGED, S.ACCEPTED, S.COMPLETED}
ANSWERED = {S.ACCEPTED, S.COMPLETED, S.DECLINED}
MAYBE_ACKNOWLEDGED = {S.DECLINED, S.WITHDRAWN, S.EXPIRED, S.SUSPENDED}
NEVER_ANSWERED = {S.SENT, S.ACKNOWLEDGED, S.WITHDRAWN, S.EXPIRED}


@st.composite
def referral_facts(draw: st.DrawFn, years: Sequence[int] = (2025, 2026)) -> ReferralFact:
    outcome = draw(st.sampled_from(list(S)))
    acknowledged = outcome in ACKNOWLEDGED or (
        outcome in MAYBE_ACKNOWLEDGED and draw(st.booleans())
    )
    answered = outcome in ANSWERED or (
        outcome == S.SUSPENDED and acknowledged and draw(st.booleans())
    )
    hours = st.floats(0.1, 400, allow_nan=False).map(lambda h: round(h, 2))
    ack = draw(hours) if acknowledged else None
    answer = max(draw(hours), ack or 0) if answered else None
    return ReferralFact(
        sent_at=datetime(draw(st.sampled_from(years)), draw(st.integers(1, 12)), 3, tzinfo=UTC),
        kind=draw(st.sampled_from(list(ReferralKind))),
        sender_kind=draw(st.sampled_from(SERVICE_KINDS)),
        recipient_kind=draw(st.sampled_from(SERVICE_KINDS)),
        urgency=draw(st.sampled_from(list(Urgency))),
        outcome=outcome,
        hours_to_acknowledge=ack,
        hours_to_answer=answer,
    )


@st.composite
def case_facts(draw: st.DrawFn, years: Sequence[int] = (2025, 2026)) -> CaseFact:
    return CaseFact(
        opened_at=datetime(draw(st.sampled_from(years)), draw(st.integers(1, 12)), 5, tzinfo=UTC),
        owner_kind=draw(st.sampled_from(SERVICE_KINDS)),
        status=draw(st.sampled_from(list(CaseStatus))),
    )


def lopsided(facts: st.SearchStrategy[ReferralFact], most: int) -> st.SearchStrategy[list]:
    """A few kinds of fact, each repeated: many alike and a few apart, as in life."""
    return st.lists(st.tuples(facts, st.integers(1, most)), max_size=5).map(
        lambda groups: [fact for fact, n in groups for _ in range(n)]
    )


def fact_sets(most: int = 12) -> st.SearchStrategy[list]:
    """Tiny, lopsided, or plain random sets of referral facts."""
    return st.one_of(
        st.lists(referral_facts(), max_size=4),
        lopsided(referral_facts(), most),
        st.lists(referral_facts(years=(2026,)), max_size=30),
    )


# -- what was published ----------------------------------------------------------------


def all_cells(stats: Stats) -> Iterator[tuple[str, str, str, object]]:
    """(table, row, column, cell) for every cell of every table."""
    for table in [*stats.tables, *stats.times]:
        columns = [*table.columns, "total"]
        for row in [*table.rows, table.total]:
            for column, cell in zip(columns, [*row.cells, row.total], strict=True):
                yield table.name, row.key, column, cell


@dataclass
class Grid:
    """A published count table: ``None`` where suppressed."""

    name: str
    rows: list[str]
    columns: list[str]
    values: dict[tuple[str, str], int | None]


def grid_of(table: CountTable | TimeTable) -> Grid:
    columns = [*table.columns, "total"]
    values: dict[tuple[str, str], int | None] = {}
    for row in [*table.rows, table.total]:
        for column, cell in zip(columns, [*row.cells, row.total], strict=True):
            values[row.key, column] = getattr(cell, "value", getattr(cell, "count", None))
    return Grid(table.name, [r.key for r in table.rows], table.columns, values)


# -- the attacker --------------------------------------------------------------------------


@dataclass
class System:
    """Linear equations ``total = sum(parts)`` over named cells, some of them known."""

    equations: list[tuple[str, list[str]]] = field(default_factory=list)
    known: dict[str, int] = field(default_factory=dict)

    def add_grid(self, grid: Grid, prefix: str, shared_total_row: str | None = None) -> None:
        """The equations of one table. Its total row may be shared with other tables
        counting the same things (they all have the same column totals)."""

        def name(row: str, column: str) -> str:
            if row == "total" and shared_total_row is not None:
                return f"{shared_total_row}:{column}"
            return f"{prefix}:{row}:{column}"

        for (row, column), value in grid.values.items():
            if value is not None:
                self.known[name(row, column)] = value
        # A table without period columns (one year of a time table) only has totals.
        for row in [*grid.rows, "total"] if grid.columns else []:
            self.equations.append((name(row, "total"), [name(row, c) for c in grid.columns]))
        for column in [*grid.columns, "total"]:
            self.equations.append((name("total", column), [name(r, column) for r in grid.rows]))


Domains = dict[str, tuple[int, int]]


class Attacker:
    """Exhaustive search with bound propagation over whole numbers in [0, ceiling]."""

    def __init__(self, system: System, ceiling: int) -> None:
        self.known = system.known
        self.rows: list[tuple[dict[str, int], int]] = []
        names: set[str] = set()
        for total, parts in system.equations:
            coefficients: dict[str, int] = {}
            constant = 0
            for var, sign in [(total, 1), *((p, -1) for p in parts)]:
                if var in self.known:
                    constant -= sign * self.known[var]
                else:
                    coefficients[var] = coefficients.get(var, 0) + sign
            coefficients = {v: c for v, c in coefficients.items() if c}
            if coefficients or constant:
                self.rows.append((coefficients, constant))
            names.update(coefficients)
        self.unknown = sorted(names)
        self.ceiling = ceiling
        self.uses: dict[str, list[int]] = {v: [] for v in self.unknown}
        for i, (coefficients, _) in enumerate(self.rows):
            for v in coefficients:
                self.uses[v].append(i)

    def _propagate(self, domains: Domains, changed: Iterable[str]) -> bool:
        queue = list({i for v in changed for i in self.uses[v]} or range(len(self.rows)))
        while queue:
            i = queue.pop()
            coefficients, constant = self.rows[i]
            if not coefficients:
                if constant != 0:
                    return False
                continue
            lows = {
                v: (domains[v][0] if c > 0 else -domains[v][1]) * abs(c)
                for v, c in coefficients.items()
            }
            highs = {
                v: (domains[v][1] if c > 0 else -domains[v][0]) * abs(c)
                for v, c in coefficients.items()
            }
            low_sum, high_sum = sum(lows.values()), sum(highs.values())
            for v, c in coefficients.items():
                # c * x_v = constant - (others): bounds of the others give bounds of x_v.
                rest_low, rest_high = low_sum - lows[v], high_sum - highs[v]
                lo_term, hi_term = constant - rest_high, constant - rest_low
                if c > 0:
                    lo, hi = -(-lo_term // c), hi_term // c
                else:
                    lo, hi = -(-hi_term // c), lo_term // c
                old_lo, old_hi = domains[v]
                new_lo, new_hi = max(old_lo, lo), min(old_hi, hi)
                if new_lo > new_hi:
                    return False
                if (new_lo, new_hi) != (old_lo, old_hi):
                    domains[v] = (new_lo, new_hi)
                    queue.extend(j for j in self.uses[v] if j != i)
        return True

    def _solve(self, domains: Domains, truth: dict[str, int]) -> bool:
        open_vars = [v for v in self.unknown if domains[v][0] < domains[v][1]]
        if not open_vars:
            return all(
                sum(c * domains[v][0] for v, c in coefficients.items()) == constant
                for coefficients, constant in self.rows
            )
        var = min(open_vars, key=lambda v: domains[v][1] - domains[v][0])
        lo, hi = domains[var]
        near = truth.get(var, lo)
        for value in sorted(range(lo, hi + 1), key=lambda x: abs(x - near)):
            trial = dict(domains)
            trial[var] = (value, value)
            if self._propagate(trial, [var]) and self._solve(trial, truth):
                return True
        return False

    def other_value_possible(self, var: str, truth: dict[str, int]) -> bool:
        """Whether some table agreeing with all that is shown gives ``var`` another value."""
        value = truth[var]
        return any(
            self.feasible(var, lo, hi, truth)
            for lo, hi in ((value + 1, self.ceiling), (0, value - 1))
            if lo <= hi
        )

    def feasible(self, var: str, lo: int, hi: int, truth: dict[str, int]) -> bool:
        """Whether some table agreeing with all that is shown has ``var`` in [lo, hi]."""
        domains = {v: (0, self.ceiling) for v in self.unknown}
        domains[var] = (lo, hi)
        return self._propagate(domains, []) and self._solve(domains, truth)

    def extremes(self, var: str, truth: dict[str, int]) -> tuple[int, int]:
        """The least and greatest values ``var`` can take (up to the ceiling), by search."""
        value = truth[var]
        lo = value
        while lo > 0 and self.feasible(var, lo - 1, lo - 1, truth):
            lo -= 1
        hi = value
        while hi < self.ceiling and self.feasible(var, hi + 1, hi + 1, truth):
            hi += 1
        return lo, hi

    def pinned(self, truth: dict[str, int]) -> list[str]:
        return [v for v in self.unknown if not self.other_value_possible(v, truth)]


# -- the truth behind the answers -------------------------------------------------------


@dataclass(frozen=True)
class Truth:
    """Every table as it truly is, by month, year and all years: ``counts`` in the
    order the answers list them, then ``times``."""

    counts: list[Table]
    times: list[Table]

    def by_name(self) -> dict[str, Table]:
        return {t.name: t for t in [*self.counts, *self.times]}


def true_tables(referrals: Sequence[ReferralFact], cases: Sequence[CaseFact]) -> Truth:
    years = {f.year for f in referrals} | {f.year for f in cases}
    periods = Periods.monthly(years)

    def month(f: ReferralFact | CaseFact) -> str:
        return month_label(f.year, f.month)

    times = time_tables(referrals, periods, month)
    return Truth(
        counts=[case_table(cases, periods, month), *referral_tables(referrals, periods, month)],
        times=[d.table for d in times],
    )


# -- answers set against each other ------------------------------------------------------

REFERRAL_TABLES = frozenset(
    {
        "referrals_by_kind",
        "referrals_by_sender_kind",
        "referrals_by_recipient_kind",
        "referrals_by_urgency",
        "referrals_by_outcome",
    }
)


def _plain(stats: Stats | dict[str, Any]) -> dict[str, Any]:
    return stats if isinstance(stats, dict) else msgspec.to_builtins(stats)


def shown(stats: Stats | dict[str, Any]) -> dict[tuple[str, str, str], int]:
    """Every count shown, by (table, row, column); a table's total row is named
    ``total``, and a row's total the column ``total``."""
    found = {}
    body = _plain(stats)
    for table in [*body["tables"], *body["times"]]:
        columns = [*table["columns"], "total"]
        for row in [*table["rows"], table["total"]]:
            for column, cell in zip(columns, [*row["cells"], row["total"]], strict=True):
                value = cell.get("value", cell.get("count"))
                if not cell["suppressed"] and value is not None:
                    found[table["name"], row["key"], column] = value
    return found


def _matching(cells: dict[tuple[str, str, str], int]) -> dict[tuple[str, str, str], set[int]]:
    """Cells by what they count: the referral tables' total rows count the same
    referrals, so each is also filed under one shared name."""
    found: dict[tuple[str, str, str], set[int]] = {}
    for (table, row, column), value in cells.items():
        found.setdefault((table, row, column), set()).add(value)
        if table in REFERRAL_TABLES and row == "total":
            found.setdefault(("referrals", row, column), set()).add(value)
    return found


def differences_from_one_to_four(
    before: Stats | dict[str, Any], after: Stats | dict[str, Any]
) -> list[tuple[tuple[str, str, str], int]]:
    """Every matching cell and total shown in both answers, across tables, whose
    difference is a count from 1 to 4: what an analyst learns by subtraction."""
    a, b = _matching(shown(before)), _matching(shown(after))
    return sorted(
        (key, abs(y - x))
        for key in a.keys() & b.keys()
        for x in a[key]
        for y in b[key]
        if 0 < abs(y - x) < 5
    )
