"""Liveness and readiness: does the event store's database answer, and can the
process take a write now?

``Readiness`` is the list of checks ``GET /health/ready`` runs, in order; each is
a ``ReadinessCheck`` (a problem code, a detail, a test). The composition root
(``bootstrap.build_rete``) puts the database's there; another (the disk's) is
appended beside it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from infrastructure.db import database_of
from infrastructure.logging import get_logger
from infrastructure.store import ReteEventStore

log = get_logger(__name__)


class DatabaseCheck:
    def __init__(self, store: object) -> None:
        self._store = store

    def reachable(self) -> bool:
        """True when the database answers; a store without one (a test double) always does."""
        if not isinstance(self._store, ReteEventStore):
            return True
        try:
            # Through the one database layer, as `writable` does: the storage
            # library's own read retries for about 7 s before it gives up.
            with database_of(self._store.recorder).read() as tx:
                tx.query("SELECT 1")
        except Exception as e:
            _warn("database unreachable", e)
            return False
        return True

    def writable(self) -> bool:
        """True when the database takes a write transaction now (its write lock on
        SQLite, a transaction id on PostgreSQL), within the request's budget."""
        if not isinstance(self._store, ReteEventStore):
            return True
        try:
            database = database_of(self._store.recorder)
            with database.write() as tx:
                tx.query(_TAKE_A_WRITE[database.dialect.name])
        except Exception as e:
            _warn("database takes no write", e)
            return False
        return True


# A statement that needs a writable transaction and changes nothing.
_TAKE_A_WRITE = {"postgres": "SELECT txid_current()", "sqlite": "SELECT 1"}


def _warn(what: str, e: Exception) -> None:
    log.warning(what, exception_type=f"{type(e).__module__}.{type(e).__qualname__}")


@dataclass(frozen=True)
class ReadinessCheck:
    code: str  # the problem type answered while it fails (api/problems.py documents it)
    detail: str
    passes: Callable[[], bool]


class Readiness:
    """The checks a process must pass to take writes; the first failing one is
    what ``GET /health/ready`` answers."""

    def __init__(self, checks: list[ReadinessCheck] | None = None) -> None:
        self.checks = list(checks or [])

    def append(self, check: ReadinessCheck) -> None:
        self.checks.append(check)

    def __call__(self) -> tuple[str, str] | None:
        for check in self.checks:
            if not check.passes():
                return check.code, check.detail
        return None


def database_readiness(store: object) -> ReadinessCheck:
    return ReadinessCheck(
        "database-unreachable",
        "the database does not take a write at the moment",
        DatabaseCheck(store).writable,
    )
