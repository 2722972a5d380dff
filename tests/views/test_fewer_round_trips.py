"""What the write path's fewer round trips must not change (issue 14).

A write transaction's statements without results wait for its next statement or
its commit (``Tx.many``, ``Tx.later``), and a query may be sent ahead of the
statement that needs its answer (``Tx.ahead``), on PostgreSQL in one pipeline. A
statement that fails there still fails its whole transaction, and nothing of it
stays. A move's consent check reads the consent's row alone (``relied_on``): a
row deleted by someone past the application is still refused, as every other
read of it is.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from support.http import Api
from support.people import people_of
from support.stories import record_consent, refer
from test_tampered_views_are_refused import MARKER, a_case, alter_one_row, case_id_of

from application.integrity import IntegrityFailure
from domain.referral import Move
from infrastructure.db import Database

_PROBE = "round_trip_probe"


@pytest.fixture
def database(make_database: Callable[[int], Database]) -> Database:
    return make_database(2)


def _table(database: Database) -> str:
    table = database.dialect.qualify(_PROBE)
    with database.write() as tx:
        tx.command(f"CREATE TABLE {table} (k INTEGER PRIMARY KEY, v TEXT)")
    return table


def _rows(database: Database, table: str) -> list[tuple[Any, ...]]:
    with database.read() as tx:
        return tx.query(f"SELECT k, v FROM {table} ORDER BY k")


def test_a_queued_statement_that_fails_fails_its_whole_transaction(database: Database) -> None:
    table = _table(database)
    insert = f"INSERT INTO {table} (k, v) VALUES (%s, %s)"
    broken = pytest.raises((psycopg.errors.UniqueViolation, sqlite3.IntegrityError))
    with broken, database.write() as tx:
        tx.command(insert, (1, "first"))
        tx.many(insert, [(2, "twice"), (2, "twice")])  # the second breaks the key
        tx.later(f"UPDATE {table} SET v = %s WHERE k = %s", ("changed", 1))
    assert _rows(database, table) == []
    # The connections serve the next transactions as before.
    with database.write() as tx:
        tx.many(insert, [(3, "third")])
        tx.later(f"UPDATE {table} SET v = %s WHERE k = %s", ("changed", 3))
    assert _rows(database, table) == [(3, "changed")]


def test_a_queued_statement_is_seen_by_the_next_statement_of_its_transaction(
    database: Database,
) -> None:
    table = _table(database)
    with database.write() as tx:
        tx.many(f"INSERT INTO {table} (k, v) VALUES (%s, %s)", [(1, "a"), (2, "b")])
        assert tx.query(f"SELECT count(*) FROM {table}") == [(2,)]
        assert tx.command(f"UPDATE {table} SET v = %s WHERE k > %s", ("c", 0)) == 2
    assert _rows(database, table) == [(1, "c"), (2, "c")]


def test_a_query_sent_ahead_answers_as_the_query_itself(database: Database) -> None:
    table = _table(database)
    with database.write() as tx:
        tx.many(f"INSERT INTO {table} (k, v) VALUES (%s, %s)", [(1, "a"), (2, "b"), (3, "c")])
    select = f"SELECT k, v FROM {table} WHERE k > %s ORDER BY k"
    with database.write() as tx:
        tx.ahead(select, (1,))
        assert tx.query(f"SELECT count(*) FROM {table}") == [(3,)]
        assert tx.query(select, (1,)) == [(2, "b"), (3, "c")]
        # Other parameters: the query itself, answered as it stands.
        assert tx.query(select, (2,)) == [(3, "c")]
        tx.command(f"DELETE FROM {table} WHERE k = %s", (3,))
        assert tx.query(select, (1,)) == [(2, "b")]  # asked again: not the old answer


def test_a_failing_query_sent_ahead_fails_its_transaction(database: Database) -> None:
    table = _table(database)
    broken = pytest.raises((psycopg.errors.DivisionByZero, ZeroDivisionError))
    with broken, database.write() as tx:
        tx.command(f"INSERT INTO {table} (k, v) VALUES (%s, %s)", (1, "a"))
        tx.ahead(f"SELECT 1 / (k - k) FROM {table}")
        tx.query(f"SELECT count(*) FROM {table}")  # PostgreSQL: the failure, here
        # SQLite sent nothing ahead, and divides by zero into NULL: fail as PostgreSQL.
        if tx.query(f"SELECT 1 / (k - k) FROM {table}") == [(None,)]:
            raise ZeroDivisionError
    assert _rows(database, table) == []


@pytest.fixture
def api(any_backend_api: Api) -> Api:
    return any_backend_api


def test_a_move_on_a_consent_whose_row_was_deleted_is_refused(api: Api, backend: Any) -> None:
    # The move's consent check reads the consent's row alone: with the row deleted, the
    # consent's expiry would be gone, and a referral it should have suspended moved on.
    ref = a_case(api)
    people = people_of(api.rete)
    expires = api.clock.now() + timedelta(days=1)
    record_consent(api.rete, people.anna, ref, expires_at=expires)
    referral = refer(api.rete, people.anna, ref, scope=["identity"], reason=f"{MARKER} reason")
    api.rete.ctx.views.catch_up()
    api.clock.advance(hours=48)
    alter_one_row(
        backend, "DELETE FROM {rete_view_consents} WHERE case_id = ?", (case_id_of(api, ref),)
    )
    with pytest.raises(IntegrityFailure):
        api.rete.referrals.move(people.bea, referral.id, Move.ACKNOWLEDGE)
    assert api.rete.integrity.alarms()
