"""The ledger assembled: its tables, the follower, the proofs and the signer.

``open_ledger`` is what the API and the ``rete ledger`` commands call. How the
follower is driven (see ``periodic``): the server's background thread catches up
right after every write request and at least every second, and signs a
checkpoint every ``RETE_CHECKPOINT_INTERVAL`` seconds when the tree grew;
``sign_checkpoint`` (and so ``rete ledger checkpoint``) always catches up first.
Proofs are only served up to the latest checkpoint, whose nodes were all
written before it was signed.
"""

from __future__ import annotations

from eventsourcing.persistence import ApplicationRecorder

from infrastructure.db import database_of, events_table_name
from infrastructure.db.closing import Closing
from infrastructure.ledger.checkpoints import CheckpointSigner, SignOutcome
from infrastructure.ledger.db import LedgerTables, open_tables
from infrastructure.ledger.follower import LedgerFollower
from infrastructure.ledger.note import Signer, Verifier
from infrastructure.ledger.signing import load_signing_key
from infrastructure.ledger.store import LedgerStore
from infrastructure.settings import Settings


class Ledger(Closing):
    def __init__(
        self, tables: LedgerTables, recorder: ApplicationRecorder, signer: Signer | None
    ) -> None:
        self.tables = tables
        self.recorder = recorder
        self.follower = LedgerFollower(tables, recorder)
        self.store = LedgerStore(tables)
        self._signer = signer
        self._checkpoints = (
            None if signer is None else CheckpointSigner(tables, self.follower, signer)
        )

    @property
    def verifier(self) -> Verifier:
        if self._signer is None:
            raise RuntimeError("this ledger was opened without its signing key")
        return self._signer.verifier()

    def catch_up(self) -> int:
        return self.follower.catch_up()

    def sign_checkpoint(self) -> SignOutcome:
        if self._checkpoints is None:
            raise RuntimeError("this ledger was opened without its signing key")
        return self._checkpoints.sign()

    def close(self) -> None:
        self.tables.close()


def open_ledger(
    settings: Settings, recorder: ApplicationRecorder, *, signing: bool = True
) -> Ledger:
    """The ledger beside the event store of ``recorder``, on the pool the recorder
    was built on. With ``signing``, the signing key is loaded (the development one
    created on first run)."""
    signer = load_signing_key(settings).signer if signing else None
    tables = open_tables(database_of(recorder), events_table_name(recorder))
    return Ledger(tables, recorder, signer)
