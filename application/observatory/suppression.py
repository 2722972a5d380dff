"""Which cells the observatory may see: primary and secondary suppression.

Primary: a count from 1 to 4 (``THRESHOLD`` 5) is hidden. A true zero is shown:
it is what most statistical offices do (Eurostat, ISTAT), and hiding every zero
would hide most of a small network's tables. Zeros may still be hidden *as
complements*, so a hidden cell may be 0 and hiding does not prove that
something happened.

Secondary (``secondary``): more cells are hidden until every hidden cell can
take at least two values given all that is shown, in its table and in the
tables linked to it. The tables of all referrals share their column totals
and are protected together; the cases on their own.

The time tables (how long referrals waited to be acknowledged, or answered)
come after, because what they show is tied to the referral tables:

- a time count is hidden when it, or the referrals of its cell it leaves out
  (those never acknowledged, or never answered), number 1 to 4;
- a time count is never more than the referrals of its urgency and year, and an
  outcome says something of a referral's past (an accepted referral was
  acknowledged): the time counts of a year, its referrals by urgency and its
  outcome counts bound each other. So a year's times are shown only if its
  referrals by urgency are all shown and its outcome counts shown already tell
  those bounds (``relations_known``): then the times cannot narrow any hidden
  count of the referral tables. All years' times only if every year's are;
- both time tables hide the same cells, and their hidden cells are protected
  against what the referral tables and the other time table imply (``Bounds``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from application.observatory.audit import Bounds
from application.observatory.periods import TOTAL
from application.observatory.secondary import CountGroup, TimePair, hidden_of
from application.observatory.tables import Cell, Durations, Table
from domain.referral import ReferralStatus as S

THRESHOLD = 5


def small(count: int) -> bool:
    """A count that could point to a person: 1 to 4."""
    return 0 < count < THRESHOLD


@dataclass(frozen=True)
class Protected:
    """A table and the cells it must never show."""

    table: Table
    hidden: frozenset[Cell]

    def shown(self, cell: Cell) -> bool:
        return cell not in self.hidden


def primary(table: Table) -> set[Cell]:
    return {cell for cell in table.cells() if small(table[cell])}


def protect_counts(tables: Sequence[Table]) -> list[Protected]:
    """Protect tables counting the same things (sharing their column totals) together."""
    group = CountGroup(tables)
    group.run({i: primary(t) for i, t in enumerate(tables)})
    return [Protected(t, h) for t, h in zip(tables, hidden_of(group), strict=True)]


# What an outcome tells of a referral's past (DOMAIN.md, "Referral"): accepted
# (then completed) needs acknowledged; accepting or declining is the answer.
ACKNOWLEDGED = frozenset({S.ACKNOWLEDGED, S.ACCEPTED, S.COMPLETED})
NEVER_ACKNOWLEDGED = frozenset({S.SENT})
ANSWERED = frozenset({S.ACCEPTED, S.COMPLETED, S.DECLINED})
NEVER_ANSWERED = frozenset({S.SENT, S.ACKNOWLEDGED, S.WITHDRAWN, S.EXPIRED})
# Answered without acknowledging: only by declining. Acknowledged but not answered:
# still acknowledged, or withdrawn, expired, suspended on the way.
ANSWERED_UNACKNOWLEDGED = frozenset({S.DECLINED})
ACKNOWLEDGED_UNANSWERED = frozenset({S.ACKNOWLEDGED, S.WITHDRAWN, S.EXPIRED, S.SUSPENDED})
RELATED = (
    ACKNOWLEDGED,
    NEVER_ACKNOWLEDGED,
    ANSWERED,
    NEVER_ANSWERED,
    ANSWERED_UNACKNOWLEDGED,
    ACKNOWLEDGED_UNANSWERED,
)
# Outcomes that belong to the same sets above: telling them apart tells nothing
# more of the times (sent; acknowledged; accepted, completed; declined; withdrawn,
# expired; suspended).
OUTCOME_CLASSES = tuple(
    frozenset(o for o in S if all((o in r) == (first in r) for r in RELATED))
    for first in (S.SENT, S.ACKNOWLEDGED, S.ACCEPTED, S.DECLINED, S.WITHDRAWN, S.SUSPENDED)
)


def relations_known(outcome: Protected, column: str) -> bool:
    """Whether the outcome counts shown for a period already tell, for each set of
    outcomes above, how many referrals of the period it holds: when the hidden ones
    all fall in one class and the period's total is shown (or none is hidden)."""
    hidden = {S(row) for row in outcome.table.rows if not outcome.shown((row, column))}
    if not hidden:
        return True
    return outcome.shown((TOTAL, column)) and any(hidden <= c for c in OUTCOME_CLASSES)


