"""Waiting for the database at start (``rete serve``, ``rete views run``).

A service started before its database, or while it restarts or is full, waits
and retries with back-off rather than exiting, saying on stderr which of the
three it is: unreachable, the database missing (with the ``createdb`` command to
run), or out of connections.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import click
from psycopg.conninfo import conninfo_to_dict

from infrastructure.db import split_schema
from infrastructure.db.unavailable import Away, why_away
from infrastructure.settings import Settings

T = TypeVar("T")

FIRST_WAIT = 1.0
LONGEST_WAIT = 30.0


def why(settings: Settings, away: Away) -> str:
    """What is wrong, and what to do, in one line (the password never shown)."""
    if not settings.is_postgres:
        return "the SQLite database is busy (another process holds it)"
    conninfo, _ = split_schema(settings.database_url)
    parts = conninfo_to_dict(conninfo)
    host, port = parts.get("host", "127.0.0.1"), parts.get("port", "5432")
    user, name = parts.get("user", "postgres"), parts.get("dbname", "rete")
    where = f"PostgreSQL at {host}:{port}"
    if away is Away.MISSING_DATABASE:
        return (
            f"{where} has no database {name!r}; create it: "
            f"createdb -h {host} -p {port} -U {user} {name}"
        )
    if away is Away.FULL:
        return (
            f"{where} has no connection left for this process (max_connections reached; "
            f"it needs RETE_DATABASE_POOL_SIZE={settings.database_pool_size}, see README: "
            "connection budget)"
        )
    if away is Away.BUSY:
        return f"{where} answers too slowly"
    return f"{where} does not answer (is it running? is RETE_DATABASE_URL right?)"


def until_the_database_answers(
    settings: Settings,
    attempt: Callable[[], T],
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """``attempt()``, retried with back-off (1 s doubling to 30 s) for as long as
    it fails because the database is away; any other failure is raised."""
    wait = FIRST_WAIT
    while True:
        try:
            return attempt()
        except Exception as e:
            away = why_away(e)
            if away is None:
                raise
            click.echo(f"Waiting for the database: {why(settings, away)}; ", err=True, nl=False)
            click.echo(f"retrying in {wait:g} s.", err=True)
        sleep(wait)
        wait = min(wait * 2, LONGEST_WAIT)
