"""RFC 6962 / RFC 9162 Merkle tree hashing, and proofs built from stored nodes.

Leaf encoding of Rete's records (layout ``rete-leaf-v1``)
=========================================================

Every stored record of the ordered event log is one leaf. The leaf *data*, the
byte string that RFC 6962 hashes as ``SHA-256(0x00 || data)``, is::

    offset  size  field
    0       12    tag            b"rete-leaf-v1" (domain separation and layout version)
    12      8     position       u64 big-endian: the record's position in the ordered log
                                 (its notification id)
    20      16    stream id      the stream's UUID as 16 raw bytes (``UUID.bytes``,
                                 RFC 9562 network order)
    36      8     version        u64 big-endian: the event's version within its stream
    44      2     topic length   u16 big-endian, n, 1 <= n <= 65535
    46      n     topic          the event type (eventsourcing topic), UTF-8, byte for
                                 byte as stored: never normalised, or two distinct
                                 topics could share a leaf
    46+n    32    state sha256   SHA-256 of the stored bytes of the record, i.e. of the
                                 ciphertext, never of the plaintext

    total: 78 + n bytes

Why this layout:

* It is injective: every field has a fixed width except the topic, whose length
  comes before it, and the total length is exactly ``78 + n``. ``decode_leaf``
  parses any leaf back to its fields or refuses it, so two different records
  can never produce the same leaf (the tests check the round trip on tricky
  inputs).
* The position binds each record to its place in the log, so a reordering or a
  swap of two records changes the leaves even when the tree order is kept.
* The stream id and version name the event; the topic says what kind of event
  it was, without revealing any personal field.
* Hashing the stored ciphertext (not the plaintext) means erasing a case, which
  destroys its key, changes no leaf: verification keeps passing after erasure.
* The 12-byte tag keeps Rete's leaves apart from any other byte string hashed
  with the same function; a future layout gets another 12-byte tag
  (``rete-leaf-v2``), so layouts can never be confused by prefix.

Proofs from stored nodes
========================

A *node* ``(level, index)`` is the root of the perfect subtree of ``2**level``
leaves starting at leaf ``index * 2**level``; level 0 nodes are leaf hashes.
Perfect subtrees never change once complete, so a store can keep them (see
``compact.CompactRange``, which reports them as leaves are appended). Every
proof element of RFC 6962 is either such a node, or the root of an imperfect
subtree on the right edge of the tree, which is the fold of at most
``log2(size)`` perfect nodes. So a proof at any size costs O(log n) node reads
and no leaf is ever rehashed.

The ``*_plan`` functions say which nodes a proof needs before anything is read,
so a store can fetch them in one query; ``proof_from_plan`` then assembles the
proof.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from uuid import UUID

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()  # MTH({}) = SHA-256() by RFC 6962 §2.1
MAX_SIZE = 2**64 - 1  # tree sizes and indices are uint64 in RFC 6962 and C2SP

_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"


def leaf_hash(data: bytes) -> bytes:
    """RFC 6962 leaf hash: SHA-256(0x00 || data)."""
    return hashlib.sha256(_LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 6962 interior node hash: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


def mth(leaf_hashes: Sequence[bytes]) -> bytes:
    """The Merkle Tree Hash of a list of leaf hashes (RFC 6962 §2.1), iteratively.

    Hashing pairs level by level and carrying an odd last node up unchanged
    gives exactly the RFC's split at the largest power of two; it needs all the
    leaves in memory, so it is for tests and small trees.
    """
    if not leaf_hashes:
        return EMPTY_ROOT
    level = list(leaf_hashes)
    while len(level) > 1:
        paired = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


# --------------------------------------------------------------------------
# Nodes, ranges and plans


@dataclass(frozen=True, slots=True, order=True)
class NodeId:
    """The perfect subtree of 2**level leaves starting at leaf index * 2**level."""

    level: int
    index: int


GetNode = Callable[[int, int], bytes]
"""Reads the stored hash of node (level, index); it must exist."""

ProofPlan = list[tuple[NodeId, ...]]
"""One entry per proof hash: the nodes, left to right, whose fold is that hash."""


def _check_size(name: str, value: int) -> None:
    if not 0 <= value <= MAX_SIZE:
        raise ValueError(f"{name} must be between 0 and 2**64 - 1, got {value}")


def _largest_power_of_two_below(n: int) -> int:
    """k of RFC 6962: the largest power of two strictly smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def range_node_ids(start: int, end: int) -> tuple[NodeId, ...]:
    """The perfect subtrees, left to right, that make up the RFC 6962 subtree
    over leaves [start, end).

    The range must be one the RFC's recursion can produce: ``start`` a multiple
    of the smallest power of two >= ``end - start``. Its subtrees then follow
    the binary digits of the size, largest first.
    """
    size = end - start
    if size <= 0:
        raise ValueError(f"empty or reversed range [{start}, {end})")
    if start % (1 << (size - 1).bit_length()):
        raise ValueError(f"[{start}, {end}) is not a subtree of an RFC 6962 tree")
    ids = []
    for level in range(size.bit_length() - 1, -1, -1):
        if size >> level & 1:
            ids.append(NodeId(level, start >> level))
            start += 1 << level
    return tuple(ids)


