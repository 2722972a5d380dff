"""The ledger's tables and the rows read from them.

    rete_ledger_nodes   (level, idx) primary key, hash: every complete perfect
                        subtree of the tree; level 0 holds the leaf hashes
    rete_ledger_leaves  idx primary key, position: which record (notification id)
                        each leaf is, so a proof can show the record it names
    rete_ledger_head    one row (id = 1): size (leaves so far) and last_position
                        (notification id of the last record ledgered)
    rete_checkpoints    size primary key, root, note (the signed note, bytes as
                        signed), signed_at
    rete_ledger_streams stream primary key (32 hex digits), version: the highest
                        version of each stream ledgered so far, so that a version
                        stored again (its record deleted, then written anew) is
                        noticed by the follower and refused by the writer

Nodes, leaves and the head are written in one transaction per batch, so the
head always names exactly the leaves and nodes that exist.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, NamedTuple

NODES: Final = "rete_ledger_nodes"
LEAVES: Final = "rete_ledger_leaves"
HEAD: Final = "rete_ledger_head"
CHECKPOINTS: Final = "rete_checkpoints"
STREAMS: Final = "rete_ledger_streams"

DDL: Final = (
    """CREATE TABLE IF NOT EXISTS {nodes} (
        level INTEGER NOT NULL CHECK (level >= 0 AND level < 64),
        idx BIGINT NOT NULL CHECK (idx >= 0),
        hash {blob} NOT NULL CHECK ({length}(hash) = 32),
        PRIMARY KEY (level, idx)){without_rowid}""",
    """CREATE TABLE IF NOT EXISTS {leaves} (
        idx {leaf_key} PRIMARY KEY CHECK (idx >= 0),
        position BIGINT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS {head} (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        size BIGINT NOT NULL CHECK (size >= 0),
        last_position BIGINT NOT NULL CHECK (last_position >= 0))""",
    "INSERT INTO {head} (id, size, last_position) VALUES (1, 0, 0) ON CONFLICT (id) DO NOTHING",
    """CREATE TABLE IF NOT EXISTS {checkpoints} (
        size BIGINT PRIMARY KEY CHECK (size > 0),
        root {blob} NOT NULL CHECK ({length}(root) = 32),
        note {blob} NOT NULL,
        signed_at {time} NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS {streams} (
        stream TEXT PRIMARY KEY CHECK ({length}(stream) = 32),
        version BIGINT NOT NULL CHECK (version >= 1)){without_rowid}""",
)


@dataclass(frozen=True, slots=True)
class Head:
    """How far the ledger has followed the log."""

    size: int
    last_position: int


@dataclass(frozen=True, slots=True)
class StoredCheckpoint:
    size: int
    root: bytes
    note: bytes = field(repr=False)
    signed_at: datetime


RecordRow = tuple[int, Any, int, str, bytes]
"""A ``RawRecord``'s fields as the driver returns them: verification's fast path
hashes a million of these, and a named tuple each would cost a tenth of it."""


class RawRecord(NamedTuple):
    """One stored record as the events table holds it (ciphertext, never opened).
    A tuple, not a dataclass: verification makes a million of them."""

    position: int
    stream_id: Any  # a UUID, or its 32 hex digits as SQLite stores it
    version: int
    topic: str
    state: bytes


@dataclass(frozen=True, slots=True)
class StoredLeaf:
    index: int
    position: int
    hash: bytes
