"""The event store's log, read beside the views on the views' own connection.

The same rows ``recorder.select_notifications`` returns, in the same order
(``infrastructure.db.EventsTable``), but as plain tuples with the stream id as text: a projection needs nothing more, and a rebuild reads every
record there is (the ledger reads the log the same way). Reading inside the views'
write transaction also means the head and the records come from one snapshot.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, Final, NamedTuple

from infrastructure.db import EventsTable
from infrastructure.views.db.base import ViewTx


class StoredRecord(NamedTuple):
    """One record of the log as stored: its outer seal still closed."""

    position: int
    stream: str  # the stream id as text (``str(UUID)``)
    version: int
    topic: str
    state: bytes


# A row of the log as a ``StoredRecord``: ``StoredRecord._make`` without its Python
# frame (a rebuild makes one per record).
as_record: Final[Callable[[Sequence[Any]], StoredRecord]] = partial(tuple.__new__, StoredRecord)


class Standing(NamedTuple):
    """Where the log and the views stand, read in one statement."""

    head: int  # the position of the last record committed (0: the log is empty)
    reached: int | None  # the lowest of the views' positions (None: not tracked)
    pending: bool  # a record some view reads lies after ``reached`` (and ``seen``)


class EventLog:
    def __init__(self, events: EventsTable) -> None:
        self._events = events
        self.events = events  # the table read (a rebuild reads its parts: ``partitions``)
        self._head = events.head()
        self._statements: dict[int, str] = {}
        self._standings: dict[tuple[str, tuple[str, ...], tuple[str, ...]], str] = {}

    def head(self, tx: ViewTx) -> int:
        """The position of the last record committed (0 when the log is empty)."""
        rows = tx.query(self._head)
        return int(rows[0][0] or 0) if rows else 0

    def standing(
        self, tx: ViewTx, tracking: str, names: Sequence[str], seen: int, topics: Sequence[str]
    ) -> Standing:
        """The head of the log, the lowest position of the views ``names`` (tracked
        in the table ``tracking``, qualified), and whether a record with one of
        ``topics`` lies after both that position and ``seen``, up to the head: what
        a catch-up needs to know before it opens a transaction, in one round trip.
        When the head is not past ``seen`` only the head is read (``reached`` is
        None, ``pending`` False): the idle catch-up before every read costs no more
        than reading the head."""
        key = (tracking, tuple(names), tuple(topics))
        statement = self._standings.get(key)
        if statement is None:
            statement = self._standings[key] = self._standing(tracking, names, topics)
        head, reached, pending = tx.query(statement, (seen, seen, seen))[0]
        return Standing(int(head), None if reached is None else int(reached), bool(pending))

    def _standing(self, tracking: str, names: Sequence[str], topics: Sequence[str]) -> str:
        # The names and topics are the code's own constants, written into the
        # statement once: an idle catch-up then sends three numbers, not thirty values.
        events, p = self._events.dialect.qualify(self._events.name), self._events.position
        among = f"AND topic IN ({_literals(topics)}) " if topics else ""
        reached = f"(SELECT MIN(position) FROM {tracking} WHERE name IN ({_literals(names)}))"
        # CASE: past ``seen`` only are the views' positions and the records looked at.
        return (
            f"SELECT h.head, CASE WHEN h.head > %s THEN {reached} END, "
            f"CASE WHEN h.head > %s THEN EXISTS (SELECT 1 FROM {events} "
            f"WHERE {p} > %s AND {p} <= h.head {among}AND {p} > {reached}) END "
            f"FROM (SELECT COALESCE(MAX({p}), 0) AS head FROM {events}) h"
        )

    def records(
        self, tx: ViewTx, after: int, stop: int, limit: int, topics: Sequence[str]
    ) -> list[StoredRecord]:
        """At most ``limit`` records with ``after < position <= stop`` and one of
        ``topics`` (any topic when empty), in log order."""
        params = self._events.record_params(after, stop, limit, topics)
        # Binary results on PostgreSQL: a state comes as its bytes, not as hex to decode.
        rows = tx.query(self._statement(len(topics)), params, binary=True)
        return list(map(as_record, rows))

    def ahead(self, tx: ViewTx, after: int, stop: int, limit: int, topics: Sequence[str]) -> None:
        """``records`` with these arguments, sent with the transaction's next
        statement (``Tx.ahead``): the call that follows costs no round trip."""
        params = self._events.record_params(after, stop, limit, topics)
        tx.ahead(self._statement(len(topics)), params, binary=True)

    def _statement(self, topics: int) -> str:
        statement = self._statements.get(topics)
        if statement is None:
            statement = self._events.records(hyphenated=True, topics=topics)
            self._statements[topics] = statement
        return statement


def _literals(values: Sequence[str]) -> str:
    """SQL string literals (standard quoting, as both backends read it), comma-separated."""
    return ", ".join("'" + value.replace("'", "''") + "'" for value in values)
