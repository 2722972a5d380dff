"""A key store in memory: ``application.ports.KeyStore`` without a database or a KEK.

It keeps the data keys in clear in a dict (test code only): the sealing, the
erasure by destroying a scope's keys and the errors are the port's.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable

from application.ports import SYSTEM_SCOPE, KeyDestroyed, UnknownKey
from infrastructure.crypto.sealing import KEY_ID_SIZE


class MemoryKeyStore:
    """Implements ``application.ports.KeyStore``."""

    def __init__(self) -> None:
        self._keys: dict[bytes, bytes] = {}  # key id -> key
        self._scopes: dict[str, list[bytes]] = {}  # scope -> key ids, oldest first
        self._destroyed_scopes: set[str] = set()
        self._destroyed_ids: set[bytes] = set()
        self._lock = threading.Lock()

    def sealing_key(self, scope: str) -> tuple[bytes, bytes]:
        with self._lock:
            if scope in self._destroyed_scopes:
                raise KeyDestroyed(f"the keys of {scope} were destroyed")
            ids = self._scopes.setdefault(scope, [])
            if not ids:
                key_id = os.urandom(KEY_ID_SIZE)
                self._keys[key_id] = os.urandom(32)
                ids.append(key_id)
            return ids[-1], self._keys[ids[-1]]

    def prefetch_opening(self, key_ids: Iterable[bytes]) -> None:
        """Nothing to read ahead: every key is in memory."""

    def opening_key(self, key_id: bytes) -> bytes | None:
        if len(key_id) != KEY_ID_SIZE:
            raise ValueError(f"a key id is {KEY_ID_SIZE} bytes, got {len(key_id)}")
        with self._lock:
            if key_id in self._destroyed_ids:
                return None
            if key_id not in self._keys:
                raise UnknownKey(f"no data key with id {key_id.hex()} was ever issued here")
            return self._keys[key_id]

    def destroy(self, scope: str) -> int:
        if scope == SYSTEM_SCOPE:
            raise ValueError("the system key is never destroyed: every event would be lost")
        with self._lock:
            ids = self._scopes.pop(scope, [])
            for key_id in ids:
                del self._keys[key_id]
            self._destroyed_ids.update(ids)
            self._destroyed_scopes.add(scope)
            return len(ids)

    def close(self) -> None:
        """Nothing to release (the event store closes its key store)."""
