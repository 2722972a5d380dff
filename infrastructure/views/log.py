"""The event store's log, read beside the views on the views' own connection.

The same rows ``recorder.select_notifications`` returns, in the same order
(SQLite: the rowid; PostgreSQL: ``notification_id``), but as plain tuples with the
stream id as text: a projection needs nothing more, and a rebuild reads every
record there is (the ledger reads the log the same way). Reading inside the views'
write transaction also means the head and the records come from one snapshot.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final, NamedTuple

from infrastructure.views.db.base import Dialect, ViewTx


class StoredRecord(NamedTuple):
    """One record of the log as stored: its outer seal still closed."""

    position: int
    stream: str  # the stream id as text (``str(UUID)``)
    version: int
    topic: str
    state: bytes


# SQLite stores a UUID as its 32 hex digits: the query hyphenates it, as ``str(UUID)``
# does (in C, for every record of a rebuild, rather than in Python).
_HYPHENATED: Final = (
    "CASE WHEN length(originator_id) = 32 THEN substr(originator_id, 1, 8) || '-' || "
    "substr(originator_id, 9, 4) || '-' || substr(originator_id, 13, 4) || '-' || "
    "substr(originator_id, 17, 4) || '-' || substr(originator_id, 21) ELSE originator_id END"
)


class EventLog:
    def __init__(self, dialect: Dialect, events_table: str) -> None:
        self._sqlite = dialect.name == "sqlite"
        events = dialect.qualify(events_table)
        if self._sqlite:
            self._head = f"SELECT MAX(rowid) FROM {events}"
            self._select = (
                f"SELECT rowid, {_HYPHENATED}, originator_version, topic, state FROM {events} "
                "WHERE rowid > %s AND rowid <= %s {topics} ORDER BY rowid LIMIT %s"
            )
        else:
            self._head = f"SELECT MAX(notification_id) FROM {events}"
            self._select = (
                "SELECT notification_id, originator_id::text, originator_version, topic, state "
                f"FROM {events} WHERE notification_id > %s AND notification_id <= %s "
                "{topics} ORDER BY notification_id LIMIT %s"
            )
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
        if self._sqlite:
            params: list[object] = [after, stop, *topics, limit]
        else:
            params = [after, stop, *([list(topics)] if topics else []), limit]
        # Binary results on PostgreSQL: a state comes as its bytes, not as hex to decode.
        rows = tx.query(self._statement(len(topics)), params, binary=True)
        return list(map(StoredRecord._make, rows))

    def _statement(self, topics: int) -> str:
        statement = self._statements.get(topics)
        if statement is None:
            if not topics:
                clause = ""
            elif self._sqlite:
                clause = f"AND topic IN ({', '.join(['%s'] * topics)})"
            else:
                clause = "AND topic = ANY(%s)"
            statement = self._statements[topics] = self._select.replace("{topics}", clause)
        return statement
