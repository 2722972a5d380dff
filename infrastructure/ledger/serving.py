"""The ledger as a server holds it: opened on first use, its proofs for the API,
and the thread that follows the log and signs checkpoints.

The composition root (``infrastructure.bootstrap``) builds one ``ServedLedger``
per application; ``Rete.ledger`` hands its proofs to the API, and its
``signing`` is part of the server's background work.
"""

from __future__ import annotations

from collections.abc import Callable

from infrastructure.ledger.db import StoredCheckpoint
from infrastructure.ledger.ledger import Ledger
from infrastructure.ledger.periodic import PeriodicSigner
from infrastructure.ledger.records import LeafHasher
from infrastructure.ledger.store import ConsistencyProof, InclusionProof
from infrastructure.once import Once


class LedgerProofsOf:
    """What the API's proof routes read of an open ledger (``application.ledger.LedgerProofs``)."""

    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger

    def latest_checkpoint(self) -> StoredCheckpoint | None:
        return self._ledger.store.latest_checkpoint()

    def public_key(self) -> str:
        return self._ledger.verifier.to_key_string()

    def inclusion(self, index: int, size: int) -> InclusionProof:
        return self._ledger.store.inclusion(index, size)

    def leaf_data(self, position: int) -> bytes:
        record = self._ledger.store.record(position)
        return LeafHasher().leaf(record) if record is not None else b""

    def consistency(self, first: int, second: int) -> ConsistencyProof:
        return self._ledger.store.consistency(first, second)


class ServedLedger:
    """Opens the ledger once, on first use from any thread, and closes it."""

    def __init__(self, open_ledger: Callable[[], Ledger]) -> None:
        self._ledger = Once(open_ledger)

    def ledger(self) -> Ledger:
        return self._ledger.get()

    def proofs(self) -> LedgerProofsOf:
        return LedgerProofsOf(self.ledger())

    def close(self) -> None:
        ledger = self._ledger.take()
        if ledger is not None:
            ledger.close()


class LedgerSigning:
    """Background work: opens the ledger when the server starts (so that a bad
    signing key stops it there), then, if ``interval`` is positive, follows the log
    and signs a checkpoint every ``interval`` seconds (``PeriodicSigner``)."""

    def __init__(self, served: ServedLedger, interval: float) -> None:
        self._served = served
        self._interval = interval
        self._signer: PeriodicSigner | None = None

    def start(self) -> None:
        ledger = self._served.ledger()
        if self._interval > 0 and self._signer is None:
            self._signer = PeriodicSigner(ledger, self._interval)
            self._signer.start()

    def nudge(self) -> None:
        if self._signer is not None:
            self._signer.nudge()

    def stop(self) -> None:
        if self._signer is not None:
            self._signer.stop()
            self._signer = None
