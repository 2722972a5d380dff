"""``/api/v1/ledger``: the latest signed checkpoint, proofs for auditors, the public key.

Proofs are answered from the stored nodes, for trees up to the latest signed
checkpoint only: a client verifies them against a checkpoint it holds.
``LedgerPlugin`` opens the ledger when the app starts, runs the thread that
follows the log and signs checkpoints, and nudges it after every write request.
"""

from __future__ import annotations

import inspect
import threading
from typing import Any

import msgspec
from eventsourcing.application import Application
from litestar import Controller, Request, get
from litestar.config.app import AppConfig
from litestar.di import NamedDependency, Provide
from litestar.params import FromQuery
from litestar.plugins import InitPluginProtocol

from api.problems import Problem, documented
from api.routes._common import API_PREFIX, BEARER
from domain.network import Actor
from domain.vocabulary import Role
from infrastructure.ledger.db import StoredCheckpoint
from infrastructure.ledger.ledger import Ledger, open_ledger
from infrastructure.ledger.merkle import decode_leaf, leaf_hash
from infrastructure.ledger.periodic import PeriodicSigner
from infrastructure.ledger.records import LeafHasher
from infrastructure.logging import get_logger
from infrastructure.settings import Settings

log = get_logger(__name__)

_TEXT = "text/plain; charset=utf-8"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


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


def _latest(ledger: Ledger) -> StoredCheckpoint:
    latest = ledger.store.latest_checkpoint()
    if latest is None:
        raise Problem(
            404, "no-checkpoint", "No checkpoint yet", "no checkpoint has been signed yet"
        )
    return latest


def _signed_size(ledger: Ledger, size: int, name: str) -> None:
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

    @get("/checkpoint", sync_to_thread=True, media_type=_TEXT, responses=documented(401, 404))
    def checkpoint(self, ledger: NamedDependency[Ledger], actor: NamedDependency[Actor]) -> bytes:
        """The latest signed checkpoint (C2SP tlog-checkpoint in signed-note format)."""
        return _latest(ledger).note

    @get("/public-key", sync_to_thread=False, media_type=_TEXT, responses=documented(401))
    def public_key(self, ledger: NamedDependency[Ledger], actor: NamedDependency[Actor]) -> str:
        """The verifier key of the checkpoints (compare it with the one published out of band)."""
        return ledger.verifier.to_key_string() + "\n"

    @get("/proofs/inclusion", sync_to_thread=True, responses=documented(400, 401, 403, 404, 409))
    def inclusion(
        self,
        ledger: NamedDependency[Ledger],
        actor: NamedDependency[Actor],
        index: FromQuery[int],
        size: FromQuery[int],
    ) -> InclusionProofView:
        """Auditors: the audit path of leaf ``index`` in the tree of ``size`` leaves."""
        actor.require(Role.AUDITOR)
        _signed_size(ledger, size, "size")
        if not 0 <= index < size:
            raise _bad("leaf-index-out-of-range", f"index must be between 0 and {size - 1}")
        proof = ledger.store.inclusion(index, size)
        record = ledger.store.record(proof.position)
        data = LeafHasher().leaf(record) if record is not None else b""
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

    @get("/proofs/consistency", sync_to_thread=True, responses=documented(400, 401, 403, 404))
    def consistency(
        self,
        ledger: NamedDependency[Ledger],
        actor: NamedDependency[Actor],
        first: FromQuery[int],
        second: FromQuery[int],
    ) -> ConsistencyProofView:
        """Auditors: the proof that the tree of ``first`` leaves is a prefix of ``second``'s."""
        actor.require(Role.AUDITOR)
        _signed_size(ledger, second, "second")
        if not 1 <= first <= second:
            raise _bad("invalid-tree-sizes", "first must be between 1 and second")
        proof = ledger.store.consistency(first, second)
        return ConsistencyProofView(first, second, proof.first_root, proof.second_root, proof.proof)


class LedgerPlugin(InitPluginProtocol):
    """Registers the routes, opens the ledger beside ``store`` at start-up (lazily
    before that), runs its thread while the app runs, and closes it at shutdown."""

    def __init__(self, settings: Settings, store: object) -> None:
        self._settings = settings
        # A test double of the store has no log to follow: no ledger then.
        self._store = store if isinstance(store, Application) else None
        self._lock = threading.Lock()
        self._ledger: Ledger | None = None
        self._signer: PeriodicSigner | None = None

    def ledger(self) -> Ledger:
        with self._lock:
            if self._store is None:
                raise Problem(503, "ledger-unavailable", "No ledger", "this server keeps no ledger")
            if self._ledger is None:
                self._ledger = open_ledger(self._settings, self._store.recorder)
            return self._ledger

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        app_config.route_handlers.append(LedgerController)
        app_config.dependencies["ledger"] = Provide(self.ledger, sync_to_thread=False)
        app_config.on_startup.append(self._start)
        app_config.on_shutdown.insert(0, self._stop)  # before the event store closes
        previous = app_config.after_response

        async def after_response(request: Request[Any, Any, Any]) -> None:
            if self._signer is not None and request.method not in _SAFE_METHODS:
                self._signer.nudge()
            if previous is not None:
                outcome = previous(request)
                if inspect.isawaitable(outcome):
                    await outcome

        app_config.after_response = after_response
        return app_config

    def _start(self) -> None:
        if self._store is None:
            return
        ledger = self.ledger()
        if self._settings.checkpoint_interval_seconds > 0:
            self._signer = PeriodicSigner(ledger, self._settings.checkpoint_interval_seconds)
            self._signer.start()

    def _stop(self) -> None:
        if self._signer is not None:
            self._signer.stop()
            self._signer = None
        with self._lock:
            if self._ledger is not None:
                self._ledger.close()
                self._ledger = None
