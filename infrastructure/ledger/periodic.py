"""The server's ledger thread: follows the log and signs checkpoints periodically.

It wakes when ``nudge`` is called (the API does after every write request),
and at least every ``follow_seconds``, to catch up; every ``interval`` seconds
it signs a checkpoint when the tree grew. Requests never wait for it. Every
process of the server runs one: their writes to the ledger are serialised by
the ledger's lock, and a tree that did not grow is never signed twice.

Its share of the one SQLite writer and of the process is kept small under many
writers: a nudge is followed after a short gathering pause (``GATHER``), so a
burst of writes is ledgered in one batch, one transaction, rather than one each;
and the live tamper check (``Ledger.catch_up``: a re-read and re-hash of a
window of hashed records) runs once every ``follow_seconds`` and at each
checkpoint, not at every nudged step, which only appends the new records (the
check's newest window still covers them within a second).
"""

from __future__ import annotations

import threading
import time
from typing import Final

from infrastructure.ledger.checkpoints import LedgerInconsistent, NothingToSign
from infrastructure.ledger.ledger import Ledger
from infrastructure.logging import get_logger

log = get_logger(__name__)

# After a nudge, wait this long for the rest of a burst of writes before following.
GATHER: Final = 0.05


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
        next_check = time.monotonic()  # the live tamper check's next turn
        while not self._stop.is_set():
            now = time.monotonic()
            sign, check = now >= next_checkpoint, now >= next_check
            self._step(sign=sign, check=check)
            now = time.monotonic()
            if sign:
                next_checkpoint = now + self._interval
            if sign or check:
                next_check = now + self._follow
            woken = self._wake.wait(max(0.0, min(next_check, next_checkpoint) - time.monotonic()))
            self._wake.clear()
            if woken:
                # Let the rest of a burst of writes land: one batch follows them all.
                self._stop.wait(GATHER)

    def _step(self, *, sign: bool, check: bool) -> None:
        try:
            if sign:
                self._ledger.sign_checkpoint()  # catches up first; signs only if it grew
            elif check:
                self._ledger.catch_up()  # follows, then the live tamper check
            else:
                self._ledger.follower.catch_up()  # what a nudge asks: the new records
        except (LedgerInconsistent, NothingToSign):
            pass  # logged where raised, or nothing to say; try again next time
        except Exception as e:
            # The database may be down for a moment: keep the thread alive.
            log.warning(
                "the ledger could not follow the log",
                exception_type=f"{type(e).__module__}.{type(e).__qualname__}",
            )
