"""A fault injected in the database drivers: an append of events is committed, and
the acknowledgement of its commit is lost (the connection drops just after the
database stored it), as during an outage.

PostgreSQL: psycopg's pipeline sends the COMMIT and reads its result, then its connection is closed and
``psycopg.OperationalError`` raised, as a dropped connection does; the
eventsourcing library then inserts the events again (it retries on
``OperationalError``). SQLite: the library's connection commits, then
``sqlite3.OperationalError`` is raised. Only the events' appends are hit (the
library's insert marks its thread), and only ``times`` of them.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteConnection


@contextmanager
def commit_acknowledgement_lost(times: int = 1) -> Iterator[list[int]]:
    """Yields a list that counts the acknowledgements lost."""
    lost: list[int] = []
    appending = threading.local()

    def armed() -> bool:
        if getattr(appending, "on", False) and len(lost) < times:
            appending.on = False
            lost.append(1)
            return True
        return False

    pg_insert = PostgresApplicationRecorder._insert_stored_events

    def pg_marking(self: Any, curs: Any, *args: Any, **kwargs: Any) -> Any:
        appending.on = True
        return pg_insert(self, curs, *args, **kwargs)

    # The library appends in pipeline mode: the COMMIT is answered when its pipeline ends.
    pg_exit = psycopg.Pipeline.__exit__

    def pg_losing(self: psycopg.Pipeline, exc_type: Any, exc: Any, tb: Any) -> None:
        pg_exit(self, exc_type, exc, tb)
        # Pipelines nest: the COMMIT has been answered once the connection is idle.
        committed = self._conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        if exc is None and committed and armed():
            self._conn.close()
            raise psycopg.OperationalError("server closed the connection unexpectedly")

    sqlite_insert = SQLiteApplicationRecorder._insert_events

    def sqlite_marking(self: Any, c: Any, *args: Any, **kwargs: Any) -> Any:
        appending.on = True
        return sqlite_insert(self, c, *args, **kwargs)

    sqlite_commit = SQLiteConnection.commit

    def sqlite_losing(self: SQLiteConnection) -> None:
        sqlite_commit(self)
        if armed():
            raise sqlite3.OperationalError("disk I/O error")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(PostgresApplicationRecorder, "_insert_stored_events", pg_marking)
        patch.setattr(psycopg.Pipeline, "__exit__", pg_losing)
        patch.setattr(SQLiteApplicationRecorder, "_insert_events", sqlite_marking)
        patch.setattr(SQLiteConnection, "commit", sqlite_losing)
        yield lost
