"""The event store's appends on PostgreSQL in one round trip (issue 14).

``OneTripRecorder`` sends a whole append (BEGIN, the table's lock, NOTIFY, the
INSERT, COMMIT) with one pipeline sync. What must not change: a conflicting
append is eventsourcing's ``IntegrityError`` (the conflict answer and the commit
witness rely on it), writes nothing, and leaves its pooled connection clean for
the next one; the events of one append get consecutive notification ids in their
order; the table is still locked for each append (notification ids in commit
order for the log's followers).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any
from uuid import UUID, uuid4

import psycopg
import pytest
from eventsourcing.persistence import IntegrityError, StoredEvent

from application.rete import Rete
from infrastructure.db import Database, open_database
from infrastructure.db.event_recorder import OneTripRecorder
from infrastructure.store import ReteEventStore

POSTGRES_ONLY = pytest.mark.parametrize(
    "backend", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)


@pytest.fixture
def database(make_database: Callable[[int], Database]) -> Database:
    # One connection: the append after a failed one runs on the connection it used.
    return make_database(1)


@pytest.fixture
def recorder(database: Database) -> OneTripRecorder:
    made = OneTripRecorder(database.datastore, events_table_name="probe_events")
    made.create_table()
    return made


def event(stream: UUID, version: int, state: bytes) -> StoredEvent:
    return StoredEvent(stream, version, "tests:Probe", state)


def test_the_event_store_appends_through_it_on_postgresql_only(
    make_rete: Callable[..., Rete], backend: dict[str, str]
) -> None:
    store = make_rete().ctx.store
    assert isinstance(store, ReteEventStore)
    on_postgres = backend["RETE_DATABASE_URL"].startswith("postgresql")
    assert isinstance(store.recorder, OneTripRecorder) == on_postgres


@POSTGRES_ONLY
def test_a_conflicting_append_raises_integrity_error_and_writes_nothing(
    recorder: OneTripRecorder, database: Database
) -> None:
    a, b = uuid4(), uuid4()
    first = recorder.insert_events([event(a, 1, b"one"), event(a, 2, b"two")])
    assert first is not None
    # The new stream's event comes first: it is not kept when the second conflicts.
    with pytest.raises(IntegrityError):
        recorder.insert_events([event(b, 1, b"other"), event(a, 2, b"again")])
    assert recorder.select_events(b) == []
    assert [e.state for e in recorder.select_events(a)] == [b"one", b"two"]
    assert [n.id for n in recorder.select_notifications(start=1, limit=10)] == list(first)
    # The pool's one connection came back out of any transaction, and appends again.
    with database.datastore.get_connection() as conn:
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    after = recorder.insert_events([event(a, 3, b"three"), event(b, 1, b"other")])
    assert after is not None
    assert after[0] > first[-1]
    assert [e.state for e in recorder.select_events(a)] == [b"one", b"two", b"three"]
    assert [e.state for e in recorder.select_events(b)] == [b"other"]


@POSTGRES_ONLY
def test_the_events_of_an_append_get_consecutive_ids_in_their_order(
    recorder: OneTripRecorder,
) -> None:
    recorder.insert_events([event(uuid4(), 1, b"before")])
    stream = uuid4()
    ids = recorder.insert_events([event(stream, v, bytes([v])) for v in range(1, 6)])
    assert ids is not None
    assert list(ids) == list(range(ids[0], ids[0] + 5))
    logged = recorder.select_notifications(start=ids[0], limit=10)
    assert [(n.id, n.originator_version, n.state) for n in logged] == [
        (i, v, bytes([v])) for i, v in zip(ids, range(1, 6), strict=True)
    ]


@POSTGRES_ONLY
def test_an_append_is_one_sync_and_still_locks_the_table(
    recorder: OneTripRecorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder.insert_events([event(uuid4(), 1, b"warm")])  # the pool opened, types known
    sent: list[str] = []
    syncs: list[str] = []
    execute, sync, end = psycopg.Cursor.execute, psycopg.Pipeline.sync, psycopg.Pipeline.__exit__

    def executing(self: psycopg.Cursor[Any], query: Any, *args: Any, **kwargs: Any) -> Any:
        text = query.as_string() if isinstance(query, psycopg.sql.Composable) else str(query)
        sent.append(text if self.connection._pipeline is not None else "ALONE " + text)
        return execute(self, query, *args, **kwargs)

    def syncing(self: psycopg.Pipeline) -> None:
        syncs.append("sync")
        sync(self)

    def ending(self: psycopg.Pipeline, *args: Any) -> None:
        syncs.append("end")
        end(self, *args)

    monkeypatch.setattr(psycopg.Cursor, "execute", executing)
    monkeypatch.setattr(psycopg.Pipeline, "sync", syncing)
    monkeypatch.setattr(psycopg.Pipeline, "__exit__", ending)
    recorder.insert_events([event(uuid4(), 1, b"one"), event(uuid4(), 1, b"two")])
    monkeypatch.undo()

    assert syncs == ["end"]
    assert not [s for s in sent if s.startswith("ALONE")]
    assert [s.split()[0] for s in sent] == ["BEGIN", "SET", "LOCK", "NOTIFY", "INSERT", "COMMIT"]
    assert "IN EXCLUSIVE MODE" in sent[2]


@POSTGRES_ONLY
def test_processes_starting_at_once_create_the_tables_without_a_catalog_race(
    backend: dict[str, str], recorder: OneTripRecorder
) -> None:
    # The workers of `rete serve`, or a server and a command, start together: each
    # runs the recorder's create statements. None may rewrite a catalog row that
    # exists already (the library's CREATE OR REPLACE FUNCTION did: "tuple
    # concurrently updated" for one of them, now and then).
    assert not any("FUNCTION" in s.as_string() for s in recorder.sql_create_statements)
    failures: list[BaseException] = []

    def start() -> None:
        opened = open_database(backend["RETE_DATABASE_URL"], 1)
        try:
            OneTripRecorder(opened.datastore, events_table_name="probe_events").create_table()
        except BaseException as e:  # every failure is the finding
            failures.append(e)
        finally:
            opened.close()

    for _ in range(5):
        starting = [threading.Thread(target=start) for _ in range(4)]
        for thread in starting:
            thread.start()
        for thread in starting:
            thread.join()
    assert failures == []
