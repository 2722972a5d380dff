"""``SqlKeyStore``: the ``KeyStore`` port on SQLite or PostgreSQL, in the events' database.

Data keys are 32 random bytes with a random 16-byte id (random, not derived from
the scope: a key id in a blob header reveals nothing about the case). A scope
can have several generations; the newest seals, all open. Only the wrapped form
(``kek.py``) is ever written; the KEK stays outside the database.

Cache policy (``keycache.py``), chosen for the cost model: unwrapping is
microseconds, a database round trip is not, so cached keys skip the database.
* The destroying process evicts the scope before and after its transaction:
  erasure is immediate there.
* Other processes keep a case key at most ``case_key_ttl`` seconds (default 5)
  before re-reading its row, so an erasure reaches every process within that
  bound, the same order as a request already in flight when it was made.
  ``case_key_ttl=0`` makes it immediate everywhere at one primary-key lookup per
  use (the figure to benchmark).
* The system key is never destroyed: it opens from the cache for ever, and
  seals from it for ``system_key_refresh`` seconds before looking for a newer
  generation.
* A case key seals only while its row exists. The event store's appends check
  it in their own transaction (``checked_by``: the append writes nothing if a
  key its records were sealed with is gone), so a cached key seals without a
  read; elsewhere ``sealing_key`` reads the row first, every time.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Final

from application.erasures import WAITING_FOR_KEK, WAITING_FOR_LOG, Erasure
from application.ports import KeyDestroyed, UnknownKey
from infrastructure.crypto import sealing
from infrastructure.crypto.kek import KeyEncryptionKeys, PrimaryChanged, UnwrapError
from infrastructure.crypto.keycache import KeyCache
from infrastructure.crypto.keydb import ErasureRow, KeyRow, KeyTables
from infrastructure.crypto.keydb.base import KEYS
from infrastructure.crypto.scopes import SYSTEM_SCOPE, check_scope
from infrastructure.db import Database, open_database
from infrastructure.db.closing import Closing
from infrastructure.logging import get_logger
from infrastructure.settings import Settings

DATA_KEY_SIZE: Final = sealing.KEY_SIZE
# Connections of a store opened on a bare database URL (tools and tests).
_OWN_POOL: Final = 2
# Key ids read in one statement by ``prefetch_opening`` (under SQLite's oldest limit
# of 999 parameters).
_PREFETCH: Final = 500
KEY_ID_SIZE: Final = sealing.KEY_ID_SIZE
# The lock that serialises the updates of the erasures' progress (not a scope name:
# scopes are "system" or "case:<id>").
_ERASURES: Final = "rete erasures"

log = get_logger(__name__)


def wrapping_aad(key_id: bytes, scope: str) -> bytes:
    """What a wrapped key is bound to: copied onto another id or scope, it fails."""
    return sealing.context("rete data key", key_id, scope)


class SqlKeyStore(Closing):
    """Implements ``application.ports.KeyStore``; thread-safe."""

    def __init__(
        self,
        database: Database | str,
        kek: KeyEncryptionKeys,
        *,
        case_key_ttl: float = 5.0,
        system_key_refresh: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        owns_database: bool = False,
    ) -> None:
        """The store on ``database`` (the process's pool; closed with the store when
        ``owns_database``), or on a small pool of its own opened on a database URL."""
        self._kek = kek
        self._cache = KeyCache(ttl=case_key_ttl, system_refresh=system_key_refresh, clock=clock)
        self._appending = threading.local()  # ``checked_by``
        owned = owns_database or isinstance(database, str)
        opened = open_database(database, _OWN_POOL) if isinstance(database, str) else database
        try:
            self._tables = KeyTables(opened, owned=owned)
            with self._tables.write(_ERASURES) as tx:  # scopes destroyed before this table
                tx.record_erasures_before(max(kek.versions()))
        except BaseException:
            if owned:
                opened.close()
            raise
        self.database = opened  # the event store built beside these keys shares it

    @classmethod
    def from_settings(
        cls, settings: Settings, kek: KeyEncryptionKeys, *, case_key_ttl: float = 5.0
    ) -> SqlKeyStore:
        """The store in the events' database (``?schema=`` honoured on PostgreSQL),
        on the process's pool of ``RETE_DATABASE_POOL_SIZE`` connections, which it
        opens: an event store built with these keys shares it (``database``)."""
        database = open_database(settings.database_url, settings.database_pool_size)
        return cls(database, kek, case_key_ttl=case_key_ttl, owns_database=True)

    # -- the port -------------------------------------------------------------

    def sealing_key(self, scope: str) -> tuple[bytes, bytes]:
        check_scope(scope)
        cached = self._cache.sealing(scope)
        if cached is not None and scope == SYSTEM_SCOPE:
            return cached
        checked_by: list[bytes] | None = getattr(self._appending, "key_ids", None)
        if cached is not None and checked_by is not None:
            # The append these records go into finds the key's row in its own
            # transaction, or writes nothing (``checked_by``).
            checked_by.append(cached[0])
            return cached
        # A case key seals only while its row exists: one indexed read per write, so
        # that an erasure made by another process stops this one's writes at once
        # (reading may use the cache: what it opens was sealed before the erasure).
        with self._tables.read() as tx:
            row = tx.newest(scope)
        if row is None:
            # A scope without keys is new or destroyed; decide under the scope's lock.
            row = self._add_generation(scope, only_if_none=True)
        if checked_by is not None:
            checked_by.append(row.key_id)
        if cached is not None and cached[0] == row.key_id:
            return cached
        key = self._unwrap(row)
        self._cache.remember(row.key_id, key, scope, for_sealing=True)
        return row.key_id, key

    @contextmanager
    def checked_by(self, key_ids: list[bytes]) -> Iterator[None]:
        """Inside, on this thread, a case key that seals is listed in ``key_ids``
        instead of read first: the append the records go into checks, in its own
        transaction, that every key listed is still there, and writes nothing
        otherwise (``infrastructure.db.event_recorder.AppendGuard``). Only for the
        records of that append: it is what stops a write at once after an erasure
        made elsewhere, as the read does."""
        previous = getattr(self._appending, "key_ids", None)
        self._appending.key_ids = key_ids
        try:
            yield
        finally:
            self._appending.key_ids = previous

    @property
    def data_keys_table(self) -> str:
        """The data keys' table (qualified)."""
        return self._tables.database.dialect.qualify(KEYS)

    def opening_key(self, key_id: bytes) -> bytes | None:
        if len(key_id) != KEY_ID_SIZE:
            raise ValueError(f"a key id is {KEY_ID_SIZE} bytes, got {len(key_id)}")
        cached = self._cache.opening(key_id)
        if cached is not None:
            return cached
        if self._cache.is_destroyed(key_id):
            return None
        with self._tables.read() as tx:
            row = tx.by_id(key_id)
            # destroy() records the ids in the same transaction that deletes the
            # rows, so a missing row is either listed as destroyed or never existed.
            destroyed = row is None and tx.key_destroyed(key_id)
        if row is None:
            if destroyed:
                self._cache.mark_destroyed(key_id)
                return None
            raise UnknownKey(f"no data key with id {key_id.hex()} was ever issued here")
        key = self._unwrap(row)
        self._cache.remember(key_id, key, row.scope, for_sealing=False)
        return key

    def prefetch_opening(self, key_ids: Iterable[bytes]) -> None:
        """Read the keys of ``key_ids`` not cached yet in one statement per
        ``_PREFETCH`` ids, and cache them as ``opening_key`` would: a rebuild of the
        views opens a part under each case's key, one read per case otherwise (a
        round trip each on PostgreSQL). Ids not found are left to ``opening_key``
        (destroyed, or never issued)."""
        wanted = [
            key_id
            for key_id in dict.fromkeys(key_ids)
            if len(key_id) == KEY_ID_SIZE
            and self._cache.opening(key_id) is None
            and not self._cache.is_destroyed(key_id)
        ]
        for start in range(0, len(wanted), _PREFETCH):
            with self._tables.read() as tx:
                rows = tx.by_ids(wanted[start : start + _PREFETCH])
            for row in rows:
                self._cache.remember(row.key_id, self._unwrap(row), row.scope, for_sealing=False)

    def destroy(self, scope: str) -> int:
        check_scope(scope)
        if scope == SYSTEM_SCOPE:
            raise ValueError("the system key is never destroyed: every event would be lost")
        self._evict(scope)  # before: no thread here starts using it during the delete
        newest_kek = max(self._kek.versions())
        with self._tables.write(scope) as tx:
            count = tx.destroy(scope, newest_kek)
        self._evict(scope)  # after: a thread that re-read it meanwhile loses it too
        # Recorded as pending above; the log's copies go now if readers allow, else
        # at the next retry (``complete_erasures``), never silently.
        try:
            self._fold_log()
        except Exception as e:  # the key is gone; folding is retried, the erasure stands
            log.warning("the write-ahead log could not be folded", exception_type=type(e).__name__)
        return count

    # -- operations (the `rete keys` commands) ------------------------------------

    def is_destroyed(self, scope: str) -> bool:
        """Whether ``scope`` was destroyed (tells an erased case from a tampered blob)."""
        with self._tables.read() as tx:
            return tx.scope_destroyed(check_scope(scope))

    def rotate_data_key(self, scope: str) -> bytes:
        """Add a newer generation to ``scope``; it seals from now on (in other
        processes once their cache lifetime passes), the older ones still open.
        Returns the new key id."""
        row = self._add_generation(check_scope(scope), only_if_none=False)
        self._cache.forget_sealing(scope)
        return row.key_id

    def rewrap_all(self, kek: KeyEncryptionKeys) -> int:
        """Rewrap every data key not yet under ``kek``'s primary version, in one
        transaction; returns how many. Only ``rete_data_keys`` rows change (never an
        event). From then on this store wraps with ``kek``."""
        with self._tables.write(None) as tx:
            primary = kek.primary_version()
            count = 0
            for row in tx.all_rows():
                if row.kek_version == primary:
                    continue
                aad = wrapping_aad(row.key_id, row.scope)
                key = kek.unwrap(row.kek_version, row.wrapped, aad)
                tx.rewrap(row.key_id, primary, kek.wrap(primary, key, aad))
                count += 1
        self._kek = kek
        return count

    def check_kek(self) -> None:
        """Unwrap one data key under each KEK version in use: ``UnwrapError`` when the
        configured KEK is not the one the database's keys were wrapped under (a key
        operation then stops before it writes anything, to the database or to the
        key file). Nothing is kept: the keys unwrapped here are not cached."""
        with self._tables.read() as tx:
            rows = tx.one_per_kek_version()
        for row in rows:
            self._unwrap(row)

    def kek_versions_in_use(self) -> dict[int, int]:
        """KEK version -> number of data keys wrapped under it. A version may be
        retired from the keyring once no key (and no backup kept) uses it."""
        with self._tables.read() as tx:
            return tx.kek_versions()

    # -- completing erasures (``rete keys retire``, ``rete keys status``) -------------

    def erasures(self) -> list[Erasure]:
        """Every erasure, oldest first, with how far it got (``ErasureRecords``)."""
        self._settle()
        with self._tables.read() as tx:
            rows = tx.erasures()
        return [self._erasure(row) for row in rows]

    def complete_erasures(self, *, retire_kek: bool = True) -> list[Erasure]:
        """Move every pending erasure on: fold the log again if one waits for it, and
        (``retire_kek``) retire the KEK versions that wrapped a destroyed key. The
        server runs this on a schedule; ``rete keys retire`` on demand."""
        waiting = self.erasures()
        if any(WAITING_FOR_LOG in e.waiting_for for e in waiting):
            self._fold_log()
        if retire_kek and any(WAITING_FOR_KEK in e.waiting_for for e in waiting):
            self.retire_kek()
        return self.erasures()

    def retire_kek(self) -> list[int]:
        """Rotate the KEK, rewrap every live data key under the new version, then
        destroy every older version; returns the versions destroyed. Copies of
        destroyed keys (in a log, heap pages, a backup) were wrapped under those
        versions only, so they can never be unwrapped again; nor can a backup taken
        before this (docs/ENCRYPTION.md)."""
        self._kek.rotate()
        self.rewrap_all(self._kek)
        # The table lock keeps a key from being wrapped under an old version while
        # those are removed; a creator that had not seen the new version yet is
        # rewrapped here first. Only then is any version destroyed.
        while True:
            with self._tables.write(None) as tx:
                primary = self._kek.primary_version()
                if tx.keys_not_under(primary) == 0:
                    try:
                        retired = self._kek.retire_all_but(primary)
                        break
                    except PrimaryChanged:
                        pass  # rotated meanwhile: rewrap under the newer one first
            self.rewrap_all(self._kek)
        self._settle()
        return retired

    def _fold_log(self) -> None:
        began = datetime.now(UTC)
        folded = self._tables.fold_log()
        if folded:
            with self._tables.write(_ERASURES) as tx:
                tx.mark_log_folded(before=began, at=datetime.now(UTC))
        elif folded is False:
            log.info("the write-ahead log could not be folded yet: a reader holds it; retried")

    def _settle(self) -> None:
        """Record the steps done since last asked: a KEK version retired (here or by
        hand), and erasures whose every step is done."""
        oldest_held = min(self._kek.versions())
        now = datetime.now(UTC)
        with self._tables.write(_ERASURES) as tx:
            tx.mark_kek_retired(oldest_held, now)
            tx.mark_completed(now, log_counts=self._tables.log_counts)

    def _erasure(self, row: ErasureRow) -> Erasure:
        waiting = []
        if self._tables.log_counts and row.log_folded_at is None:
            waiting.append(WAITING_FOR_LOG)
        if row.kek_retired_at is None:
            waiting.append(WAITING_FOR_KEK)
        return Erasure(
            case_id=row.scope.removeprefix("case:"),
            erased_at=row.erased_at,
            status="complete" if row.completed_at is not None else "pending",
            waiting_for=waiting,
            kek_version=row.kek_version,
            log_folded_at=row.log_folded_at,
            kek_retired_at=row.kek_retired_at,
            completed_at=row.completed_at,
        )

    def close(self) -> None:
        self._tables.close()

    # -- inside ------------------------------------------------------------------

    def _add_generation(self, scope: str, *, only_if_none: bool) -> KeyRow:
        # Only records sealed with the key, committed later, rely on it: their
        # commit's wait for the disk makes it durable too (``Durability``).
        with self._tables.write(scope, durability="ahead") as tx:
            destroyed, newest = tx.standing(scope)
            if destroyed:
                raise KeyDestroyed(f"the keys of scope {scope!r} were destroyed")
            if newest is not None and only_if_none:
                return newest  # another process created it first: use theirs
            key_id, key = os.urandom(KEY_ID_SIZE), os.urandom(DATA_KEY_SIZE)
            version = self._kek.primary_version()
            row = KeyRow(
                key_id=key_id,
                scope=scope,
                generation=newest.generation + 1 if newest else 1,
                kek_version=version,
                wrapped=self._kek.wrap(version, key, wrapping_aad(key_id, scope)),
            )
            # The lock already serialises creators; the unique (scope, generation)
            # is the second guard: if it ever fires, re-read and use the winner.
            if not tx.insert(row):
                winner = tx.newest(scope)
                assert winner is not None
                return winner
            return row

    def _unwrap(self, row: KeyRow) -> bytes:
        key = self._kek.unwrap(row.kek_version, row.wrapped, wrapping_aad(row.key_id, row.scope))
        if len(key) != DATA_KEY_SIZE:
            raise UnwrapError(f"data key {row.key_id.hex()} unwrapped to {len(key)} bytes")
        return key

    def _evict(self, scope: str) -> None:
        for key in self._cache.evict_scope(scope):
            sealing.forget(key)
