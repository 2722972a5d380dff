"""Readiness: can the disk take a write?

A full disk refuses every write (``StorageFull``, answered 507 ``storage-full``),
and every read that records who read. A server in that state must say so where
operators and load balancers look: ``/health`` (and ``/health/ready``) fail while
this check does. It writes, syncs and removes a small file in each directory the
server writes to: ``var/`` (keys, secrets) and, on SQLite, the database's own
directory (the database, its WAL and shared-memory files). Once space is freed
the next check passes: nothing to reset, no restart.

The database's own storage may fill where no probe of ours reaches: PostgreSQL's
disk is the database server's, and an SQLite database may be capped. So the check
also fails while the database's last write was refused for lack of space
(``infrastructure.db.storage_full.StorageFullSeen``): until a write succeeds, or
for ``HOLD_SECONDS`` at most, after which writes are let through to try again.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from infrastructure.db.storage_full import StorageFullSeen
from infrastructure.logging import get_logger
from infrastructure.settings import Settings

log = get_logger(__name__)

# As much as a small write needs: one page of SQLite's, one block of most filesystems.
PROBE_BYTES = 4096
# How long a write refused for lack of space keeps the server not ready, at most.
HOLD_SECONDS = 10.0


class DiskCheck:
    def __init__(
        self,
        directories: Iterable[Path],
        database: StorageFullSeen | None = None,
        hold_seconds: float = HOLD_SECONDS,
    ) -> None:
        self._directories = tuple(dict.fromkeys(Path(d) for d in directories))
        self._database = database
        self._hold = hold_seconds

    @classmethod
    def of(cls, settings: Settings, database: StorageFullSeen | None = None) -> DiskCheck:
        """The directories this server writes to, by its settings, and what its
        database last said of its storage."""
        directories = [settings.var_dir]
        if settings.database_url.startswith("sqlite:///"):
            path = Path(settings.database_url.removeprefix("sqlite:///").split("?")[0])
            directories.append(path.parent)
        return cls(directories, database)

    def writable(self) -> bool:
        """True when every directory that exists takes a small synced write, and the
        database did not just refuse one for lack of space."""
        return self.problem() is None

    def problem(self) -> str | None:
        """Why the disk cannot take a write (logged too), or None when it can."""
        if self._database is not None and self._database.within(self._hold):
            refused = "the database refused a write for lack of space"
            log.warning("disk cannot take a write", reason=refused)
            return refused
        for directory in self._directories:
            if not directory.is_dir():
                continue  # nothing is written there (e.g. no var/ beside PostgreSQL)
            reason = _probe(directory)
            if reason is not None:
                log.warning("disk cannot take a write", directory=str(directory), reason=reason)
                return reason
        return None


def _probe(directory: Path) -> str | None:
    try:
        fd, name = tempfile.mkstemp(prefix=".rete-disk-probe-", dir=directory)
    except OSError as e:
        return _reason(e)
    try:
        try:
            if os.write(fd, b"\0" * PROBE_BYTES) < PROBE_BYTES:
                return "no space left on device"
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as e:
        return _reason(e)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(name)
    return None


def _reason(error: OSError) -> str:
    return os.strerror(error.errno) if error.errno else type(error).__name__
