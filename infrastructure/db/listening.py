"""Hearing appends to the log as they commit, on PostgreSQL.

The event store's recorder sends ``NOTIFY <events table>`` in every transaction that
appends events (``PostgresApplicationRecorder.channel_name``). A process that
follows the log (``rete views run``, ``rete notify run``) ``LISTEN``s on that
channel on a connection of its own, outside its pool, and does its round when
woken instead of waiting for its next poll. A notification can be missed (the
connection dropped meanwhile): the follower still runs a round at least every poll
interval. SQLite has no such channel: there, the followers poll.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Final

import psycopg
from psycopg import sql

from infrastructure.database_url import split_schema
from infrastructure.logging import get_logger

log = get_logger(__name__)

# How often a listener waiting for a notification looks whether it was asked to stop.
STOP_CHECK: Final = 0.5
# How long a listener whose connection failed waits before connecting again.
_RECONNECT: Final = 1.0


class Appends:
    """The appends heard on a ``LISTEN`` connection (``log_channel``)."""

    def __init__(self, conn: psycopg.Connection[tuple[object, ...]]) -> None:
        self._conn = conn

    def wait(self, seconds: float, stop: threading.Event) -> bool:
        """Whether an append was heard within ``seconds`` (False when the time ran out
        or ``stop`` was set, which is looked at every ``STOP_CHECK`` seconds)."""
        due = time.monotonic() + seconds
        while not stop.is_set():
            left = due - time.monotonic()
            if left <= 0:
                return False
            heard = self._conn.notifies(timeout=min(STOP_CHECK, left), stop_after=1)
            if any(True for _ in heard):
                return True
        return False


@contextmanager
def log_channel(database_url: str, channel: str) -> Iterator[Appends]:
    """A connection of its own ``LISTEN``ing on the events' ``channel``, closed after."""
    conninfo, _ = split_schema(database_url)
    with psycopg.connect(conninfo, autocommit=True, connect_timeout=5) as conn:
        conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
        yield Appends(conn)


def wake_on_appends(
    database_url: str, channel: str, wake: Callable[[], None], stop: threading.Event
) -> None:
    """Call ``wake`` for each append heard on ``channel`` until ``stop`` is set,
    connecting again whenever the connection fails (run it in a thread)."""
    while not stop.is_set():
        try:
            with log_channel(database_url, channel) as appends:
                while not stop.is_set():
                    if appends.wait(STOP_CHECK, stop):
                        wake()
        except (psycopg.Error, OSError) as e:
            log.warning("not hearing the log's appends", exception_type=type(e).__name__)
            stop.wait(_RECONNECT)
