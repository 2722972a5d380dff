"""The attacker's view of one table: what its shown cells and totals leave open.

A table with all its totals is a flow network: each row, each column, each
year's part of a row or of the total row, and two corners are nodes; each cell
is an arc carrying its count; and "a total is the sum of its parts" is "what
flows into a node flows out of it". A hidden cell can take another value exactly
when a unit of flow can go round a cycle through it over hidden cells only:
one more (or one less) on the cell, made up by the other hidden cells of the
cycle, none going below zero (or its known floor) nor above its known cap.
Shown cells never move.

The constraint matrix of such a network is totally unimodular, so the linear
programming attack on a table gives whole numbers and is solved exactly here:
``interval`` computes by maximum flow the least and the greatest value a hidden
cell can take given everything shown, and ``Residual.can_move`` tells whether it
can take at least two values (whether a unit cycle goes through it).
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from application.observatory.periods import TOTAL, Periods
from application.observatory.tables import Cell, Table

Node = tuple[str, ...]
ALL: Node = ("all",)  # where the row totals start: the grand total flows into it
TOT: Node = ("tot",)  # where the column totals end: the grand total flows out of it

UNBOUNDED = 1 << 62


@dataclass(frozen=True, slots=True)
class Arc:
    cell: Cell
    tail: Node
    head: Node


@dataclass(frozen=True, slots=True)
class Bounds:
    """What an attacker knows bounds a cell whatever is hidden (0 and no cap, mostly)."""

    floor: int = 0
    cap: int | None = None


def arc_of(cell: Cell, periods: Periods) -> Arc:
    row, column = cell
    groups = set(periods.groups)
    group = periods.group_of.get(column)
    if row == TOTAL:
        if column == TOTAL:
            return Arc(cell, TOT, ALL)
        if column in groups:
            return Arc(cell, ("colyear", column), TOT)
        return Arc(cell, ("col", column), ("colyear", group) if group else TOT)
    if column == TOTAL:
        return Arc(cell, ALL, ("row", row))
    if column in groups:
        return Arc(cell, ("row", row), ("rowyear", row, column))
    return Arc(cell, ("rowyear", row, group) if group else ("row", row), ("col", column))


def arcs_of(table: Table) -> tuple[Arc, ...]:
    return tuple(arc_of(cell, table.periods) for cell in table.cells())


def lines(arcs: Iterable[Arc]) -> dict[Node, list[Arc]]:
    """Each node's arcs: one line of the table (a total and its parts)."""
    found: dict[Node, list[Arc]] = defaultdict(list)
    for arc in arcs:
        found[arc.tail].append(arc)
        found[arc.head].append(arc)
    return found


def moves_of(
    counts: Mapping[Cell, int], bounds: Mapping[Cell, Bounds], cells: Iterable[Cell]
) -> dict[Cell, tuple[bool, bool]]:
    """For each of ``cells`` (the hidden ones the attacker may move): can it go up, down?"""
    moves = {}
    for cell in cells:
        value, b = counts[cell], bounds.get(cell, Bounds())
        moves[cell] = (b.cap is None or value < b.cap, value > b.floor)
    return moves


class Residual:
    """The unit moves open to the attacker: each movable cell's arc forward (one
    more) when it may go up, backward (one less) when it may go down."""

    def __init__(self, arcs: Iterable[Arc], moves: Mapping[Cell, tuple[bool, bool]]) -> None:
        self.moves = moves
        self._out: dict[Node, list[tuple[Node, Cell]]] = defaultdict(list)
        self._in: dict[Node, list[tuple[Node, Cell]]] = defaultdict(list)
        for arc in arcs:
            up, down = moves.get(arc.cell, (False, False))
            if up:
                self._link(arc.tail, arc.head, arc.cell)
            if down:
                self._link(arc.head, arc.tail, arc.cell)

    def _link(self, tail: Node, head: Node, cell: Cell) -> None:
        self._out[tail].append((head, cell))
        self._in[head].append((tail, cell))

    def _search(
        self, start: Node, edges: Mapping[Node, list[tuple[Node, Cell]]], without: Cell | None
    ) -> set[Node]:
        seen = {start}
        queue = deque([start])
        while queue:
            node = queue.popleft()
            for other, cell in edges.get(node, ()):
                if cell != without and other not in seen:
                    seen.add(other)
                    queue.append(other)
        return seen

    def reach(self, start: Node, without: Cell | None = None) -> set[Node]:
        """Nodes a unit of flow can get to from ``start``."""
        return self._search(start, self._out, without)

    def coreach(self, end: Node, without: Cell | None = None) -> set[Node]:
        """Nodes from which a unit of flow can get to ``end``."""
        return self._search(end, self._in, without)

    def directions(self, arc: Arc) -> list[tuple[Node, Node]]:
        """The paths that would move ``arc``'s cell: (from, to) for going up, down."""
        up, down = self.moves.get(arc.cell, (False, False))
        return [
            ends for ok, ends in ((up, (arc.head, arc.tail)), (down, (arc.tail, arc.head))) if ok
        ]

    def can_move(self, arc: Arc) -> bool:
        """Whether the cell can take another value: a unit cycle through it exists."""
        return any(end in self.reach(start, arc.cell) for start, end in self.directions(arc))


class _Network:
    """A small maximum-flow network (Edmonds-Karp), for exact intervals."""

    def __init__(self) -> None:
        self.head: list[Node] = []
        self.capacity: list[int] = []
        self.adjacent: dict[Node, list[int]] = defaultdict(list)

    def add(self, tail: Node, head: Node, capacity: int) -> None:
        for a, b, c in ((tail, head, capacity), (head, tail, 0)):
            self.adjacent[a].append(len(self.head))
            self.head.append(b)
            self.capacity.append(c)

    def max_flow(self, source: Node, sink: Node, limit: int) -> int:
        flow = 0
        while flow < limit:
            before: dict[Node, int] = {source: -1}
            queue = deque([source])
            while queue and sink not in before:
                node = queue.popleft()
                for edge in self.adjacent[node]:
                    nxt = self.head[edge]
                    if self.capacity[edge] > 0 and nxt not in before:
                        before[nxt] = edge
                        queue.append(nxt)
            if sink not in before:
                break
            path, node = [], sink
            while node != source:
                edge = before[node]
                path.append(edge)
                node = self.head[edge ^ 1]
            push = min([limit - flow, *(self.capacity[e] for e in path)])
            for edge in path:
                self.capacity[edge] -= push
                self.capacity[edge ^ 1] += push
            flow += push
        return flow


def interval(
    table: Table,
    hidden: Iterable[Cell],
    cell: Cell,
    bounds: Mapping[Cell, Bounds] | None = None,
) -> tuple[int, int | None]:
    """The least and greatest value of a hidden ``cell`` over every table of
    non-negative whole numbers agreeing with all shown cells (``None``: no bound)."""
    bounds = bounds or {}
    arcs = {arc.cell: arc for arc in arcs_of(table)}
    value, own = table[cell], bounds.get(cell, Bounds())

    def network() -> _Network:
        net = _Network()
        for other in set(hidden) - {cell}:
            arc, v, b = arcs[other], table[other], bounds.get(other, Bounds())
            net.add(arc.tail, arc.head, UNBOUNDED if b.cap is None else b.cap - v)
            net.add(arc.head, arc.tail, v - b.floor)
        return net

    arc = arcs[cell]
    room = UNBOUNDED if own.cap is None else own.cap - value
    up = network().max_flow(arc.head, arc.tail, room)
    down = network().max_flow(arc.tail, arc.head, value - own.floor)
    return value - down, None if up >= UNBOUNDED else value + up
