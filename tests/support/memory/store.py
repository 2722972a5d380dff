"""The event store in memory: the application's own ``ReteEventStore`` (every record
sealed by the ``SealingMapper``, the same ``Conflict`` and ``NotFound``) over the
eventsourcing library's plain-Python persistence module instead of a database."""

from __future__ import annotations

from infrastructure.store import ReteEventStore
from support.memory.keys import MemoryKeyStore


def memory_store(keys: MemoryKeyStore | None = None, snapshot_interval: int = 50) -> ReteEventStore:
    """An event store held in this process; another instance never sees its events."""
    env = {"PERSISTENCE_MODULE": "eventsourcing.popo"}
    return ReteEventStore(env, keys or MemoryKeyStore(), snapshot_interval)
