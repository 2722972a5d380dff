"""No small count is ever published, and no hidden count can be worked out.

Run on random sets of facts (tiny, lopsided, plain), straight through the
application's pipeline (facts -> each month's tables, protected, as published ->
what the API answers, put together from the publications). The attacker
(``observatory_support.Attacker``) is independent of the auditor.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from observatory_support import (
    Attacker,
    Grid,
    System,
    all_cells,
    case_facts,
    fact_sets,
    grid_of,
    true_tables,
)
from support.hypothesis_profiles import examples

from application.observatory.answers import answer
from application.observatory.facts import CaseFact, ReferralFact
from application.observatory.monthly import by_month
from application.observatory.periods import TOTAL, year_label
from application.observatory.publication import CountCell, Stats, TimeCell
from application.observatory.suppression import THRESHOLD
from application.observatory.tables import Table

SETTINGS = settings(
    max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def views(years: set[int]) -> list[int | None]:
    """Every answer the API can give about these facts: all years, each year, and
    a year with nothing in it."""
    return [None, *sorted(years), 1999 + 1]


def truth(table: Table, year: int | None, row: str, column: str) -> int:
    """The true count behind a published cell."""
    if column == TOTAL and year is not None:
        column = year_label(year)
    return table.counts.get((row, column), 0)


def published(referrals: Sequence[ReferralFact], cases: Sequence[CaseFact]):
    """The true tables, and every answer from the publications made on time."""
    months = by_month(referrals, cases)
    made = true_tables(referrals, cases)
    return made, {year: answer(months, year) for year in views({m.year for m, _ in months})}


@SETTINGS
@given(fact_sets(), st.lists(case_facts(), max_size=15))
def test_no_published_count_is_from_one_to_four(referrals, cases) -> None:
    _, answers = published(referrals, cases)
    for stats in answers.values():
        for _, _, _, cell in all_cells(stats):
            value = cell.value if isinstance(cell, CountCell) else cell.count
            if cell.suppressed:
                assert value is None
                assert not isinstance(cell, TimeCell) or cell.median_hours is None
            else:
                assert value is not None and not 0 < value < THRESHOLD
            if isinstance(cell, TimeCell) and cell.median_hours is not None:
                assert cell.count is not None and cell.count >= THRESHOLD


@SETTINGS
@given(fact_sets(), st.lists(case_facts(), max_size=15))
def test_shown_counts_are_true_and_small_ones_are_hidden(referrals, cases) -> None:
    made, answers = published(referrals, cases)
    tables = {t.name: t for t in [*made.counts, *made.times]}
    for year, stats in answers.items():
        for name, row, column, cell in all_cells(stats):
            true = truth(tables[name], year, row, column)
            value = cell.value if isinstance(cell, CountCell) else cell.count
            assert cell.suppressed or value == true
            if 0 < true < THRESHOLD:
                assert cell.suppressed


def attack(grids: list[tuple[Grid, Table]], year: int | None, shared: bool) -> list[str]:
    """Try to recover every hidden cell of ``grids`` (one table, or tables sharing
    their total row) from everything they show; the cells pinned."""
    system, truths = System(), {}
    ceiling = 5
    for grid, table in grids:
        system.add_grid(grid, grid.name, "shared" if shared else None)
        ceiling += 2 * table.counts.get((TOTAL, TOTAL), 0)
        for row, column in grid.values:
            key = f"shared:{column}" if shared and row == TOTAL else f"{grid.name}:{row}:{column}"
            truths[key] = truth(table, year, row, column)
    return Attacker(system, ceiling).pinned(truths)


ATTACK = settings(
    max_examples=examples(40), deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@ATTACK
@given(fact_sets(most=8), st.lists(case_facts(), max_size=12))
def test_no_hidden_cell_is_recovered_from_its_table(referrals, cases) -> None:
    made, answers = published(referrals, cases)
    for year, stats in answers.items():
        pairs = [
            *zip(stats.tables, made.counts, strict=True),
            *zip(stats.times, made.times, strict=True),
        ]
        for view, table in pairs:
            assert attack([(grid_of(view), table)], year, shared=False) == [], view.name


@settings(max_examples=examples(30), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fact_sets(most=8))
@pytest.mark.long
def test_no_hidden_cell_is_recovered_from_the_referral_tables_together(referrals) -> None:
    """The five referral tables count the same referrals: their column totals are one."""
    made, answers = published(referrals, [])
    tables = [t for t in made.counts if t.name.startswith("referrals_")]
    for year, stats in answers.items():
        views_ = [v for v in stats.tables if v.name.startswith("referrals_")]
        grids = [(grid_of(v), t) for v, t in zip(views_, tables, strict=True)]
        assert attack(grids, year, shared=True) == []


def hierarchy(table: Table, answers: dict[int | None, Stats]) -> tuple[System, dict[str, int]]:
    """One table as every answer shows it, months, years and all years at once."""
    system, names = System(), {}
    months: dict[str, list[str]] = {}
    for year, stats in answers.items():
        view = next(v for v in [*stats.tables, *stats.times] if v.name == table.name)
        grid = grid_of(view)
        if year is not None and grid.columns:
            months[year_label(year)] = grid.columns
        for (row, column), value in grid.values.items():
            real = truth_column(year, column)
            names[f"{row}:{real}"] = table.counts.get((row, real), 0)
            if value is not None:
                system.known[f"{row}:{real}"] = value
    rows = {key.split(":")[0] for key in names} - {TOTAL}
    columns = [*months, *(m for ms in months.values() for m in ms), TOTAL]
    for row in [*sorted(rows), TOTAL]:
        for y, ms in months.items():
            system.equations.append((f"{row}:{y}", [f"{row}:{m}" for m in ms]))
        system.equations.append((f"{row}:{TOTAL}", [f"{row}:{y}" for y in months]))
    for column in columns:
        system.equations.append((f"{TOTAL}:{column}", [f"{r}:{column}" for r in sorted(rows)]))
    return system, names


def truth_column(year: int | None, column: str) -> str:
    if column == TOTAL and year is not None:
        return year_label(year)
    return column


@ATTACK
@given(fact_sets(most=8), st.lists(case_facts(), max_size=12))
def test_no_hidden_cell_is_recovered_by_setting_answers_against_each_other(
    referrals, cases
) -> None:
    """The answer for each year and for all years, together, pin nothing."""
    made, answers = published(referrals, cases)
    for table in [*made.counts, *made.times]:
        system, names = hierarchy(table, answers)
        ceiling = 2 * table.counts[(TOTAL, TOTAL)] + 5
        assert Attacker(system, ceiling).pinned(names) == [], table.name
