"""Helpers of the ledger tests: where the reference vectors are, an in-memory
node store, and RFC 6962's definitions written out literally as a reference."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

import pytest

from infrastructure.ledger.compact import CompactRange
from infrastructure.ledger.merkle import EMPTY_ROOT, leaf_hash, node_hash

PROJECT_ROOT = Path(__file__).resolve().parents[2]
VECTORS = PROJECT_ROOT.parent / "shared" / "vectors"


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def require_vectors(relative: str) -> Path:
    """The vector file or folder under ../shared/vectors; skips the test when it
    is absent, except under CI=true, where it fails."""
    path = VECTORS / relative
    if not path.exists():
        reason = (
            f"reference vectors absent: expected ../shared/vectors/{relative} beside the "
            "project root (see ../shared/vectors/README.md)"
        )
        if in_ci():
            pytest.fail(reason + "; they are required under CI=true", pytrace=False)
        pytest.skip(reason)
    return path


def load_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def b64(text: str | None) -> bytes:
    return base64.b64decode(text or "")


def vector_params(relative: str) -> list[Any]:
    """One pytest param per JSON file under a vector folder, or a single param
    that skips (or fails under CI) when the folder is absent."""
    folder = VECTORS / relative
    if not folder.is_dir():
        return [pytest.param(None, id="vectors-absent")]
    return [
        pytest.param(path, id=str(path.relative_to(folder)))
        for path in sorted(folder.rglob("*.json"))
    ]


# --------------------------------------------------------------------------
# An in-memory node store, filled from what the compact range reports


class NodeStore:
    """Stores every node a CompactRange completes; counts reads."""

    def __init__(self) -> None:
        self.nodes: dict[tuple[int, int], bytes] = {}
        self.reads = 0
        self.frontier = CompactRange()

    @classmethod
    def of_leaves(cls, leaves: list[bytes]) -> NodeStore:
        store = cls()
        for leaf in leaves:
            store.append(leaf)
        return store

    def append(self, leaf: bytes) -> None:
        for node in self.frontier.append(leaf):
            assert (node.level, node.index) not in self.nodes, "a node was completed twice"
            self.nodes[node.level, node.index] = node.hash

    def get_node(self, level: int, index: int) -> bytes:
        self.reads += 1
        return self.nodes[level, index]


def leaves_of(count: int, salt: bytes = b"") -> list[bytes]:
    return [leaf_hash(salt + i.to_bytes(8, "big")) for i in range(count)]


# --------------------------------------------------------------------------
# RFC 6962 §2.1, written as the RFC states it (recursive, over leaf hashes)


def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def ref_mth(d: list[bytes]) -> bytes:
    if not d:
        return EMPTY_ROOT
    if len(d) == 1:
        return d[0]
    k = _k(len(d))
    return node_hash(ref_mth(d[:k]), ref_mth(d[k:]))


def ref_path(m: int, d: list[bytes]) -> list[bytes]:
    n = len(d)
    if n == 1:
        return []
    k = _k(n)
    if m < k:
        return [*ref_path(m, d[:k]), ref_mth(d[k:])]
    return [*ref_path(m - k, d[k:]), ref_mth(d[:k])]


def ref_proof(m: int, d: list[bytes]) -> list[bytes]:
    return _ref_subproof(m, d, True)


def _ref_subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    n = len(d)
    if m == n:
        return [] if b else [ref_mth(d)]
    k = _k(n)
    if m <= k:
        return [*_ref_subproof(m, d[:k], b), ref_mth(d[k:])]
    return [*_ref_subproof(m - k, d[k:], False), ref_mth(d[:k])]
