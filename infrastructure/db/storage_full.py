"""Which failures mean "the storage is full", said once for every backend.

SQLite answers ``SQLITE_FULL`` ("database or disk is full") when the disk under
its files is full, and ``SQLITE_IOERR_SHMSIZE`` ("disk I/O error") when it cannot
grow the WAL's shared-memory file, which SQLite documents as the volume being out
of space (a process opening the database on a full disk meets it first);
PostgreSQL ``53100 disk_full`` ("could not extend file");
a file of ours under ``var/`` ``ENOSPC`` or ``EDQUOT``. The drivers' errors reach
us wrapped (the eventsourcing library re-raises them ``from`` the original), so
the whole chain of causes is looked at. The writes of the database layer and of
the event store turn such a failure into ``application.errors.StorageFull``; the
API answers it 507 ``storage-full`` (``api.problems``), which also asks this
module about anything else that escaped, so no path answers 500 for it.

Each database remembers when it last refused a write for lack of space
(``StorageFullSeen``): readiness (``infrastructure.disk_check``) reports it, which
is all it can know of a PostgreSQL server's disk.
"""

from __future__ import annotations

import errno
import sqlite3
import time

from application.errors import StorageFull

_SQLITE_FULL = frozenset({sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR_SHMSIZE})
_DISK_FULL = "53100"  # PostgreSQL's SQLSTATE disk_full (psycopg.errors.DiskFull)
_NO_SPACE = frozenset({errno.ENOSPC, errno.EDQUOT})


def is_storage_full(error: BaseException) -> bool:
    """Does ``error``, or anything that caused it, say the storage is full?"""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if _says_full(current):
            return True
        current = current.__cause__ or current.__context__
    return False


def _says_full(error: BaseException) -> bool:
    if isinstance(error, StorageFull):
        return True
    if isinstance(error, sqlite3.Error):
        code = getattr(error, "sqlite_errorcode", None)
        return code in _SQLITE_FULL or "database or disk is full" in str(error)
    if isinstance(error, OSError):
        return error.errno in _NO_SPACE
    # psycopg's errors carry their SQLSTATE (psycopg is not imported on SQLite).
    return getattr(error, "sqlstate", None) == _DISK_FULL


def storage_full_from(error: BaseException) -> StorageFull | None:
    """The application's error for ``error`` if it says the storage is full."""
    if isinstance(error, StorageFull):
        return error
    return StorageFull(StorageFull.detail) if is_storage_full(error) else None


class StorageFullSeen:
    """When this process's database last refused a write for lack of space, until a
    write succeeds again. A server that is not ready gets no traffic, so the mark
    also fades after a while on its own (``within``): then writes are tried again."""

    def __init__(self) -> None:
        self._at: float | None = None

    def saw(self) -> None:
        self._at = time.monotonic()

    def cleared(self) -> None:
        if self._at is not None:  # a plain read first: every write passes here
            self._at = None

    def within(self, seconds: float) -> bool:
        at = self._at
        return at is not None and time.monotonic() - at < seconds
