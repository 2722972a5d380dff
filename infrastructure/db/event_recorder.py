"""The event store's recorder on PostgreSQL: an append in one round trip.

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
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import suppress
from typing import Any, Final

import psycopg
from eventsourcing.persistence import InterfaceError, OperationalError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.utils import retry
from psycopg.sql import SQL

_BEGIN: Final = SQL("BEGIN")
_COMMIT: Final = SQL("COMMIT")


class OneTripRecorder(PostgresApplicationRecorder):
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
            return self._fetch_ids_after_insert_events(curs, stored_events, **kwargs)


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
