"""Which failures mean "the database is away for now" rather than a bug.

The server answers them 503 with ``Retry-After`` (``api/problems.py``) and the
commands wait and retry (``api/cli_errors.py``): the database stopped, restarting,
unreachable, out of connections, or a statement cancelled past the request's
budget. They reach the API from several layers (the event store's library wraps
the driver's errors in its own), so the whole chain of causes is looked at.
"""

from __future__ import annotations

import sqlite3
from enum import Enum

import psycopg
from eventsourcing.persistence import ConnectionUnavailableError
from psycopg import errors as pg

# Retry-After (seconds) a client is told while the database is away: the pool
# tries to reconnect about every second.
RETRY_AFTER = 2


class Away(Enum):
    """Why the database cannot be used, as an operator would fix it."""

    UNREACHABLE = "unreachable"  # not running, wrong host or port, or a network fault
    MISSING_DATABASE = "missing-database"  # the server answers; the database is not there
    FULL = "out-of-connections"  # the server refuses more connections
    BUSY = "busy"  # it answers too slowly (a statement or a wait cancelled)


def _causes(error: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and all(current is not s for s in seen) and len(seen) < 10:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def why_away(error: BaseException) -> Away | None:
    """Why ``error`` means the database is away for now; None when it does not. The
    most telling cause wins: a pool's timeout is chained to why connecting failed."""
    found = [away for cause in _causes(error) if (away := _one(cause)) is not None]
    for telling in (Away.MISSING_DATABASE, Away.FULL, Away.BUSY):
        if telling in found:
            return telling
    return found[0] if found else None


def _one(cause: BaseException) -> Away | None:
    text = str(cause)
    if isinstance(cause, pg.InvalidCatalogName):
        return Away.MISSING_DATABASE
    if isinstance(cause, pg.TooManyConnections):
        return Away.FULL
    if isinstance(cause, pg.QueryCanceled | pg.LockNotAvailable):
        return Away.BUSY
    if isinstance(cause, psycopg.OperationalError | psycopg.InterfaceError):
        # Connecting failed (the server's reason is in the text), the server closed
        # the connection, or no connection of the pool came in time.
        if "database" in text and "does not exist" in text:
            return Away.MISSING_DATABASE
        if "too many clients" in text or "remaining connection slots" in text:
            return Away.FULL
        return Away.UNREACHABLE
    if isinstance(cause, ConnectionUnavailableError):
        return Away.BUSY  # SQLite: no connection of the pool became free in time
    if isinstance(cause, sqlite3.OperationalError) and "locked" in text:
        return Away.BUSY
    return None


def database_away(error: BaseException) -> bool:
    return why_away(error) is not None
