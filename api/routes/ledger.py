"""``/api/v1/ledger``: the latest signed checkpoint, proofs for auditors, the public key.

Proofs are answered from the stored nodes, for trees up to the latest signed
checkpoint only: a client verifies them against a checkpoint it holds. The
ledger is ``Rete.ledger``'s (opened on first use; a server opens it when it
starts, and its background work follows the log and signs checkpoints).
"""

from __future__ import annotations

import msgspec
from litestar import Controller, get
from litestar.di import NamedDependency, Provide
from litestar.params import FromQuery

from api.guards import AUDITORS_PROVE
from api.problems import Problem, documented
from api.routes._common import API_PREFIX, BEARER, App
from application.ledger import LedgerProofs, LedgerUnavailable, SignedCheckpoint
from infrastructure.ledger.merkle import decode_leaf, leaf_hash
from infrastructure.logging import get_logger

log = get_logger(__name__)

_TEXT = "text/plain; charset=utf-8"
Ledger = NamedDependency[LedgerProofs]


class LeafView(msgspec.Struct, frozen=True):
    """The leaf as the ledger stores it, and its fields (hashes in base64)."""

    hash: bytes
    data: bytes
    position: int
    stream_id: str
    version: int
    topic: str
    state_sha256: bytes


class InclusionProofView(msgspec.Struct, frozen=True):
    index: int
    tree_size: int
    root_hash: bytes
    proof: list[bytes]
    leaf: LeafView


class ConsistencyProofView(msgspec.Struct, frozen=True):
    first: int
    second: int
    first_root: bytes
    second_root: bytes
    proof: list[bytes]


def _bad(code: str, detail: str) -> Problem:
    return Problem(400, code, "Invalid tree size or index", detail)


def ledger_of(rete: App) -> LedgerProofs:
    """The dependency the routes take: the application's ledger."""
    try:
        return rete.ledger()
    except LedgerUnavailable:
        raise Problem(
            503, "ledger-unavailable", "No ledger", "this server keeps no ledger"
        ) from None


def _latest(ledger: LedgerProofs) -> SignedCheckpoint:
    latest = ledger.latest_checkpoint()
    if latest is None:
        raise Problem(
            404, "no-checkpoint", "No checkpoint yet", "no checkpoint has been signed yet"
        )
    return latest


def _signed_size(ledger: LedgerProofs, size: int, name: str) -> None:
    """Proofs are for trees a checkpoint vouches for: 1 .. the latest one's size."""
    latest = _latest(ledger)
    if not 1 <= size <= latest.size:
        raise _bad(
            "tree-size-beyond-checkpoint",
            f"{name} must be between 1 and {latest.size}, the size of the latest checkpoint",
        )


class LedgerController(Controller):
    path = f"{API_PREFIX}/ledger"
    tags = ["ledger"]
    security = BEARER
    dependencies = {"ledger": Provide(ledger_of, sync_to_thread=False)}

    @get("/checkpoint", sync_to_thread=True, media_type=_TEXT, responses=documented(401, 404))
    def checkpoint(self, ledger: Ledger) -> bytes:
        """The latest signed checkpoint (C2SP tlog-checkpoint in signed-note format)."""
        return _latest(ledger).note

    @get("/public-key", sync_to_thread=False, media_type=_TEXT, responses=documented(401))
    def public_key(self, ledger: Ledger) -> str:
        """The verifier key of the checkpoints (compare it with the one published out of band)."""
        return ledger.public_key() + "\n"

    @get(
        "/proofs/inclusion",
        sync_to_thread=True,
        guards=[AUDITORS_PROVE],
        responses=documented(400, 401, 403, 404, 409),
    )
    def inclusion(
        self, ledger: Ledger, index: FromQuery[int], size: FromQuery[int]
    ) -> InclusionProofView:
        """Auditors: the audit path of leaf ``index`` in the tree of ``size`` leaves."""
        _signed_size(ledger, size, "size")
        if not 0 <= index < size:
            raise _bad("leaf-index-out-of-range", f"index must be between 0 and {size - 1}")
        proof = ledger.inclusion(index, size)
        data = ledger.leaf_data(proof.position)
        if leaf_hash(data) != proof.leaf_hash:
            log.error("a ledgered record no longer matches its leaf", tree_size=size)
            raise Problem(
                409,
                "ledger-record-altered",
                "The stored record was altered",
                f"the record of leaf {index} no longer matches the ledger; run rete ledger verify",
            )
        fields = decode_leaf(data)
        return InclusionProofView(
            index=index,
            tree_size=size,
            root_hash=proof.root,
            proof=proof.proof,
            leaf=LeafView(
                hash=proof.leaf_hash,
                data=data,
                position=fields.position,
                stream_id=str(fields.stream_id),
                version=fields.version,
                topic=fields.topic,
                state_sha256=fields.state_sha256,
            ),
        )

    @get(
        "/proofs/consistency",
        sync_to_thread=True,
        guards=[AUDITORS_PROVE],
        responses=documented(400, 401, 403, 404),
    )
    def consistency(
        self, ledger: Ledger, first: FromQuery[int], second: FromQuery[int]
    ) -> ConsistencyProofView:
        """Auditors: the proof that the tree of ``first`` leaves is a prefix of ``second``'s."""
        _signed_size(ledger, second, "second")
        if not 1 <= first <= second:
            raise _bad("invalid-tree-sizes", "first must be between 1 and second")
        proof = ledger.consistency(first, second)
        return ConsistencyProofView(first, second, proof.first_root, proof.second_root, proof.proof)
