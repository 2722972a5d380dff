"""The server's ledger thread: follows the log and signs checkpoints periodically.

It wakes when ``nudge`` is called (the API does after every write request),
and at least every ``follow_seconds``, to catch up; every ``interval`` seconds
it signs a checkpoint when the tree grew. Requests never wait for it. Every
process of the server runs one: their writes to the ledger are serialised by
the ledger's lock, and a tree that did not grow is never signed twice.
"""

from __future__ import annotations

import threading
import time

from infrastructure.ledger.checkpoints import LedgerInconsistent, NothingToSign
from infrastructure.ledger.ledger import Ledger
from infrastructure.logging import get_logger

log = get_logger(__name__)


class PeriodicSigner:
    def __init__(self, ledger: Ledger, interval: float, follow_seconds: float = 1.0) -> None:
        if interval <= 0:
            raise ValueError("the checkpoint interval must be positive")
        self._ledger = ledger
        self._interval = interval
        self._follow = min(follow_seconds, interval)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="rete-ledger", daemon=True)
            self._thread.start()

    def nudge(self) -> None:
        """Something was written: catch up soon (never blocks)."""
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        next_checkpoint = time.monotonic() + self._interval
        while not self._stop.is_set():
            self._step(sign=time.monotonic() >= next_checkpoint)
            if time.monotonic() >= next_checkpoint:
                next_checkpoint = time.monotonic() + self._interval
            self._wake.wait(max(0.0, min(self._follow, next_checkpoint - time.monotonic())))
            self._wake.clear()

    def _step(self, *, sign: bool) -> None:
        try:
            if sign:
                self._ledger.sign_checkpoint()  # catches up first; signs only if it grew
            else:
                self._ledger.catch_up()
        except (LedgerInconsistent, NothingToSign):
            pass  # logged where raised, or nothing to say; try again next time
        except Exception as e:
            # The database may be down for a moment: keep the thread alive.
            log.warning(
                "the ledger could not follow the log",
                exception_type=f"{type(e).__module__}.{type(e).__qualname__}",
            )