def fold_right_edge(hashes: Sequence[bytes]) -> bytes:
    """The root over consecutive perfect subtrees of decreasing size.

    RFC 6962 splits an imperfect tree at its largest perfect left part, so the
    root is left[0] joined with the root of the rest, from the right.
    """
    if not hashes:
        raise ValueError("no hashes to fold")
    root = hashes[-1]
    for left in reversed(hashes[:-1]):
        root = node_hash(left, root)
    return root


def root_plan(size: int) -> tuple[NodeId, ...]:
    """The nodes whose fold is the root of the tree of this size (none when empty)."""
    _check_size("size", size)
    return range_node_ids(0, size) if size else ()


def root_from_nodes(size: int, get_node: GetNode) -> bytes:
    """The root of the tree of this size from stored nodes: at most log2(size) reads."""
    ids = root_plan(size)
    if not ids:
        return EMPTY_ROOT
    return fold_right_edge([get_node(node.level, node.index) for node in ids])


def inclusion_plan(index: int, size: int) -> ProofPlan:
    """The nodes of the RFC 6962 audit path PATH(index, D[size]), bottom to top.

    PATH descends from the root: at each split it keeps the side holding the
    leaf and records the other side. Until the first step left every recorded
    sibling is a perfect left subtree; after it the remaining tree is perfect.
    So at most one entry (the first right sibling) is an imperfect right edge.
    """
    _check_size("size", size)
    _check_size("index", index)
    if index >= size:
        raise ValueError(f"leaf index {index} is not in a tree of size {size}")
    plan: ProofPlan = []
    start, n, m = 0, size, index
    while n > 1:
        k = _largest_power_of_two_below(n)
        if m < k:
            plan.append(range_node_ids(start + k, start + n))
            n = k
        else:
            plan.append(range_node_ids(start, start + k))
            start, m, n = start + k, m - k, n - k
    plan.reverse()  # PATH lists the deepest sibling first
    return plan


def consistency_plan(first: int, second: int) -> ProofPlan:
    """The nodes of the RFC 6962 consistency proof PROOF(first, D[second]).

    Follows SUBPROOF(m, D[n], b) from the top. Empty when the sizes are equal;
    a proof from the empty tree is meaningless (RFC 9162 requires 0 < first).
    """
    _check_size("first", first)
    _check_size("second", second)
    if first > second:
        raise ValueError(f"first size {first} is larger than second size {second}")
    if first == 0:
        raise ValueError("a consistency proof from the empty tree is meaningless")
    plan: ProofPlan = []
    start, n, m, known = 0, second, first, True
    while m != n:
        k = _largest_power_of_two_below(n)
        if m <= k:
            plan.append(range_node_ids(start + k, start + n))
            n = k
        else:
            plan.append(range_node_ids(start, start + k))
            start, m, n, known = start + k, m - k, n - k, False
    if not known:
        # SUBPROOF(m, D[m], false) = {MTH(D[m])}: the verifier does not know
        # this subtree's root, unlike the whole first tree.
        plan.append(range_node_ids(start, start + n))
    plan.reverse()  # SUBPROOF lists the deepest node first
    return plan