@dataclass(frozen=True)
class _Outcomes:
    outcome: Table

    def count(self, statuses: frozenset[S], column: str) -> int:
        return sum(self.outcome[(s.value, column)] for s in statuses)


def _bounds(
    durations: Durations,
    referrals: Table,
    outcomes: _Outcomes,
    must: frozenset[S],
    never: frozenset[S],
) -> dict[Cell, Bounds]:
    """What any attacker knows of each count: at most the referrals of its cell, and
    for a year's total, between those that must and those that may have had it."""
    bounds = {}
    for cell in durations.table.cells():
        n = referrals[cell]
        if cell[0] == TOTAL:
            floor, cap = outcomes.count(must, cell[1]), n - outcomes.count(never, cell[1])
        else:
            floor, cap = 0, n
        bounds[cell] = _around(durations.table[cell], floor, cap)
    return bounds


def _around(value: int, floor: int, cap: int) -> Bounds:
    """Bounds that hold the true value (they always do, for events the domain allows)."""
    return Bounds(min(floor, value), max(cap, value))


def _alone(
    own: Mapping[Cell, Bounds],
    mine: Table,
    other: Table,
    below: frozenset[S],
    above: frozenset[S],
    outcomes: _Outcomes,
) -> dict[Cell, Bounds]:
    """Bounds of a count when the other time table keeps its values: it may differ
    from the other's count by no more than the outcomes allow."""
    bounds = {}
    for cell, b in own.items():
        value, column = other[cell], cell[1]
        floor = max(b.floor, value - outcomes.count(below, column))
        cap = value + outcomes.count(above, column)
        bounds[cell] = _around(mine[cell], floor, cap if b.cap is None else min(b.cap, cap))
    return bounds


def _time_primary(
    times: tuple[Durations, Durations], urgency: Protected, outcome: Protected
) -> tuple[set[Cell], set[Cell]]:
    """The time cells hidden first, and among them those withheld with their period."""
    table = times[0].table
    counts = [d.table for d in times]

    def shown(column: str) -> bool:
        rows = (*urgency.table.rows, TOTAL)
        return relations_known(outcome, column) and all(urgency.shown((r, column)) for r in rows)

    # All years together are shown when each year is: then they tell nothing more.
    withheld = {c for c in table.periods.leaves if not shown(c)}
    if withheld:
        withheld.add(TOTAL)
    hidden, kept_back = set(), set()
    for cell in table.cells():
        n = urgency.table[cell]
        values = [c[cell] for c in counts]
        if cell[1] in withheld:
            if n > 0:  # (where there were no referrals, 0 says nothing)
                kept_back.add(cell)
        elif any(small(v) or small(n - v) for v in values):
            hidden.add(cell)
    return hidden | kept_back, kept_back


def protect_times(
    acknowledge: Durations, answer: Durations, urgency: Protected, outcome: Protected
) -> tuple[Protected, Protected]:
    """Protect the two time tables together, against the referral tables."""
    outcomes = _Outcomes(outcome.table)
    own = (
        _bounds(acknowledge, urgency.table, outcomes, ACKNOWLEDGED, NEVER_ACKNOWLEDGED),
        _bounds(answer, urgency.table, outcomes, ANSWERED, NEVER_ANSWERED),
    )
    alone = (
        _alone(
            own[0],
            acknowledge.table,
            answer.table,
            ANSWERED_UNACKNOWLEDGED,
            ACKNOWLEDGED_UNANSWERED,
            outcomes,
        ),
        _alone(
            own[1],
            answer.table,
            acknowledge.table,
            ACKNOWLEDGED_UNANSWERED,
            ANSWERED_UNACKNOWLEDGED,
            outcomes,
        ),
    )
    first, withheld = _time_primary((acknowledge, answer), urgency, outcome)
    pair = TimePair((acknowledge.table, answer.table), own, alone, frozenset(withheld))
    pair.run({0: first, 1: first})
    ack_hidden, answer_hidden = hidden_of(pair)
    return Protected(acknowledge.table, ack_hidden), Protected(answer.table, answer_hidden)
