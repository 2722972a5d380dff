"""Following the log in a process of its own (``rete views run``).

On PostgreSQL the follower hears the log's appends (``infrastructure.db.listening``)
and catches up when woken, and at least every ``poll`` seconds in case a
notification was missed (a reconnection). It pulls in its own transactions rather than through
the library's ``subscribe()``: a subscription delivers one notification at a
time from a position of its own, while the views' position must be read and
moved inside the transaction that writes their rows. On SQLite, where the
recorder cannot be subscribed to, it polls.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import psycopg
from eventsourcing.persistence import PersistenceError

from infrastructure.db.listening import log_channel
from infrastructure.logging import get_logger
from infrastructure.views.assembly import Views
from infrastructure.views.rows import RowAltered

log = get_logger(__name__)

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
        with log_channel(self._url, channel) as appends:
            while not stop.is_set():
                self._step()
                # Woken by an append, or when the poll interval ends, or to stop.
                appends.wait(self._poll, stop)

    def _poll_only(self, stop: threading.Event) -> None:
        while not stop.is_set():
            self._step()
            stop.wait(self._poll)

    def _step(self) -> None:
        applied = self._views.catch_up()
        if applied and self._on_batch is not None:
            self._on_batch(applied)