def proof_from_plan(plan: ProofPlan, get_node: GetNode) -> list[bytes]:
    """Reads the planned nodes and folds each entry into one proof hash."""
    return [fold_right_edge([get_node(node.level, node.index) for node in entry]) for entry in plan]


def inclusion_proof(index: int, size: int, get_node: GetNode) -> list[bytes]:
    """The inclusion proof of leaf ``index`` in the tree of ``size``, from stored nodes."""
    return proof_from_plan(inclusion_plan(index, size), get_node)


def consistency_proof(first: int, second: int, get_node: GetNode) -> list[bytes]:
    """The consistency proof from tree size ``first`` to ``second``, from stored nodes."""
    return proof_from_plan(consistency_plan(first, second), get_node)


# --------------------------------------------------------------------------
# Leaf encoding (layout documented at the top of this module)

LEAF_TAG = b"rete-leaf-v1"
_LEAF_HEAD = struct.Struct(">12sQ16sQH")  # tag, position, stream id, version, topic length
_U64 = 2**64
_TOPIC_MAX = 0xFFFF


@dataclass(frozen=True, slots=True)
class LeafFields:
    """The fields of one record as committed to by its leaf."""

    position: int
    stream_id: UUID
    version: int
    topic: str
    state_sha256: bytes


def encode_leaf(
    position: int, stream_id: UUID, version: int, topic: str, state_sha256: bytes
) -> bytes:
    """The leaf data of one stored record (layout ``rete-leaf-v1``)."""
    if not 0 <= position < _U64:
        raise ValueError(f"position must fit in a u64, got {position}")
    if not 0 <= version < _U64:
        raise ValueError(f"version must fit in a u64, got {version}")
    if not isinstance(stream_id, UUID):
        raise TypeError("stream_id must be a UUID")
    # Strict UTF-8: a lone surrogate cannot be stored, so it cannot be a topic.
    topic_bytes = topic.encode("utf-8")
    if not 1 <= len(topic_bytes) <= _TOPIC_MAX:
        raise ValueError(f"topic must be 1 to {_TOPIC_MAX} bytes of UTF-8")
    if len(state_sha256) != HASH_SIZE:
        raise ValueError(f"state_sha256 must be {HASH_SIZE} bytes")
    head = _LEAF_HEAD.pack(LEAF_TAG, position, stream_id.bytes, version, len(topic_bytes))
    return head + topic_bytes + bytes(state_sha256)


def leaf_hash_input(topic_length: int) -> struct.Struct:
    """``0x00 || leaf`` for leaves whose topic is ``topic_length`` bytes, as one struct:
    its ``pack(b"\\x00", LEAF_TAG, position, stream id bytes, version, topic_length,
    topic, state sha256)`` is what ``leaf_hash`` hashes, built in one call instead of
    four concatenations (verification hashes every record; a test holds the two equal).

    ``s`` fields pad or cut silently: the caller passes a 16-byte stream id, a topic
    of exactly ``topic_length`` bytes and a 32-byte digest.
    """
    return struct.Struct(f">c{_LEAF_HEAD.format.lstrip('>')}{topic_length}s{HASH_SIZE}s")


def decode_leaf(data: bytes) -> LeafFields:
    """The fields of a ``rete-leaf-v1`` leaf; refuses anything else."""
    if len(data) < _LEAF_HEAD.size + 1 + HASH_SIZE:
        raise ValueError("leaf too short")
    tag, position, stream_bytes, version, topic_len = _LEAF_HEAD.unpack_from(data)
    if tag != LEAF_TAG:
        raise ValueError("not a rete-leaf-v1 leaf")
    if topic_len == 0 or len(data) != _LEAF_HEAD.size + topic_len + HASH_SIZE:
        raise ValueError("leaf length does not match its topic length")
    topic_end = _LEAF_HEAD.size + topic_len
    return LeafFields(
        position=position,
        stream_id=UUID(bytes=stream_bytes),
        version=version,
        topic=data[_LEAF_HEAD.size : topic_end].decode("utf-8"),
        state_sha256=bytes(data[topic_end:]),
    )
