"""Issue 4, done-when 1: the RFC 6962 reference vectors of transparency-dev/merkle.

Read from ../shared/vectors/rfc6962/ (never copied in): the roots of sizes 0-8
byte for byte; every valid inclusion and consistency proof verifies, every
mutated one (``wantErr: true``) is refused; and the proofs our builder makes
from stored nodes are the reference proofs, byte for byte.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from ledger_support import NodeStore, b64, load_json, require_vectors, vector_params

from infrastructure.ledger.merkle import (
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    mth,
    root_from_nodes,
)
from infrastructure.ledger.proofs import ProofError, verify_consistency, verify_inclusion


def _reference_leaves() -> tuple[list[bytes], list[bytes]]:
    document = load_json(require_vectors("rfc6962/roots.json"))
    leaves = [leaf_hash(bytes.fromhex(h)) for h in document["leaf_inputs_hex"]]
    roots = [bytes.fromhex(h) for h in document["roots_hex"]]
    return leaves, roots


def test_roots_of_sizes_0_to_8_byte_for_byte() -> None:
    leaves, roots = _reference_leaves()
    assert len(leaves) == 8 and len(roots) == 9
    store = NodeStore()
    for size in range(9):
        assert mth(leaves[:size]) == roots[size]
        assert root_from_nodes(size, store.get_node) == roots[size]
        assert store.frontier.root() == roots[size]
        if size < 8:
            store.append(leaves[size])


def _as_the_vector_says(kind: str, path: Path | None, verify: Callable[..., None]) -> None:
    """``verify`` the vector's proof: it passes, or raises when the vector wants an error."""
    require_vectors(f"rfc6962/{kind}")
    assert path is not None
    v = load_json(path)
    proof = [b64(h) for h in v["proof"] or []]
    if kind == "inclusion":
        args = (b64(v["leafHash"]), v["leafIdx"], v["treeSize"], proof, b64(v["root"]))
    else:
        args = (v["size1"], v["size2"], proof, b64(v["root1"]), b64(v["root2"]))
    if v["wantErr"]:
        with pytest.raises(ProofError):
            verify(*args)
    else:
        verify(*args)


@pytest.mark.parametrize("path", vector_params("rfc6962/inclusion"))
def test_inclusion_vector(path: Path | None) -> None:
    _as_the_vector_says("inclusion", path, verify_inclusion)


@pytest.mark.parametrize("path", vector_params("rfc6962/consistency"))
def test_consistency_vector(path: Path | None) -> None:
    _as_the_vector_says("consistency", path, verify_consistency)


def test_the_vectors_cover_valid_and_mutated_proofs() -> None:
    """Guards against a vacuous pass (an empty or truncated folder)."""
    files = sorted(require_vectors("rfc6962").rglob("*.json"))
    wanted = [load_json(p)["wantErr"] for p in files if p.name != "roots.json"]
    assert wanted.count(False) >= 10
    assert wanted.count(True) >= 150


def _happy_paths(kind: str) -> list[dict[str, Any]]:
    folder = require_vectors(f"rfc6962/{kind}")
    return [load_json(p) for p in sorted(folder.glob("*/happy-path.json"))]


def _against_reference(
    kind: str,
) -> tuple[list[bytes], list[bytes], NodeStore, list[dict[str, Any]]]:
    """The reference leaves and roots, a store of those leaves, and the happy-path
    vectors of ``kind`` (at least five)."""
    leaves, roots = _reference_leaves()
    happy = _happy_paths(kind)
    assert len(happy) >= 5
    return leaves, roots, NodeStore.of_leaves(leaves), happy


def test_our_inclusion_proofs_are_the_reference_proofs() -> None:
    leaves, _, store, happy = _against_reference("inclusion")
    for v in happy:
        index, size = v["leafIdx"], v["treeSize"]
        assert b64(v["leafHash"]) == leaves[index]
        want = [b64(h) for h in v["proof"] or []]
        assert inclusion_proof(index, size, store.get_node) == want


def test_our_consistency_proofs_are_the_reference_proofs() -> None:
    _, roots, store, happy = _against_reference("consistency")
    for v in happy:
        size1, size2 = v["size1"], v["size2"]
        assert b64(v["root1"]) == roots[size1]
        assert b64(v["root2"]) == roots[size2]
        want = [b64(h) for h in v["proof"] or []]
        assert consistency_proof(size1, size2, store.get_node) == want
