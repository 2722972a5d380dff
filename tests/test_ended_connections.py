"""A connection the server ended while it sat in the pool is never handed out.

The pool checks a connection as it leaves without a round trip while its socket
is quiet (``infrastructure.db.postgres_pool``): a server that ends a connection
leaves something to read on it, and that connection is then checked, found dead
and replaced. An administrator's ``pg_terminate_backend`` is the case here (a
stopped server is ``tests/api/test_database_outage.py``'s).
"""

from __future__ import annotations

import time
from typing import Any

import psycopg
import pytest

from infrastructure.db import open_database


@pytest.mark.postgres
def test_a_read_after_an_administrator_ended_the_pools_connection_is_answered(
    postgres: Any,  # the session's ``PostgresProbe`` (tests/conftest.py)
) -> None:
    database = open_database(postgres.url, pool_size=1)
    try:
        with database.read() as tx:
            (ended,) = tx.query("SELECT pg_backend_pid()")[0]
        with psycopg.connect(postgres.url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (ended,))
            while admin.execute(
                "SELECT 1 FROM pg_stat_activity WHERE pid = %s", (ended,)
            ).fetchall():
                time.sleep(0.05)  # until the server has let it go

        with database.read() as tx:
            (now,) = tx.query("SELECT pg_backend_pid()")[0]
        assert now != ended
    finally:
        database.close()
