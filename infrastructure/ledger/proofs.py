"""Verification of inclusion and consistency proofs, exactly as RFC 9162 §2.1.3.2
and §2.1.4.2 state them.

This module does not use the proof-building code of ``merkle``: a verifier that
shared the builder's arithmetic would share its bugs. Every failure raises
``ProofError`` with the reason; success returns None.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence

from infrastructure.ledger.merkle import HASH_SIZE, MAX_SIZE, node_hash


class ProofError(Exception):
    """A proof does not hold; the message says why."""


def _check_hash(what: str, value: object) -> bytes:
    if not isinstance(value, bytes):
        raise ProofError(f"{what} is not bytes")
    if len(value) != HASH_SIZE:
        raise ProofError(f"{what} is {len(value)} bytes, a hash is {HASH_SIZE}")
    return value


def _check_path(what: str, proof: Sequence[bytes], want: int) -> list[bytes]:
    if len(proof) != want:
        raise ProofError(f"{what} has {len(proof)} hashes, expected {want}")
    return [_check_hash(f"{what}[{i}]", h) for i, h in enumerate(proof)]


def _check_size(what: str, value: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_SIZE:
        raise ProofError(f"{what} must be an integer between 0 and 2**64 - 1")


def _same(a: bytes, b: bytes) -> bool:
    return hmac.compare_digest(a, b)


def inclusion_proof_length(index: int, size: int) -> int:
    """How many hashes the audit path of leaf ``index`` has in a tree of ``size``.

    Below the level where the paths to ``index`` and to the last leaf part,
    there is one sibling per level; above it, one per left subtree, i.e. per 1
    bit of the index there.
    """
    inner = (index ^ (size - 1)).bit_length()
    return inner + (index >> inner).bit_count()


def consistency_proof_length(first: int, second: int) -> int:
    """How many hashes the consistency proof has, for 0 < first < second."""
    inner = ((first - 1) ^ (second - 1)).bit_length()
    border = ((first - 1) >> inner).bit_count()
    shift = (first & -first).bit_length() - 1  # trailing zero bits of first
    seed = 0 if first == 1 << shift else 1  # MTH of the first tree is known, not sent
    return seed + (inner - shift) + border


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Checks that ``leaf_hash`` is leaf ``index`` of the tree of ``size`` with ``root``."""
    _check_size("leaf index", index)
    _check_size("tree size", size)
    # Step 1: the leaf must be in the tree.
    if index >= size:
        raise ProofError(f"leaf index {index} is not below tree size {size}")
    leaf = _check_hash("leaf hash", leaf_hash)
    expected_root = _check_hash("root hash", root)
    path = _check_path("inclusion proof", proof, inclusion_proof_length(index, size))

    # Steps 2-4 of RFC 9162 §2.1.3.2.
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            raise ProofError("inclusion proof is longer than the path to the root")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while fn and not fn & 1:  # step ii: runs only when LSB(fn) is not set
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1

    # Step 5.
    if sn != 0:
        raise ProofError("inclusion proof is shorter than the path to the root")
    if not _same(r, expected_root):
        raise ProofError("inclusion proof leads to another root")


def verify_consistency(
    size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes
) -> None:
    """Checks that the tree of ``size1`` with ``root1`` is a prefix of the tree of
    ``size2`` with ``root2``."""
    _check_size("first tree size", size1)
    _check_size("second tree size", size2)
    if size1 > size2:
        raise ProofError(f"first tree size {size1} is larger than second size {size2}")
    if size1 == 0:
        # Every tree extends the empty one; a proof cannot say more. Callers
        # compare root1 with EMPTY_ROOT instead.
        raise ProofError("a consistency proof from the empty tree is meaningless")
    if size1 == size2:
        # Nothing to hash: the proof is empty and the two roots are one.
        if len(proof):
            raise ProofError("equal tree sizes need an empty consistency proof")
        if not isinstance(root1, bytes) or not isinstance(root2, bytes):
            raise ProofError("roots are not bytes")
        if not _same(root1, root2):
            raise ProofError("equal tree sizes with different roots")
        return

    first_hash = _check_hash("first root", root1)
    second_hash = _check_hash("second root", root2)
    # Step 1: an empty path fails (the length check also covers it).
    if not len(proof):
        raise ProofError("consistency proof is empty")
    path = _check_path("consistency proof", proof, consistency_proof_length(size1, size2))

    # Step 2: the root of a perfect first tree is a node of the second; it is
    # not sent but prepended here.
    if size1 & (size1 - 1) == 0:
        path = [first_hash, *path]
    # Steps 3-5.
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    # Step 6.
    for c in path[1:]:
        if sn == 0:
            raise ProofError("consistency proof is longer than the path to the root")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while fn and not fn & 1:  # step iii: runs only when LSB(fn) is not set
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1

    # Step 7.
    if sn != 0:
        raise ProofError("consistency proof is shorter than the path to the root")
    if not _same(fr, first_hash):
        raise ProofError("consistency proof does not lead to the first root")
    if not _same(sr, second_hash):
        raise ProofError("consistency proof does not lead to the second root")
