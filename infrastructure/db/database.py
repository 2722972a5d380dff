"""``Database``: the one pool of a process, shared by the event store and every
table beside it (the key store's, the views', the ledger's).

The pool is the eventsourcing library's own (its ``SQLiteDatastore`` or
``PostgresDatastore``): the event store's recorder is built on it, and the other
tables borrow its connections. Its size is ``RETE_DATABASE_POOL_SIZE``.

A thread already inside a read or write of this database that asks for another
read, or inside a write that asks for another write, joins it on the same
connection (a key read while the views project, for instance) rather than taking
a second one; and the event store's own calls take theirs outside these
transactions (the ledger's follower reads the log on its batch's connection). So
a thread holds one connection of the pool at a time, and a full pool makes
threads wait, not deadlock, whatever its size.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any, Final, Literal
from weakref import WeakValueDictionary

from infrastructure.db.dialect import Dialect
from infrastructure.db.storage_full import StorageFullSeen, storage_full_from
from infrastructure.db.tx import Tx

Durability = Literal["full", "ahead", "derived", "bulk"]
"""How a write's commit reaches the disk. ``full``: before the commit returns.
``derived``: rows rebuildable from the log, kept with their position in the same
transaction (the views): neither waits for the disk at commit (SQLite skips the
sync, its WAL staying consistent; PostgreSQL commits asynchronously): a crash of
the machine loses the last batches whole, rows and position together, and the
runner applies them again from the log, whose own writes are ``full``. (A catch-up
inside a request then costs no wait for the disk.) ``bulk``: a batch a crash may
lose whole, the work starting over (a rebuild's side tables): neither waits.
``ahead``: rows that only later ``full`` commits on this database rely on (a new
data key, before the records sealed with it): no wait for the disk either. Both
backends write their log in commit order, and a commit that waits for the disk
makes every commit before it durable too (SQLite syncs the whole WAL file, and
checkpoints still sync under ``NORMAL``; PostgreSQL flushes its WAL up to the
commit's position), so whatever relies on such a row is durable only with it; a
crash before then loses the row with nothing relying on it yet. A new case made
one more synced commit than a plain application's (its key)."""

# Advisory lock namespace ("RETE" as an int4); the second key is hashtext(name).
LOCK_NAMESPACE: Final = 0x52455445

# Lock names are spread over this many process-local locks (see ``Database.write``).
_STRIPES: Final = 64


class Database(ABC):
    """One process's connections to the events' database."""

    dialect: Dialect
    datastore: Any  # the eventsourcing library's datastore: the recorder's pool
    url = ""  # the database URL it was opened on (another process may open it too)

    def __init__(self) -> None:
        self._local = threading.local()
        # A writer waits here before taking a connection, so that threads of this
        # process queued for the same lock do not each hold a connection meanwhile.
        self._stripes = [threading.Lock() for _ in range(_STRIPES)]
        _REGISTRY[id(self.datastore)] = self
        self.storage_full = StorageFullSeen()  # for readiness (``disk_check``)

    @property
    @abstractmethod
    def pool_size(self) -> int:
        """How many connections the pool holds at most."""

    @contextmanager
    def read(self, snapshot: bool = False, *, scan: bool = False) -> Iterator[Tx]:
        """Statements on one connection. ``snapshot``: in one read-only snapshot
        (every query sees the same state); otherwise each sees the latest commit.
        ``scan``: the planner told to read by index in key order (the ledger's range
        scans of tables that may not have been analysed yet)."""
        local = self._local
        joined: Tx | None = getattr(local, "tx", None)
        if joined is not None:
            yield joined
            return
        # Inline rather than nested context managers: an idle catch-up of the views
        # is one read, before every API read.
        with self._read(snapshot, scan) as tx:
            local.tx, local.writing = tx, False
            try:
                yield tx
            finally:
                local.tx = None

    @contextmanager
    def write(
        self,
        lock: str | None = None,
        *,
        durability: Durability = "full",
        scan: bool = False,
        scrub: bool = False,
    ) -> Iterator[Tx]:
        """One transaction. With ``lock``, serialised with every other writer of that
        name, in any process (on SQLite every write transaction is serialised
        anyway). ``scrub``: deleted rows are overwritten, where the backend can."""
        joined = self._current()
        if joined is not None and self._local.writing:
            if lock is not None:
                self._join_lock(joined, lock)
            yield joined
            return
        stripe = self._stripes[hash(lock) % _STRIPES] if lock is not None else nullcontext()
        try:
            with (
                stripe,
                self._write(lock, durability, scan, scrub) as tx,
                self._entered(tx, writing=True),
            ):
                yield tx
        except Exception as e:
            # A full disk is the application's ``StorageFull``, not a driver's error.
            full = storage_full_from(e)
            if full is None:
                raise
            self.storage_full.saw()
            if full is e:
                raise
            raise full from e
        self.storage_full.cleared()

    @abstractmethod
    def _read(self, snapshot: bool, scan: bool) -> AbstractContextManager[Tx]: ...

    @abstractmethod
    def _write(
        self, lock: str | None, durability: Durability, scan: bool, scrub: bool
    ) -> AbstractContextManager[Tx]: ...

    @abstractmethod
    def _join_lock(self, tx: Tx, lock: str) -> None:
        """Take ``lock`` inside a transaction already open."""

    @abstractmethod
    def scrub_log(self) -> bool | None:
        """Fold what the write-ahead log keeps of deleted rows back into the database
        and truncate it, where the backend allows it, without waiting for readers:
        True when the log is now empty, False when a reader kept part of it alive
        (try again later), None on a backend whose log cannot be folded from here."""

    def close(self) -> None:
        self.datastore.close()

    def _current(self) -> Tx | None:
        tx: Tx | None = getattr(self._local, "tx", None)
        return tx

    @contextmanager
    def _entered(self, tx: Tx, *, writing: bool) -> Iterator[None]:
        outer = (getattr(self._local, "tx", None), getattr(self._local, "writing", False))
        self._local.tx, self._local.writing = tx, writing
        try:
            yield
        finally:
            self._local.tx, self._local.writing = outer


# Keyed by the datastore's id: the database holds its datastore, so an entry lives
# exactly as long as the database does.
_REGISTRY: WeakValueDictionary[int, Database] = WeakValueDictionary()


def database_of(recorder: object) -> Database:
    """The ``Database`` whose pool ``recorder`` (an event store's) was built on."""
    found = _REGISTRY.get(id(getattr(recorder, "datastore", None)))
    if found is None:
        raise TypeError("this recorder was not built on a Rete database (see infrastructure.db)")
    return found
