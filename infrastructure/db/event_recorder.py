"""The event store's recorders: on PostgreSQL an append in one round trip; on
both backends an append that checks its ``AppendGuard`` in its own transaction.

eventsourcing's ``PostgresApplicationRecorder.insert_events`` pipelines its
statements but syncs twice (once after the insert, so that a conflict surfaces
there, and again as the pipeline ends) and lets psycopg's transaction block send
its ``BEGIN`` and ``COMMIT``: several round trips for each append. Here the
whole append is queued in one pipeline and sent with ONE sync:

    BEGIN; SET LOCAL lock_timeout; LOCK TABLE ... IN EXCLUSIVE MODE; NOTIFY;
    INSERT ... RETURNING notification_id; COMMIT

The table lock stays: it is what keeps notification ids in commit order, so
that a follower of the log (the views, the ledger) never passes over an id that
a transaction still open fills in later.

When a statement fails, the server skips the rest up to the sync (the
``COMMIT`` too) and psycopg raises the first error, a unique violation of the
insert for a conflicting append; the transaction, left open and failed, is
rolled back before the connection goes back to the pool. Errors are translated
by the library's ``get_connection`` (a unique violation becomes eventsourcing's
``IntegrityError``, a lost connection its ``OperationalError``) and the library's
retry applies, exactly as for the library's own recorder.

An append may carry an ``AppendGuard``: what must hold, read in the append's own
transaction (under its table lock), for its records to be written at all. The
event store's checks before a write, a read each before (the ledger's hashed
versions; the case keys its records were sealed with, still there), become
conditions of the ``INSERT`` itself: no round trip of their own. When one does
not hold, nothing is inserted (the empty transaction commits) and
``GuardRefused`` says so; the caller finds out which (``ReteEventStore.save``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any, Final

import psycopg
from eventsourcing.persistence import InterfaceError, OperationalError, StoredEvent
from eventsourcing.postgres import PostgresAggregateRecorder, PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor
from eventsourcing.utils import retry
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Composed, Identifier

_BEGIN: Final = SQL("BEGIN")
_COMMIT: Final = SQL("COMMIT")


@dataclass
class AppendGuard:
    """What an append's records need, checked in its own transaction.

    ``first_versions``: the first version appended to each stream (32 hex digits),
    refused when the ledger (its table ``ledger_streams``) hashed that version or a
    later one whose record is gone from the log (docs/AUDIT.md). ``key_ids``: the
    case keys the records were sealed with, filled in while they are sealed
    (``SqlKeyStore.checked_by``), refused when one of them is gone from
    ``data_keys`` (destroyed: the case was erased meanwhile)."""

    data_keys: str
    ledger_streams: str | None = None
    first_versions: Mapping[str, int] = field(default_factory=dict)
    key_ids: list[bytes] = field(default_factory=list)


class GuardRefused(Exception):
    """An append's guard did not hold: nothing was written."""


class _GuardedInsert(PostgresAggregateRecorder):
    """The library's ``INSERT`` of an append, with an ``AppendGuard``'s conditions
    when it carries one. Between ``PostgresApplicationRecorder`` (its table lock and
    NOTIFY, then this) and ``PostgresAggregateRecorder`` in ``OneTripRecorder``'s
    order of classes."""

    def _insert_stored_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> None:
        guard = kwargs.get("guard")
        if not isinstance(guard, AppendGuard) or not (guard.first_versions or guard.key_ids):
            super()._insert_stored_events(curs, stored_events, **kwargs)
            return
        curs.execute(*self._guarded_insert(stored_events, guard))

    def _guarded_insert(
        self, stored_events: Sequence[StoredEvent], guard: AppendGuard
    ) -> tuple[Composed, list[Any]]:
        params: list[Any] = [
            [
                self.construct_pg_stored_event(
                    e.originator_id, e.originator_version, e.topic, e.state
                )
                for e in stored_events
            ]
        ]
        ledger = guard.ledger_streams if guard.first_versions else None
        if ledger is not None:
            streams = sorted(guard.first_versions)
            params += [streams, [guard.first_versions[s] for s in streams]]
        key_ids = sorted(set(guard.key_ids))
        if key_ids:
            params += [key_ids, len(key_ids)]
        shape = (ledger, guard.data_keys if key_ids else None)
        cache: dict[tuple[str | None, str | None], Composed] = self.__dict__.setdefault(
            "_guarded_statements", {}
        )
        statement = cache.get(shape)
        if statement is None:
            statement = cache[shape] = self._guarded_statement(*shape)
        return statement, params

    def _guarded_statement(self, ledger: str | None, data_keys: str | None) -> Composed:
        schema = Identifier(self.datastore.schema)
        table = Identifier(self.events_table_name)
        conditions: list[Composed] = []
        if ledger is not None:
            # As ``ReteEventStore._refuse_reused_versions``: no stream whose first
            # version appended is at or under the one the ledger hashed, whose
            # record is gone.
            conditions.append(
                SQL(
                    "NOT EXISTS (SELECT 1 FROM {ledger} l JOIN unnest(%s::text[], "
                    "%s::bigint[]) AS p(stream, first) ON l.stream = p.stream "
                    "WHERE p.first <= l.version AND NOT EXISTS (SELECT 1 FROM "
                    "{schema}.{table} e WHERE e.originator_id = p.stream::uuid "
                    "AND e.originator_version = l.version))"
                ).format(ledger=SQL(ledger), schema=schema, table=table)
            )
        if data_keys is not None:
            # Every case key the records were sealed with is still there.
            conditions.append(
                SQL("(SELECT count(*) FROM {keys} WHERE key_id = ANY(%s)) = %s").format(
                    keys=SQL(data_keys)
                )
            )
        statement = SQL(
            "INSERT INTO {schema}.{table} AS t (originator_id, originator_version, topic, "
            "state) SELECT originator_id, originator_version, topic, state FROM "
            "unnest(%s::{schema}.{stored_event_type}[])"
        ).format(
            schema=schema, table=table, stored_event_type=Identifier(self.stored_event_type_name)
        )
        if conditions:
            statement += SQL(" WHERE ") + SQL(" AND ").join(conditions)
        return statement + SQL(" RETURNING notification_id")


