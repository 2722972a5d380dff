"""Following the log in a process of its own (``rete views run``).

On PostgreSQL the event store's recorder sends ``NOTIFY <events table>`` in every
transaction that appends events (``PostgresApplicationRecorder.channel_name``).
The follower ``LISTEN``s on that channel on a connection of its own and catches
up when woken, and at least every ``poll`` seconds in case a notification was
missed (a reconnection). It pulls in its own transactions rather than through
the library's ``subscribe()``: a subscription delivers one notification at a
time from a position of its own, while the views' position must be read and
moved inside the transaction that writes their rows. On SQLite, where the
recorder cannot be subscribed to, it polls.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import psycopg
from eventsourcing.persistence import PersistenceError
from psycopg import sql

from infrastructure.db import split_schema
from infrastructure.logging import get_logger
from infrastructure.views.assembly import Views
from infrastructure.views.rows import RowAltered

log = get_logger(__name__)

# How often a follower waiting for a notification looks whether it was asked to stop.
_STOP_CHECK = 0.5
# How long a follower stopped by an altered row waits before trying again.
_AFTER_ALTERED = 30.0


class Follower:
    def __init__(
        self,
        views: Views,
        database_url: str,
        poll: float = 1.0,
        on_batch: Callable[[int], None] | None = None,
    ) -> None:
        self._views = views
        self._url = database_url
        self._poll = poll
        self._on_batch = on_batch
        self._channel = getattr(views.recorder, "channel_name", None)

    def run(self, stop: threading.Event) -> None:
        """Follow until ``stop`` is set (or the process is interrupted)."""
        while not stop.is_set():
            try:
                if isinstance(self._channel, str):
                    self._listen(stop, self._channel)
                else:
                    self._poll_only(stop)
            except (psycopg.Error, PersistenceError, OSError) as e:
                # The database went away for a moment: wait, reconnect, resume.
                log.warning("the views could not follow the log", exception_type=type(e).__name__)
                stop.wait(self._poll)
            except RowAltered as e:
                # A row the log was to change was altered: the views stay where they
                # are (reads that need them are refused) until they are rebuilt.
                log.error(
                    f"integrity alarm view-row-altered: a {e.table.name} row failed its "
                    "check; the views stopped following the log: run `rete views check`, "
                    "then `rete views rebuild`"
                )
                stop.wait(max(self._poll, _AFTER_ALTERED))  # then look whether it was rebuilt

    def _listen(self, stop: threading.Event, channel: str) -> None:
        conninfo, _ = split_schema(self._url)
        with psycopg.connect(conninfo, autocommit=True, connect_timeout=5) as conn:
            conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
            while not stop.is_set():
                self._step()
                due = time.monotonic() + self._poll
                # Wake on a notification, when the poll interval ends, or to see ``stop``.
                while not stop.is_set() and time.monotonic() < due:
                    wait = min(_STOP_CHECK, max(0.0, due - time.monotonic()))
                    if any(True for _ in conn.notifies(timeout=wait, stop_after=1)):
                        break

    def _poll_only(self, stop: threading.Event) -> None:
        while not stop.is_set():
            self._step()
            stop.wait(self._poll)

    def _step(self) -> None:
        applied = self._views.catch_up()
        if applied and self._on_batch is not None:
            self._on_batch(applied)
