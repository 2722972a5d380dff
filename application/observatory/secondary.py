"""Secondary suppression: hide more cells until no hidden cell can be worked out.

A hidden cell is *protected* when, given every shown cell and total of its table
(and of the tables it is linked to), it can still take at least two values. The
check is exact for one table (``audit``). The engine is greedy: while some
hidden cell is unprotected it hides one more cell, the smallest that opens a
way for the unprotected one to move (a unit cycle through it), or failing that
the smallest that gets it closer; each added cell is then checked in its turn.
Hiding more never unprotects a cell, so a cell found protected stays so, and
the engine stops: at worst everything that can be hidden is.

Before each audit, the *line rule* runs: a total and its parts with exactly one
of them hidden give that one away, so the smallest other part is hidden too.

Two kinds of linked tables are protected together:

- ``CountGroup``: tables that count the same things (every referral table) share
  their column totals (the total row): one of them hidden is hidden in all. A
  hidden cell of a row is checked with the hidden column totals taken as known
  (which can only under-rate its protection); a hidden column total is checked
  by a move of the totals that every table of the group can follow.
- ``TimePair``: the time to acknowledge and to answer, hidden alike. A cell is
  protected if it can move alone, keeping what the other table implies about it
  (its bounds), or if both tables can move it together.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from application.observatory.audit import (
    ALL,
    Bounds,
    Node,
    Residual,
    arcs_of,
    lines,
    moves_of,
)
from application.observatory.periods import TOTAL
from application.observatory.tables import Cell, Table


def is_margin(cell: Cell) -> bool:
    """A cell of the total row: a column total, shared by tables counting the same things."""
    return cell[0] == TOTAL


@dataclass
class Sheet:
    """One table under protection: its network and what is hidden in it so far."""

    table: Table
    bounds: Mapping[Cell, Bounds] = field(default_factory=dict)
    hidden: set[Cell] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.arcs = arcs_of(self.table)
        self.arc = {a.cell: a for a in self.arcs}
        self.lines = lines(self.arcs)
        self.order = {a.cell: i for i, a in enumerate(self.arcs)}

    def value(self, cell: Cell) -> int:
        return self.table[cell]

    def residual(
        self, frozen: Iterable[Cell] = (), bounds: Mapping[Cell, Bounds] | None = None
    ) -> Residual:
        movable = self.hidden - set(frozen)
        bounds = self.bounds if bounds is None else bounds
        return Residual(self.arcs, moves_of(self.table.counts, bounds, movable))

    def could_move(self, cell: Cell) -> tuple[bool, bool]:
        b = self.bounds.get(cell, Bounds())
        value = self.value(cell)
        return b.cap is None or value < b.cap, value > b.floor


def _opens(sheet: Sheet, cell: Cell, start: set[Node], end: set[Node]) -> bool:
    """Whether hiding ``cell`` would link ``start`` (reached) to ``end`` (reaching)."""
    arc, (up, down) = sheet.arc[cell], sheet.could_move(cell)
    return (up and arc.tail in start and arc.head in end) or (
        down and arc.head in start and arc.tail in end
    )


class Engine:
    """What both kinds of group share: the line rule, the worklist, the choice."""

    def __init__(self, sheets: Sequence[Sheet]) -> None:
        self.sheets = list(sheets)
        self.pending: deque[tuple[int, Cell]] = deque()
        self._cache: dict[int, Residual] = {}

    # -- to be told by each kind of group ---------------------------------------

    def shared(self, cell: Cell) -> bool:
        """Whether ``cell`` is hidden in every table of the group at once."""
        raise NotImplementedError

    def eligible(self, i: int, cell: Cell) -> bool:
        """Whether ``cell`` may be hidden as a complement (it can move at all)."""
        raise NotImplementedError

    def protected(self, i: int, cell: Cell) -> bool:
        raise NotImplementedError

    def complement(self, i: int, cell: Cell) -> bool:
        """Hide at least one more cell for the unprotected ``cell``; False if none."""
        raise NotImplementedError

    # -- the loop -----------------------------------------------------------------

    def hide(self, i: int, cell: Cell) -> None:
        for j in range(len(self.sheets)) if self.shared(cell) else (i,):
            if cell not in self.sheets[j].hidden:
                self.sheets[j].hidden.add(cell)
                self.pending.append((j, cell))
                self._cache.pop(j, None)
                self._cache.pop(-1, None)

    def run(self, primary: Mapping[int, Iterable[Cell]]) -> None:
        for i, sheet in enumerate(self.sheets):
            for cell in sorted(primary.get(i, ()), key=sheet.order.__getitem__):
                self.hide(i, cell)
        while True:
            self.line_rule()
            target = self.first_unprotected()
            if target is None:
                return
            if not self.complement(*target):
                self.withhold()
                return

    def first_unprotected(self) -> tuple[int, Cell] | None:
        while self.pending:
            i, cell = self.pending[0]
            if not self.protected(i, cell):
                return i, cell
            self.pending.popleft()
        return None

    def withhold(self) -> None:
        """The safety net: nothing more helps, so every cell of the group is hidden."""
        for i, sheet in enumerate(self.sheets):
            for cell in sheet.table.cells():
                self.hide(i, cell)
        self.pending.clear()

    def key(self, i: int, cell: Cell) -> tuple[int, bool, bool, int]:
        """Smallest count first; a cell of one table before a shared one; parts before totals."""
        sheet = self.sheets[i]
        total = TOTAL in cell or cell[1] in sheet.table.periods.groups
        return sheet.value(cell), self.shared(cell), total, sheet.order[cell]

    def line_rule(self) -> None:
        changed = True
        while changed:
            changed = False
            for i, sheet in enumerate(self.sheets):
                for arcs in sheet.lines.values():
                    if sum(a.cell in sheet.hidden for a in arcs) != 1:
                        continue
                    choice = [
                        a.cell
                        for a in arcs
                        if a.cell not in sheet.hidden and self.eligible(i, a.cell)
                    ]
                    if choice:
                        self.hide(i, min(choice, key=lambda c: self.key(i, c)))
                        changed = True

    def open_path(
        self, i: int, residual: Residual, ends: Iterable[tuple[Node, Node]], without: Cell | None
    ) -> bool:
        """Hide, in sheet ``i``, the smallest eligible cell that opens a path for one of
        ``ends`` (from, to); failing that, the smallest that touches what is reached."""
        sheet = self.sheets[i]
        candidates = [
            c for c in sheet.table.cells() if c not in sheet.hidden and self.eligible(i, c)
        ]
        fixers, touching = [], []
        for start, end in ends:
            reached = residual.reach(start, without)
            reaching = residual.coreach(end, without)
            near = reached | reaching
            for c in candidates:
                if _opens(sheet, c, reached, reaching):
                    fixers.append(c)
                elif sheet.arc[c].tail in near or sheet.arc[c].head in near:
                    touching.append(c)
        choice = fixers or touching
        if not choice:
            return False
        self.hide(i, min(choice, key=lambda c: self.key(i, c)))
        return True


class CountGroup(Engine):
    """Count tables of the same things, sharing their column totals."""

    def __init__(self, tables: Sequence[Table]) -> None:
        super().__init__([Sheet(t) for t in tables])
        self.linked = len(tables) > 1
        first = self.sheets[0]
        self.margins = [a for a in first.arcs if is_margin(a.cell)]
        self.ends: list[Node] = [("col", leaf) for leaf in first.table.periods.leaves] + [ALL]

    def shared(self, cell: Cell) -> bool:
        return self.linked and is_margin(cell)

    def eligible(self, i: int, cell: Cell) -> bool:
        sheet = self.sheets[i]
        if not self.linked or sheet.value(cell) > 0:
            return True
        if is_margin(cell):
            return False  # a hidden zero total could only be moved by all tables at once
        column = cell[1]
        leaf_total = (TOTAL, column) if column in sheet.table.periods.leaves else None
        # A hidden zero in a column with no count at all could not move while the
        # column total is taken as known.
        return leaf_total is None or sheet.value(leaf_total) > 0

    def residual(self, i: int) -> Residual:
        if i not in self._cache:
            frozen = [a.cell for a in self.margins] if self.linked else []
            self._cache[i] = self.sheets[i].residual(frozen)
        return self._cache[i]

    def protected(self, i: int, cell: Cell) -> bool:
        if self.linked and is_margin(cell):
            return any(self._followed(p, q) for p, q in self._totals_moves(cell))
        return self.residual(i).can_move(self.sheets[i].arc[cell])

    def complement(self, i: int, cell: Cell) -> bool:
        if not (self.linked and is_margin(cell)):
            residual = self.residual(i)
            arc = self.sheets[i].arc[cell]
            return self.open_path(i, residual, residual.directions(arc), cell)
        moves = self._totals_moves(cell)
        if moves:
            # The move of the totals the fewest tables fail to follow: open a path in
            # each of those tables (a table makes up the unit from q back to p).
            p, q = min(moves, key=lambda m: len(self._failing(*m)))
            opened = False
            for j in self._failing(p, q):
                opened = self.open_path(j, self.residual(j), [(q, p)], None) or opened
            if opened:
                return True
        return self._more_totals(cell)

    # -- moving the shared totals ---------------------------------------------

    def _totals_residual(self, extra: Cell | None = None) -> Residual:
        first = self.sheets[0]
        hidden = {a.cell for a in self.margins if a.cell in first.hidden} | (
            {extra} if extra else set()
        )
        return Residual(self.margins, moves_of(first.table.counts, {}, hidden))

    def _totals_moves(self, cell: Cell, extra: Cell | None = None) -> list[tuple[Node, Node]]:
        """Ways to move ``cell`` with the other hidden totals: a unit going from an end
        ``p`` (a month's column, or the grand corner) to an end ``q`` through it. The
        totals form a tree, so that path is unique: it goes through ``cell`` exactly
        when ``q`` is reached from ``p``, but no longer once ``cell`` is left out."""
        residual = self._totals_residual(extra)
        ends = set(self.ends)
        found: list[tuple[Node, Node]] = []
        for p in self.ends:
            through = (residual.reach(p) - residual.reach(p, cell)) & ends
            found.extend((p, q) for q in sorted(through))
        return found

    def _follows(self, j: int, p: Node, q: Node) -> bool:
        """Whether table ``j`` can make up a unit of the totals going from p to q."""
        return p in self.residual(j).reach(q)

    def _failing(self, p: Node, q: Node) -> list[int]:
        return [j for j in range(len(self.sheets)) if not self._follows(j, p, q)]

    def _followed(self, p: Node, q: Node) -> bool:
        return not self._failing(p, q)

    def _more_totals(self, cell: Cell) -> bool:
        first = self.sheets[0]
        shown = [
            a.cell for a in self.margins if a.cell not in first.hidden and self.eligible(0, a.cell)
        ]
        if not shown:
            return False
        opening = [c for c in shown if self._totals_moves(cell, extra=c)]
        self.hide(0, min(opening or shown, key=lambda c: self.key(0, c)))
        return True


class TimePair(Engine):
    """The two time tables, hidden alike. ``alone`` bounds each table's cells when the
    other table stays as it is; ``bounds`` (on each sheet) hold when both move.
    ``withheld`` cells are hidden with everything that could tell them apart (their
    whole period, and every total over periods): they need no further check."""

    def __init__(
        self,
        tables: tuple[Table, Table],
        bounds: tuple[Mapping[Cell, Bounds], Mapping[Cell, Bounds]],
        alone: tuple[Mapping[Cell, Bounds], Mapping[Cell, Bounds]],
        withheld: frozenset[Cell] = frozenset(),
    ) -> None:
        super().__init__([Sheet(t, b) for t, b in zip(tables, bounds, strict=True)])
        self.alone = alone
        self.withheld = withheld

    def shared(self, cell: Cell) -> bool:
        return True

    def eligible(self, i: int, cell: Cell) -> bool:
        return all(any(sheet.could_move(cell)) for sheet in self.sheets)

    def _alone(self, i: int) -> Residual:
        if i not in self._cache:
            self._cache[i] = self.sheets[i].residual(bounds=self.alone[i])
        return self._cache[i]

    def _together(self) -> Residual:
        if -1 not in self._cache:
            self._cache[-1] = self._both()
        return self._cache[-1]

    def _both(self) -> Residual:
        a, b = self.sheets
        ma = moves_of(a.table.counts, a.bounds, a.hidden)
        mb = moves_of(b.table.counts, b.bounds, b.hidden)
        both = {c: (ma[c][0] and mb[c][0], ma[c][1] and mb[c][1]) for c in ma}
        return Residual(a.arcs, both)

    def protected(self, i: int, cell: Cell) -> bool:
        if cell in self.withheld:
            return True
        arc = self.sheets[i].arc[cell]
        return self._alone(i).can_move(arc) or self._together().can_move(arc)

    def complement(self, i: int, cell: Cell) -> bool:
        arc = self.sheets[i].arc[cell]
        return any(
            self.open_path(i, residual, residual.directions(arc), cell)
            for residual in (self._alone(i), self._together())
        )


def hidden_of(engine: Engine) -> list[frozenset[Cell]]:
    return [frozenset(sheet.hidden) for sheet in engine.sheets]
