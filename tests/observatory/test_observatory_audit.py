"""The auditor's intervals are exact: the same as an exhaustive search finds.

The auditor (``application.observatory.audit``) computes, by maximum flow, the
least and greatest value a hidden cell can take; the attacker of these tests
searches all whole-number tables. On small random tables and random hidden
cells, both must agree.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from observatory_support import Attacker, System
from support.hypothesis_profiles import examples

from application.observatory.audit import interval
from application.observatory.periods import TOTAL, Periods, month_label
from application.observatory.tables import Table, tabulate


def system_of(table: Table, hidden: set[tuple[str, str]]) -> tuple[System, dict[str, int]]:
    """The whole table, months, year and all, as the attacker sees it."""
    system = System()
    names = {f"{r}:{c}": table[(r, c)] for r, c in table.cells()}
    system.known = {f"{r}:{c}": table[(r, c)] for r, c in table.cells() if (r, c) not in hidden}
    periods = table.periods
    for row in [*table.rows, TOTAL]:
        for year in periods.groups:
            system.equations.append(
                (f"{row}:{year}", [f"{row}:{leaf}" for leaf in periods.leaves_of(year)])
            )
        tops = periods.groups or periods.leaves
        system.equations.append((f"{row}:{TOTAL}", [f"{row}:{c}" for c in tops]))
    for column in periods.columns:
        system.equations.append((f"{TOTAL}:{column}", [f"{r}:{column}" for r in table.rows]))
    return system, names


@st.composite
def small_tables(draw: st.DrawFn) -> tuple[Table, set[tuple[str, str]]]:
    rows = ("a", "b", "c")[: draw(st.integers(2, 3))]
    monthly = draw(st.booleans())
    years = draw(st.lists(st.sampled_from([2025, 2026]), min_size=1, max_size=2, unique=True))
    periods = Periods.monthly(years) if monthly else Periods.yearly(years)
    leaves = periods.leaves[:3] if monthly else periods.leaves
    items = draw(st.lists(st.tuples(st.sampled_from(rows), st.sampled_from(leaves)), max_size=12))
    table = tabulate("t", rows, periods, items)
    cells = [c for c in table.cells() if not monthly or c[1] in (*leaves, *periods.groups, TOTAL)]
    hidden = set(draw(st.lists(st.sampled_from(cells), min_size=1, max_size=10)))
    return table, hidden


@settings(max_examples=examples(150), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_tables())
def test_the_auditor_finds_the_same_intervals_as_exhaustive_search(drawn) -> None:
    table, hidden = drawn
    system, names = system_of(table, hidden)
    # A cell without bound reaches whatever ceiling the search is given.
    near, far = (Attacker(system, 3 * table[(TOTAL, TOTAL)] + k) for k in (4, 9))
    for cell in sorted(hidden):
        lo, hi = interval(table, hidden, cell)
        name = f"{cell[0]}:{cell[1]}"
        found_lo, found_hi = near.extremes(name, names)
        unbounded = far.extremes(name, names)[1] > found_hi
        assert lo == found_lo, cell
        assert (hi is None) == unbounded, cell
        assert hi is None or hi == found_hi, cell


def test_two_hidden_cells_in_each_line_are_not_always_enough() -> None:
    """A hidden 1 whose only partners are hidden zeros: every line holds two hidden
    cells, yet the 1 cannot move (a zero cannot go lower, the 7 has nowhere to go)."""
    leaves = (month_label(2026, 1), month_label(2026, 2))
    items = [("a", leaves[0])] + [("b", leaves[0])] * 7 + [("c", leaves[1])] * 5
    table = tabulate("t", ("a", "b", "c"), Periods(leaves=leaves), items)
    hidden = {("a", leaves[0]), ("a", leaves[1]), ("b", leaves[0]), ("b", leaves[1])}
    assert table[("a", leaves[0])] == 1 and table[("a", leaves[1])] == 0
    assert interval(table, hidden, ("a", leaves[0])) == (1, 1)
    system, names = system_of(table, hidden)
    assert Attacker(system, 40).pinned(names) == [
        f"a:{leaves[0]}",
        f"a:{leaves[1]}",
        f"b:{leaves[0]}",
        f"b:{leaves[1]}",
    ]
