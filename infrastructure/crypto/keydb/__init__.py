"""The key store's tables, on SQLite or PostgreSQL, beside the events.

    rete_data_keys        key_id (16 bytes) primary key, scope, generation,
                          created_at, kek_version, wrapped; unique (scope, generation)
    rete_destroyed_scopes scope primary key, destroyed_at: a scope that may never seal again
    rete_destroyed_keys   key_id primary key, scope, destroyed_at: ids of destroyed keys,
                          so "destroyed" (erased) can be told from "never existed" (tampered)
    rete_erasures         scope primary key, erased_at, kek_version, log_folded_at,
                          kek_retired_at, completed_at: how far each erasure got (pending
                          until no copy of its keys, in the log or under a KEK, can open)

No column holds key material in clear: ``wrapped`` is the data key under a KEK.
Write transactions are serialised per scope (SQLite: ``BEGIN IMMEDIATE``;
PostgreSQL: a transaction-scoped advisory lock on the scope), so "is the scope
destroyed? then create its first key" and "destroy the scope" cannot interleave.
The connections are the process's one pool (``infrastructure.db``).
"""

from __future__ import annotations

from infrastructure.crypto.keydb.base import ErasureRow, KeyRow, KeyTables, KeyTx

__all__ = ["ErasureRow", "KeyRow", "KeyTables", "KeyTx"]
