"""Filling a rebuild's fresh tables with one part of the log (``partitions``), in
the process that calls it: a rebuild in one process (the one part is the whole
log), or one of its workers (``rebuild_workers``).

A batch is read and projected outside any write transaction, its rows signed,
then written in one short transaction serialised with every writer of the views.
The writes go on in a thread of their own while the next batch is read and
projected: on PostgreSQL the server loads one batch (its ``COPY``) while this
process opens and projects the next, and on SQLite the database's own work is
done outside Python's lock. One batch at most is being written at a time, the
batches in log order; a row the next batch changes is taken from the batch
before as it left it (``RowSet`` ``earlier``), not from its table, where that
batch may not be yet.

The fresh views' tracking rows hold the rebuild's token while they are filled,
and each write checks it: a filler left over from a rebuild that ended never
writes into the tables of the next one.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any

from application.ports import KeyStore
from infrastructure.db import EventsTable
from infrastructure.views.db.base import ViewTables, ViewTx
from infrastructure.views.opening import SealedPartOpener
from infrastructure.views.partitions import PartLog
from infrastructure.views.projection import NetworkViews
from infrastructure.views.records import BatchOpener
from infrastructure.views.row_mac import RowMac
from infrastructure.views.rows import Held, RowSet, Signed


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
) -> int:
    """Project part ``part.part`` of the log up to ``part.stop`` into the fresh
    tables; how many records it applied. ``report``: called with the position
    reached once each batch is written; ``writing``: held around each write
    (shared by the workers); ``alive``: called before each batch, raises to stop."""
    tables, views = fresh.tables, fresh.views
    opener = BatchOpener(fresh.keys)
    sealed = SealedPartOpener(fresh.keys)  # a derived field's case key (``decoded``)
    log = PartLog(fresh.events, views.topics, part.part, part.parts)

    def write(signed: list[Signed]) -> None:
        with writing or nullcontext(), tables.write(bulk=True) as tx:
            check_token(tx, views, part.token)
            RowSet.write(tx, signed)

    after, applied = 0, 0
    earlier: Held | None = None
    written: tuple[Future[None], int] | None = None  # the batch being written, its end
    with ThreadPoolExecutor(1, thread_name_prefix="rete-views-fill") as writer:
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


def _wait(written: tuple[Future[None], int], report: Callable[[int], None]) -> None:
    future, reached = written
    future.result()
    report(reached)
