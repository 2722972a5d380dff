"""Signing checkpoints, and never one for a tree inconsistent with the last one signed.

Before signing the tree of size N, the signer opens the latest stored checkpoint
(size M, root R) with its own public key, and checks, from the stored nodes,
a consistency proof from M to N against R and the new root. A tree that shrank
(N < M), a different root at the same size, or a proof that fails means the
ledger (or the log it follows) no longer extends what was signed: it raises
``LedgerInconsistent``, logs it, and signs nothing. A checkpoint row is never
overwritten.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from infrastructure.ledger import merkle
from infrastructure.ledger.db import LedgerTables, LedgerTx, StoredCheckpoint
from infrastructure.ledger.follower import LedgerCorrupt, LedgerFollower, frontier_at
from infrastructure.ledger.note import Checkpoint, NoteError, Signer, open_checkpoint
from infrastructure.ledger.proofs import ProofError, verify_consistency
from infrastructure.ledger.store import FetchedNodes
from infrastructure.logging import get_logger

log = get_logger(__name__)


class LedgerInconsistent(Exception):
    """The ledger does not extend the latest signed checkpoint: nothing is signed."""


class NothingToSign(Exception):
    """The log is empty: a checkpoint of nothing commits to nothing."""


@dataclass(frozen=True, slots=True)
class SignOutcome:
    checkpoint: StoredCheckpoint
    new: bool  # False: the tree has not grown since this checkpoint was signed


def _utc_now() -> datetime:
    return datetime.now(UTC)


class CheckpointSigner:
    def __init__(
        self,
        tables: LedgerTables,
        follower: LedgerFollower,
        signer: Signer,
        clock: Callable[[], datetime] = _utc_now,
        refuse: Callable[[], None] = lambda: None,
    ) -> None:
        self._tables = tables
        self._follower = follower
        self._signer = signer
        self._verifier = signer.verifier()
        self._clock = clock
        # Raises when the log is in doubt: asked once the tree was found to extend
        # the latest checkpoint, so an inconsistent ledger is reported as such.
        self._refuse = refuse

    @property
    def origin(self) -> str:
        return self._signer.name

    def sign(self) -> SignOutcome:
        """Catch up, then sign the whole ledger unless the latest checkpoint already
        covers it. Raises ``LedgerInconsistent`` or ``NothingToSign``."""
        self._follower.catch_up()
        try:
            with self._tables.write() as tx:
                try:
                    outcome = self._sign_in(tx)
                except LedgerCorrupt as e:
                    raise LedgerInconsistent(str(e)) from None
        except LedgerInconsistent as e:
            log.error("ledger inconsistent: no checkpoint signed", ledger_problem=str(e))
            raise
        if outcome.new:
            log.info("ledger checkpoint signed", tree_size=outcome.checkpoint.size)
        return outcome

    def _sign_in(self, tx: LedgerTx) -> SignOutcome:
        size = tx.head().size
        if size == 0:
            raise NothingToSign("the log is empty: there is nothing to checkpoint yet")
        latest = tx.latest_checkpoint()
        root = frontier_at(tx, size).root()
        if latest is not None:
            signed = self._open(latest)
            if size < signed.size:
                raise LedgerInconsistent(
                    f"the ledger has {size} leaves, fewer than the {signed.size} of the "
                    "latest checkpoint: the tree regressed"
                )
            if size == signed.size:
                if root != signed.root:
                    raise LedgerInconsistent(
                        f"the ledger's root at size {size} differs from the signed one: "
                        "the tree forked"
                    )
                self._refuse()
                return SignOutcome(latest, new=False)
            self._check_extends(tx, signed, size, root)
        self._refuse()
        note = Checkpoint(self.origin, size, root).body()
        stored = StoredCheckpoint(
            size=size,
            root=root,
            note=self._signer.sign(note),
            signed_at=self._clock(),
        )
        tx.add_checkpoint(stored)
        return SignOutcome(stored, new=True)

    def _open(self, latest: StoredCheckpoint) -> Checkpoint:
        try:
            signed = open_checkpoint(latest.note, [self._verifier], self.origin)
        except NoteError as e:
            raise LedgerInconsistent(
                f"the latest stored checkpoint (size {latest.size}) does not verify: {e}"
            ) from None
        if (signed.size, signed.root) != (latest.size, latest.root):
            raise LedgerInconsistent(
                f"the stored row of checkpoint {latest.size} differs from its signed note"
            )
        return signed

    def _check_extends(self, tx: LedgerTx, signed: Checkpoint, size: int, root: bytes) -> None:
        plan = merkle.consistency_plan(signed.size, size)
        nodes = FetchedNodes(tx, [node for entry in plan for node in entry], size)
        proof = merkle.proof_from_plan(plan, nodes.get)
        try:
            verify_consistency(signed.size, size, proof, signed.root, root)
        except ProofError as e:
            raise LedgerInconsistent(
                f"the ledger at size {size} does not extend the checkpoint at size "
                f"{signed.size}: {e}"
            ) from None
