"""The key store's in-process cache of unwrapped data keys.

Why a cache: unwrapping is a few microseconds, but fetching the wrapped key is a
database round trip per sealed field. Why bounded in time: a key destroyed by
another process must stop opening here too. The policy (see ``SqlKeyStore``):

* case keys (and any scope other than the system scope) live ``ttl`` seconds,
  for sealing and for opening; ``ttl=0`` re-reads the row on every use;
* system keys are never destroyed, so for opening they live for ever; for
  sealing they are re-read every ``system_refresh`` seconds to pick up a newer
  generation introduced by another process;
* ids of destroyed keys are remembered for ever (a destroyed key never returns).

The destroying process evicts the scope at once (``evict_scope``).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from infrastructure.crypto.scopes import SYSTEM_SCOPE

K = TypeVar("K", bytes, str)


@dataclass(frozen=True, slots=True)
class _Entry:
    key_id: bytes
    key: bytes = field(repr=False)
    scope: str
    expires: float


class KeyCache:
    def __init__(
        self,
        *,
        ttl: float,
        system_refresh: float,
        clock: Callable[[], float],
        max_entries: int = 10_000,
    ) -> None:
        if ttl < 0 or system_refresh < 0:
            raise ValueError("cache lifetimes are zero or more seconds")
        self._ttl = ttl
        self._system_refresh = system_refresh
        self._clock = clock
        self._max = max_entries
        self._opening: dict[bytes, _Entry] = {}
        self._sealing: dict[str, _Entry] = {}
        self._destroyed: dict[bytes, None] = {}  # an ordered set
        self._lock = threading.Lock()

    # -- lookups (lock-free: a dict read is atomic) ---------------------------------

    def opening(self, key_id: bytes) -> bytes | None:
        entry = self._live(self._opening, key_id)
        return None if entry is None else entry.key

    def sealing(self, scope: str) -> tuple[bytes, bytes] | None:
        entry = self._live(self._sealing, scope)
        return None if entry is None else (entry.key_id, entry.key)

    def _live(self, entries: dict[K, _Entry], name: K) -> _Entry | None:
        """The entry under ``name`` unless it expired (then dropped, under the lock)."""
        entry = entries.get(name)
        if entry is None or entry.expires > self._clock():
            return entry
        with self._lock:
            entries.pop(name, None)
        return None

    def is_destroyed(self, key_id: bytes) -> bool:
        return key_id in self._destroyed

    # -- updates ------------------------------------------------------------------

    def remember(self, key_id: bytes, key: bytes, scope: str, *, for_sealing: bool) -> None:
        now = self._clock()
        system = scope == SYSTEM_SCOPE
        opening_life = math.inf if system else self._ttl
        if opening_life > 0:
            self._put(self._opening, key_id, _Entry(key_id, key, scope, now + opening_life))
        sealing_life = self._system_refresh if system else self._ttl
        if for_sealing and sealing_life > 0:
            self._put(self._sealing, scope, _Entry(key_id, key, scope, now + sealing_life))

    def mark_destroyed(self, key_id: bytes) -> None:
        with self._lock:
            self._opening.pop(key_id, None)
            if len(self._destroyed) >= self._max:
                del self._destroyed[next(iter(self._destroyed))]
            self._destroyed[key_id] = None

    def evict_scope(self, scope: str) -> list[bytes]:
        """Forget every key of ``scope``; returns the keys forgotten."""
        with self._lock:
            gone = [e for e in self._opening.values() if e.scope == scope]
            for entry in gone:
                del self._opening[entry.key_id]
            sealing = self._sealing.pop(scope, None)
        keys = [e.key for e in gone]
        if sealing is not None:
            keys.append(sealing.key)
        return keys

    def forget_sealing(self, scope: str) -> None:
        with self._lock:
            self._sealing.pop(scope, None)

    def _put(self, table: dict[K, _Entry], name: K, entry: _Entry) -> None:
        with self._lock:
            if name not in table and len(table) >= self._max:
                del table[next(iter(table))]  # the oldest entry
            table[name] = entry
