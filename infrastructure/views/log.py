"""The event store's log, read beside the views on the views' own connection.

The same rows ``recorder.select_notifications`` returns, in the same order
(``infrastructure.db.EventsTable``), but as plain tuples with the stream id as text: a projection needs nothing more, and a rebuild reads every
record there is (the ledger reads the log the same way). Reading inside the views'
write transaction also means the head and the records come from one snapshot.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from infrastructure.db import EventsTable
from infrastructure.views.db.base import ViewTx


class StoredRecord(NamedTuple):
    """One record of the log as stored: its outer seal still closed."""

    position: int
    stream: str  # the stream id as text (``str(UUID)``)
    version: int
    topic: str
    state: bytes


class EventLog:
    def __init__(self, events: EventsTable) -> None:
        self._events = events
        self._head = events.head()
        self._statements: dict[int, str] = {}

    def head(self, tx: ViewTx) -> int:
        """The position of the last record committed (0 when the log is empty)."""
        rows = tx.query(self._head)
        return int(rows[0][0] or 0) if rows else 0

    def records(
        self, tx: ViewTx, after: int, stop: int, limit: int, topics: Sequence[str]
    ) -> list[StoredRecord]:
        """At most ``limit`` records with ``after < position <= stop`` and one of
        ``topics`` (any topic when empty), in log order."""
        params = self._events.record_params(after, stop, limit, topics)
        # Binary results on PostgreSQL: a state comes as its bytes, not as hex to decode.
        rows = tx.query(self._statement(len(topics)), params, binary=True)
        return list(map(StoredRecord._make, rows))

    def _statement(self, topics: int) -> str:
        statement = self._statements.get(topics)
        if statement is None:
            statement = self._events.records(hyphenated=True, topics=topics)
            self._statements[topics] = statement
        return statement
