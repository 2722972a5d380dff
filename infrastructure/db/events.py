"""The event store's table, as the eventsourcing library's application recorder
creates it, read beside it by the views and the ledger.

One row a record: ``originator_id`` (the stream: a UUID on PostgreSQL, its 32 hex
digits on SQLite), ``originator_version``, ``topic`` (in clear), ``state`` (the
sealed bytes) and its position in the log (``notification_id`` on PostgreSQL, the
``rowid`` on SQLite). Its name is the recorder's (``stored_events`` on SQLite,
``rete_events`` in the schema on PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from infrastructure.db.dialect import Dialect

# SQLite stores a UUID as its 32 hex digits: hyphenated as ``str(UUID)`` does (in
# C, for every record of a rebuild, rather than in Python).
_HYPHENATED: Final = (
    "CASE WHEN length(originator_id) = 32 THEN substr(originator_id, 1, 8) || '-' || "
    "substr(originator_id, 9, 4) || '-' || substr(originator_id, 13, 4) || '-' || "
    "substr(originator_id, 17, 4) || '-' || substr(originator_id, 21) ELSE originator_id END"
)


def events_table_name(recorder: object) -> str:
    """The table ``recorder`` (an SQLite or PostgreSQL application recorder) writes."""
    name = getattr(recorder, "events_table_name", None)
    if not isinstance(name, str):
        raise TypeError("only SQLite or PostgreSQL event stores are read beside the events")
    return name


@dataclass(frozen=True)
class EventsTable:
    """Statements reading the events table; each record comes back as
    ``(position, stream, version, topic, state)``."""

    dialect: Dialect
    name: str

    @property
    def _sqlite(self) -> bool:
        return self.dialect.name == "sqlite"

    @property
    def position(self) -> str:
        return "rowid" if self._sqlite else "notification_id"

    @property
    def stream_text(self) -> str:
        """The stream id as ``str(UUID)`` writes it, as a column of a statement."""
        return _HYPHENATED if self._sqlite else "originator_id::text"

    def head(self) -> str:
        """The position of the last record (NULL when there is none)."""
        return f"SELECT MAX({self.position}) FROM {self.dialect.qualify(self.name)}"

    def records(self, *, hyphenated: bool, topics: int = 0) -> str:
        """At most ``limit`` records with ``after < position <= stop`` (parameters
        after, stop, [topics], limit), in log order. ``hyphenated``: the stream as
        ``str(UUID)`` (else as stored on SQLite); ``topics``: how many topics the
        records must have one of (PostgreSQL: one array parameter)."""
        if self._sqlite:
            stream = _HYPHENATED if hyphenated else "originator_id"
            among = f"AND topic IN ({', '.join(['%s'] * topics)}) " if topics else ""
        else:
            stream = "originator_id::text"
            among = "AND topic = ANY(%s) " if topics else ""
        p = self.position
        return (
            f"SELECT {p}, {stream}, originator_version, topic, state "
            f"FROM {self.dialect.qualify(self.name)} WHERE {p} > %s AND {p} <= %s "
            f"{among}ORDER BY {p} LIMIT %s"
        )

    def record_params(
        self, after: int, stop: int, limit: int, topics: Sequence[str] = ()
    ) -> list[object]:
        """The parameters of ``records``."""
        if self._sqlite:
            return [after, stop, *topics, limit]
        return [after, stop, *([list(topics)] if topics else []), limit]