class OneTripRecorder(PostgresApplicationRecorder, _GuardedInsert):
    """``PostgresApplicationRecorder`` whose append is one round trip."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The library also creates, at every start, a database function that inserts
        # events (for its POSTGRES_ENABLE_DB_FUNCTIONS mode, which this recorder never
        # uses). ``CREATE OR REPLACE FUNCTION`` rewrites the function's catalog row
        # each time, so two processes starting at once (the workers of ``rete serve``,
        # or a server and a command) could fail with "tuple concurrently updated".
        del self.sql_create_statements[self.create_insert_function_statement_index]

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        if not stored_events:
            return None  # nothing to write (the library answers None too)
        with (
            self.datastore.get_connection() as conn,
            conn.cursor() as curs,
            conn.cursor() as ends,
        ):
            # The connection is in autocommit mode (the datastore's): the
            # transaction is these statements' own BEGIN and COMMIT.
            try:
                with conn.pipeline():
                    ends.execute(_BEGIN, prepare=True)
                    # The library's: the lock statements, the NOTIFY and the
                    # INSERT ... RETURNING, on ``curs``, whose results are the insert's.
                    self._insert_stored_events(curs, stored_events, **kwargs)
                    ends.execute(_COMMIT, prepare=True)
                # The pipeline's end was its one sync: every result is in.
            except BaseException:
                _roll_back(conn)
                raise
            ids = self._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        if ids is not None and len(ids) != len(stored_events):
            # Only a guard's conditions insert fewer (none): its transaction was empty.
            raise GuardRefused("the append's guard did not hold: nothing was written")
        return ids


class GuardedSqliteRecorder(SQLiteApplicationRecorder):
    """The library's recorder on SQLite, checking an append's ``AppendGuard`` in the
    append's own transaction (``BEGIN IMMEDIATE``: the database's write lock is
    held) before it inserts: one statement there instead of a read of its own, on a
    connection of its own, before each save and before each seal."""

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        guard = kwargs.get("guard")
        if isinstance(guard, AppendGuard) and stored_events:
            check = self._guard_check(guard)
            if check is not None:
                c.execute(*check)
                if not all(c.fetchone()):
                    # Raised inside the transaction: it is rolled back, nothing written.
                    raise GuardRefused("the append's guard did not hold: nothing was written")
        return super()._insert_events(c, stored_events, **kwargs)

    def _guard_check(self, guard: AppendGuard) -> tuple[str, list[Any]] | None:
        columns: list[str] = []
        params: list[Any] = []
        prefix = ""
        if guard.first_versions and guard.ledger_streams is not None:
            # As ``ReteEventStore._refuse_reused_versions``; streams as the library
            # stores them on SQLite (32 hex digits), as the ledger names them.
            streams = sorted(guard.first_versions)
            prefix = f"WITH p(stream, first) AS (VALUES {', '.join(['(?, ?)'] * len(streams))}) "
            for stream in streams:
                params += [stream, guard.first_versions[stream]]
            columns.append(
                f"NOT EXISTS (SELECT 1 FROM {guard.ledger_streams} l JOIN p "
                "ON l.stream = p.stream WHERE p.first <= l.version AND NOT EXISTS "
                f"(SELECT 1 FROM {self.events_table_name} e WHERE e.originator_id = "
                "p.stream AND e.originator_version = l.version))"
            )
        key_ids = sorted(set(guard.key_ids))
        if key_ids:
            columns.append(
                f"(SELECT count(*) FROM {guard.data_keys} WHERE key_id IN "
                f"({', '.join(['?'] * len(key_ids))})) = ?"
            )
            params += [*key_ids, len(key_ids)]
        if not columns:
            return None
        return f"{prefix}SELECT {', '.join(columns)}", params


def _roll_back(conn: psycopg.Connection[Any]) -> None:
    """End the failed or unfinished transaction, so that the pooled connection is
    clean (psycopg's connection block would roll it back too, but only as the pool
    takes the connection back: this does not rely on it). A broken connection
    cannot be rolled back: the pool drops it."""
    if conn.closed or conn.broken:
        return
    if conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE:
        return  # the COMMIT ran (and failed, ending the transaction), or no BEGIN did
    with suppress(psycopg.Error):
        conn.execute("ROLLBACK")
