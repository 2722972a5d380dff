"""``NetworkViews``: the network's views, bound to their tables, applied to the log.

Each view keeps its own position in ``rete_view_tracking``; a batch of the log is
applied to every view that has not seen it yet, and the positions move in the
same transaction as the rows. The same views can be bound to the live tables or
to the tables a rebuild fills (``REBUILDING``) until they replace the live ones.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from application.ports import KeyStore
from domain.events import derived_fields
from infrastructure.views.access_view import ACCESS_VIEW
from infrastructure.views.cases_view import CASES_VIEW
from infrastructure.views.db.base import Dialect, ViewTx
from infrastructure.views.entries_views import ASSESSMENTS_VIEW, CONSENTS_VIEW, ENTRIES_VIEW
from infrastructure.views.events import Place, decoded, place_of
from infrastructure.views.log import StoredRecord
from infrastructure.views.opening import SealedPartOpener
from infrastructure.views.partitions import BY_CASE_INSIDE, part_of
from infrastructure.views.records import BatchOpener, OpenedRecord, event_class
from infrastructure.views.referrals_view import REFERRALS_VIEW
from infrastructure.views.row_mac import RowMac
from infrastructure.views.rows import RowSet
from infrastructure.views.schema import Table
from infrastructure.views.statements import TableSql, TrackingSql
from infrastructure.views.view import Handler, View

ALL_VIEWS: tuple[View, ...] = (
    CASES_VIEW,
    REFERRALS_VIEW,
    ENTRIES_VIEW,
    CONSENTS_VIEW,
    ASSESSMENTS_VIEW,
    ACCESS_VIEW,
)
VIEW_NAMES: tuple[str, ...] = tuple(v.name for v in ALL_VIEWS)

LIVE = ""
REBUILDING = "__rebuild"


class UnknownView(ValueError):
    pass


def chosen(names: Sequence[str] | None) -> tuple[View, ...]:
    """The views named (all when ``names`` is empty or None), in their usual order."""
    if not names:
        return ALL_VIEWS
    unknown = sorted(set(names) - set(VIEW_NAMES))
    if unknown:
        raise UnknownView(f"no view {unknown[0]!r}; the views are: {', '.join(VIEW_NAMES)}")
    return tuple(v for v in ALL_VIEWS if v.name in names)


@dataclass(frozen=True)
class Bound:
    """A view under the names it has now."""

    view: View
    tracking: str
    tables: dict[Table, TableSql]


class NetworkViews:
    def __init__(self, views: Sequence[View], dialect: Dialect, suffix: str = LIVE) -> None:
        self.suffix = suffix
        self.tracking = TrackingSql(dialect)
        self.bound = [
            Bound(v, v.name + suffix, {t: TableSql(t, t.name + suffix, dialect) for t in v.tables})
            for v in views
        ]
        self.tables = {t: sql for b in self.bound for t, sql in b.tables.items()}
        self.names = [b.tracking for b in self.bound]  # as tracked
        by_topic: dict[str, list[tuple[str, Handler]]] = {}
        place_only: dict[str, bool] = {}  # topic: no view bound here reads beyond the place
        for b in self.bound:
            by_place = b.view.place_only_topics()
            for topic, handler in b.view.handlers().items():
                by_topic.setdefault(topic, []).append((b.tracking, handler))
                place_only[topic] = place_only.get(topic, True) and topic in by_place
        self._by_topic = by_topic
        self.topics = sorted(by_topic)
        # Their seals stay closed.
        self._place_only = frozenset(topic for topic, only in place_only.items() if only)
        # What ``apply_part`` does with a record of each topic, looked up once: its
        # handlers, the field inside its seal that gives its part (None: its stream
        # does), whether its seal stays closed.
        self._by_topic_in_parts = {
            topic: (
                tuple(handler for _, handler in handlers),
                BY_CASE_INSIDE.get(topic),
                topic in self._place_only and topic not in BY_CASE_INSIDE,
            )
            for topic, handlers in by_topic.items()
        }

    # -- tables ------------------------------------------------------------------

    def prepare(self, tx: ViewTx) -> list[str]:
        """Create what is missing; start again from the log any view whose stored
        shape is not its definition's. Returns the views started afresh."""
        tx.command(self.tracking.create())
        known = self.tracking.positions(tx)
        fresh = []
        for b in self.bound:
            stored = known.get(b.tracking)
            present = all(tx.table_exists(sql.name) for sql in b.tables.values())
            if stored is not None and stored[1] == b.view.shape() and present:
                continue
            self._recreate(tx, b)
            fresh.append(b.view.name)
        return fresh

    def reset(self, tx: ViewTx) -> None:
        """Empty every view and start it from the beginning of the log."""
        tx.command(self.tracking.create())
        for b in self.bound:
            self._recreate(tx, b)

    # The DDL of a view's tables in one round trip (``Tx.commands``): a rebuild
    # drops and creates every table.

    def drop(self, tx: ViewTx) -> None:
        tx.commands([sql.drop() for b in self.bound for sql in b.tables.values()])
        for b in self.bound:
            self.tracking.forget(tx, b.tracking)

    def _recreate(self, tx: ViewTx, b: Bound) -> None:
        statements = []
        for sql in b.tables.values():
            statements += [sql.drop(), sql.create()]
            if self.suffix == LIVE:
                statements += sql.create_indexes()
        tx.commands(statements)
        self.tracking.start(tx, b.tracking, b.view.shape())

    # -- following the log ---------------------------------------------------------

    def positions(self, tx: ViewTx) -> dict[str, int]:
        known = self.tracking.positions(tx)
        return {b.tracking: known[b.tracking][0] for b in self.bound}

    def apply(
        self,
        tx: ViewTx,
        keys: KeyStore,
        records: Sequence[StoredRecord],
        positions: dict[str, int],
        mac: RowMac,
    ) -> int:
        """Apply each record to the views that have not seen it; how many were
        applied to at least one view. The rows are written at the end, at once."""
        rows = RowSet(tx, self.tables, mac)
        opener, place_only = BatchOpener(keys), self._place_only
        parts = SealedPartOpener(keys)  # a derived field's case key (``decoded``)
        lowest, highest = min(positions.values()), max(positions.values())
        # First the outer seals, then the case keys the derived fields need, read
        # at once, then the events: one read of the key store per batch, not per case.
        taken: list[tuple[list[tuple[str, Handler]], Place, OpenedRecord | None]] = []
        by_topic, take = self._by_topic, taken.append
        for stored in records:
            position, stream, version, topic, _ = stored
            handlers = by_topic.get(topic)
            if not handlers or position <= lowest:
                continue
            if position <= highest:  # some views have seen it (one was rebuilt)
                handlers = [(n, h) for n, h in handlers if positions[n] < position]
                if not handlers:
                    continue
            if topic in place_only:
                take((handlers, place_of(position, stream, version, topic), None))
            else:
                record = opener.open(stored)
                take((handlers, record, record))
        _prefetch(parts, (opened for _, _, opened in taken))
        for handlers, place, opened in taken:
            event = None if opened is None else decoded(opened, parts)
            for _, handle in handlers:
                handle(event, place, rows)
        rows.flush()
        return len(taken)

    def apply_part(
        self,
        rows: RowSet,
        opener: BatchOpener,
        sealed: SealedPartOpener,
        records: Sequence[StoredRecord],
        part: int,
        parts: int,
    ) -> int:
        """Apply to every view the records of part ``part`` of ``parts``
        (``partitions``), into ``rows`` (written by the caller); how many. A record
        of another part is neither opened nor decoded, unless its part is inside
        its seal (an access record's case)."""
        # Every record of the log runs through here in a rebuild: lookups are hoisted.
        plans, open_, whole = self._by_topic_in_parts, opener.open, parts == 1
        taken: list[tuple[tuple[Handler, ...], str | None, Place, OpenedRecord | None]] = []
        take = taken.append
        for stored in records:
            plan = plans.get(stored[3])
            if plan is None:
                continue
            handlers, inside, closed = plan
            if inside is None and not whole and part_of(stored[1], parts) != part:
                continue
            if closed:
                take((handlers, None, place_of(*stored[:4]), None))
            else:
                record = open_(stored)
                take((handlers, inside, record, record))
        _prefetch(sealed, (opened for _, _, _, opened in taken))
        applied = 0
        for handlers, inside, place, opened in taken:
            event = None
            if opened is not None:
                event = decoded(opened, sealed)
                if (
                    inside is not None
                    and not whole
                    and part_of(str(getattr(event, inside)), parts) != part
                ):
                    continue
            for handle in handlers:
                handle(event, place, rows)
            applied += 1
        return applied

    def advance(self, tx: ViewTx, position: int) -> None:
        self.tracking.advance(tx, self.names, position)


_derived: dict[str, bool] = {}


def _prefetch(parts: SealedPartOpener, records: Iterable[OpenedRecord | None]) -> None:
    """The case keys of the sealed parts ``decoded`` will open (those of records
    whose class has derived fields), read by the key store at once."""
    blobs = []
    for opened in records:
        if opened is None or opened.sealed is None:
            continue
        derived = _derived.get(opened.topic)
        if derived is None:
            derived = _derived[opened.topic] = bool(derived_fields(event_class(opened.topic)))
        if derived:
            blobs.append(opened.sealed)
    if blobs:
        parts.prefetch(blobs)
