"""A thread that does one piece of work every few seconds, until stopped.

The server's escalation runs on it (``infrastructure.bootstrap``). A failing run
is logged by type only (the database may be down for a moment) and the thread
keeps going. ``BackgroundThread`` is what it shares with the notifications' worker:
starting and stopping the thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from infrastructure.logging import get_logger

log = get_logger(__name__)


class BackgroundThread:
    """A daemon thread of the server's background work (``application.background``)
    that runs ``_run`` until ``_stop`` is set; a subclass says what it runs."""

    def __init__(self, name: str, interval: float) -> None:
        self._name = name
        self._interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the thread, unless the interval is 0 (off) or it already runs."""
        if self._interval <= 0 or self._thread is not None:
            return
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
        self._thread.start()

    def nudge(self) -> None:
        """Nothing to do: the work runs on its own schedule."""

    def stop(self) -> None:
        """Stop the thread (woken by a nudge if it waits), within 10 s."""
        self._stop.set()
        self.nudge()
        if self._thread is not None:
            self._thread.join(10.0)
            self._thread = None

    def _run(self) -> None:
        raise NotImplementedError


class EveryInterval(BackgroundThread):
    def __init__(self, name: str, interval: float, work: Callable[[], object], what: str) -> None:
        super().__init__(name, interval)
        self._work = work
        self._what = what

    def _run(self) -> None:
        stop = self._stop
        while not stop.wait(self._interval):
            try:
                self._work()
            except Exception as e:  # the database may be down for a moment: keep going
                log.warning(
                    f"{self._what} could not run",
                    exception_type=f"{type(e).__module__}.{type(e).__qualname__}",
                )
