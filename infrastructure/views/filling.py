"""Filling a rebuild's fresh tables with one part of the log (``partitions``), in
the process that calls it: a rebuild in one process (the one part is the whole
log), or one of its workers (``rebuild_workers``).

A batch is read and projected outside any write transaction, its rows signed,
then written in one short transaction serialised with every writer of the views.
On PostgreSQL, with a core to spare, the writes go on in a thread of their own
while the next batch is read and projected: the server loads one batch (its
``COPY``) while this process opens and projects the next (``_writer``). One batch at most is being written at
a time, the batches in log order; a row the next batch changes is taken from the
batch before as it left it (``RowSet`` ``earlier``), not from its table, where
that batch may not be yet.

The fresh views' tracking rows hold the rebuild's token while they are filled,
and each write checks it: a filler left over from a rebuild that ended never
writes into the tables of the next one.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any, TypeVar

from application.ports import KeyStore
from infrastructure.db import EventsTable
from infrastructure.views.db.base import ViewTables, ViewTx
from infrastructure.views.opening import SealedPartOpener
from infrastructure.views.partitions import PartLog
from infrastructure.views.projection import NetworkViews
from infrastructure.views.records import BatchOpener
from infrastructure.views.row_mac import RowMac
from infrastructure.views.rows import Held, RowSet, Signed

T = TypeVar("T")


class Superseded(Exception):
    """Another rebuild reset the fresh tables, or this worker's parent is gone."""


def check_token(tx: ViewTx, views: NetworkViews, token: str) -> None:
    """Raise ``Superseded`` unless every fresh view still holds ``token``."""
    known = views.tracking.positions(tx)
    if any(known.get(name, (0, ""))[1] != token for name in views.names):
        raise Superseded("another rebuild has started on these tables")


@dataclass(frozen=True)
class Filling:
    """Which records to project into which tables, up to where."""

    part: int
    parts: int
    stop: int  # the head of the log when the rebuild began
    token: str  # in the fresh views' tracking rows while this rebuild runs
    page: int  # records of the log read per batch (of every part)


@dataclass(frozen=True)
class Fresh:
    """What a filler works with (its process's)."""

    tables: ViewTables
    events: EventsTable
    keys: KeyStore
    mac: RowMac
    views: NetworkViews  # bound to the fresh tables


def fill(
    part: Filling,
    fresh: Fresh,
    report: Callable[[int], None],
    writing: AbstractContextManager[Any] | None = None,
    alive: Callable[[], None] | None = None,
    ready: Callable[[], None] | None = None,
) -> int:
    """Project part ``part.part`` of the log up to ``part.stop`` into the fresh
    tables; how many records it applied. ``report``: called with the position
    reached once each batch is written; ``writing``: held around each write
    (shared by the workers); ``alive``: called before each batch, raises to stop;
    ``ready``: returns once the fresh tables may be written (called before the
    first write)."""
    tables, views = fresh.tables, fresh.views
    opener = BatchOpener(fresh.keys)
    sealed = SealedPartOpener(fresh.keys)  # a derived field's case key (``decoded``)
    log = PartLog(fresh.events, views.topics, part.part, part.parts)

    def write(signed: list[Signed]) -> None:
        if ready is not None:
            ready()
        with writing or nullcontext(), tables.write(bulk=True) as tx:
            check_token(tx, views, part.token)
            RowSet.write(tx, signed)

    after, applied = 0, 0
    earlier: Held | None = None
    written: tuple[Future[None], int] | None = None  # the batch being written, its end
    with _collector_spared(), _writer(tables, part.parts) as writer:
        while after < part.stop:
            if alive is not None:
                alive()
            with tables.read(snapshot=False, scan=True) as tx:
                batch = log.records(tx, after, part.stop, part.page)
                rows = RowSet(tx, views.tables, fresh.mac, earlier)
                applied += views.apply_part(rows, opener, sealed, batch, part.part, part.parts)
            earlier = rows.held()
            signed = rows.signed()  # before the lock: the workers sign at once
            if written is not None:
                _wait(written, report)  # the batch before is in (or its error raised)
            after = batch[-1].position if len(batch) == part.page else part.stop
            written = (writer.submit(write, signed), after)
        if written is not None:
            _wait(written, report)
    return applied


def _writer(tables: ViewTables, parts: int) -> Executor:
    """Where the batches are written: in a thread of their own where the database
    does the work in another process and has a core to do it on (PostgreSQL, a
    core for each filling process and for its server process: the server loads
    one batch while this process projects the next); else in this thread. On
    SQLite the database's work is this process's, and a thread only contends for
    Python's lock with the projecting (measured: 100 ms more CPU and no time saved
    in 18,000 records); with no core to spare, the thread's switches only cost
    (two workers on 2 cores: 20 to 30 ms more CPU a worker, no time saved)."""
    if tables.dialect.name == "sqlite" or (os.cpu_count() or 1) < 2 * parts:
        return _Inline()
    return ThreadPoolExecutor(1, thread_name_prefix="rete-views-fill")


class _Inline(Executor):
    """Runs what is submitted at once, in the caller's thread."""

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        done: Future[T] = Future()
        try:
            done.set_result(fn(*args, **kwargs))
        except BaseException as e:
            done.set_exception(e)
        return done


@contextmanager
def _collector_spared() -> Iterator[None]:
    """What the process held before the filling is out of the cyclic collector's
    way meanwhile (as ``rebuild_workers`` does in a worker): a batch makes tens of
    thousands of dicts and tuples, so collections come often, and each one of the
    oldest generation walked every object of the process (measured: a quarter of
    the projecting and signing, in a process holding 120,000 objects). Nothing is
    lost: frozen objects are collected again once unfrozen."""
    spared = gc.get_freeze_count() == 0
    if spared:
        gc.freeze()
    try:
        yield
    finally:
        if spared:
            gc.unfreeze()


def _wait(written: tuple[Future[None], int], report: Callable[[int], None]) -> None:
    future, reached = written
    future.result()
    report(reached)
