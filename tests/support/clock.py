"""The tests' one clock: it shows the time the test sets, and moves only when told."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

# 2 March 2026, a Monday morning in Cesano Boscone: where every story starts.
MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


# The prefix of the names of the server's background threads (``infrastructure.periodic``,
# the ledger's, the notifications' worker).
BACKGROUND = "rete-"


class TestClock:
    """Implements ``application.ports.Clock`` with a time the test sets.

    At its next reading it may first run ``meanwhile`` actions, or wait at a
    ``barrier`` until other threads' clocks are read too: every use case reads the
    time once, after loading and before saving, which is exactly where a second
    writer can get in between. ``monotonic`` reads the same time as seconds, for
    the key store's cache (which takes a ``() -> float``).
    """

    __test__ = False

    def __init__(self, at: datetime = MONDAY) -> None:
        self.at = at
        self._meanwhile: list[Callable[[], object]] = []
        self.barrier: threading.Barrier | None = None

    def now(self) -> datetime:
        if threading.current_thread().name.startswith(BACKGROUND):
            # The server's own background work (``rete-notify``, ``rete-escalation``,
            # ...) reads the time on its schedule; the action or the barrier set for
            # the next use case is not its to take.
            return self.at
        if self._meanwhile:
            self._meanwhile.pop(0)()
        if self.barrier is not None:
            barrier, self.barrier = self.barrier, None  # once: retries do not wait again
            barrier.wait(timeout=30)
        return self.at

    def monotonic(self) -> float:
        return self.at.timestamp()

    def advance(self, **delta: float) -> datetime:
        self.at += timedelta(**delta)
        return self.at

    def tick(self, minutes: float = 1) -> datetime:
        """Move on, and return the moment in between the last event and the next."""
        between = self.at + timedelta(minutes=minutes / 2)
        self.at += timedelta(minutes=minutes)
        return between

    def meanwhile(self, action: Callable[[], object]) -> None:
        """Run ``action`` when the application next asks the time (between load and save)."""
        self._meanwhile.append(action)
