"""Rebuilding views from the log, beside the live ones, then putting them in their place.

A rebuild fills fresh tables (``<table>__rebuild``, tracked as ``<view>__rebuild``)
from the first record of the log, in batches, while the live views go on serving
and following. Then, in one transaction serialised with every runner, it applies
the last records, drops the live tables and gives the rebuilt ones their names
and indexes: readers see the old view or the new one, never half of one. A
rebuild killed midway leaves the live views untouched; the next one starts over.

``check`` does the same without the swap, and compares the two builds row by row.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Final

from application.ports import KeyStore
from infrastructure.views.db.base import ViewTables, ViewTx
from infrastructure.views.log import EventLog
from infrastructure.views.log_worker import LogJob, OpenedPages, available, threshold
from infrastructure.views.projection import LIVE, REBUILDING, NetworkViews, chosen
from infrastructure.views.runner import Progress, ViewRunner

# Records per transaction while rebuilding: large batches write each row once.
REBUILD_PAGE: Final = 5000
# ``Rebuild(worker_from=MEASURED)``: the backend's own threshold for the log worker.
MEASURED: Final = -1


@dataclass(frozen=True)
class Difference:
    table: str
    live_rows: int
    rebuilt_rows: int
    differing: int  # rows present in one build and not, or not alike, in the other


class Rebuild:
    def __init__(
        self,
        tables: ViewTables,
        log: EventLog,
        keys: KeyStore,
        names: Sequence[str] | None = None,
        page: int = REBUILD_PAGE,
        worker_from: int | None = MEASURED,
    ) -> None:
        """``worker_from``: the log's length from which its batches are read and
        opened in a worker process (``log_worker``); None: never; by default, where
        it was measured faster (``log_worker.threshold``)."""
        views = chosen(names)
        self._log, self._keys, self._page = log, keys, page
        if worker_from == MEASURED:
            worker_from = threshold(tables.dialect.name)
        self._worker_from = worker_from if available() else None
        self.names = [v.name for v in views]
        self._tables = tables
        self.live = ViewRunner(tables, log, keys, NetworkViews(views, tables.dialect, LIVE))
        self.fresh = ViewRunner(
            tables, log, keys, NetworkViews(views, tables.dialect, REBUILDING), page, bulk=True
        )

    def build(self, progress: Progress | None = None) -> int:
        """Fill the fresh tables from the whole log; how many records they took."""
        with self._tables.write() as tx:
            self.live.views.prepare(tx)
            self.fresh.views.reset(tx)
            head = self._log.head(tx)
        applied = 0
        if self._worker_from is not None and head >= self._worker_from:
            applied = self._build_through_worker(head, progress)
        # The rest (all of it for a short log): what came since, in this process.
        return applied + self.fresh.catch_up(progress=progress)

    def _build_through_worker(self, head: int, progress: Progress | None) -> int:
        """The log up to ``head``, each page read and opened by the worker while this
        process projects and writes the one before, batch by batch as ``catch_up``."""
        fresh = self.fresh.views
        job = LogJob(self._tables, self._log, fresh.topics, 0, head, self._page)
        applied, after = 0, 0
        with _older_objects_left_alone(), OpenedPages(job, fresh, self._keys) as worker:
            for batch in worker.batches():
                applied += self.fresh.apply_opened(batch, after)
                after = batch.reached()
                if progress is not None:
                    progress(after, head)
        return applied

    def swap(self) -> int:
        """Put the fresh tables in the live ones' place; the position they reached."""
        with self._tables.write() as tx:
            position = self._level(tx)
            live, fresh = self.live.views, self.fresh.views
            for b_live, b_fresh in zip(live.bound, fresh.bound, strict=True):
                for table, sql in b_live.tables.items():
                    tx.command(sql.drop())
                    for statement in tx.dialect.rename_table(b_fresh.tables[table].name, sql.name):
                        tx.command(statement)
                    for statement in sql.create_indexes():
                        tx.command(statement)
                live.tracking.put(tx, b_live.tracking, position, b_live.view.shape())
                fresh.tracking.forget(tx, b_fresh.tracking)
        return position

    def compare(self) -> list[Difference]:
        """Bring both builds to the same position, then compare them row by row;
        the fresh tables are dropped afterwards. Empty when they are equal."""
        with self._tables.write() as tx:
            self._level(tx)
            differences = []
            for b_live, b_fresh in zip(self.live.views.bound, self.fresh.views.bound, strict=True):
                for table, sql in b_live.tables.items():
                    ours, theirs = sql.rows(tx), b_fresh.tables[table].rows(tx)
                    if ours != theirs:
                        differing = len(set(ours) ^ set(theirs))
                        differences.append(Difference(sql.name, len(ours), len(theirs), differing))
            self.fresh.views.drop(tx)
        return differences

    def _level(self, tx: ViewTx) -> int:
        """Both builds caught up to the head of the log, inside ``tx``; the head."""
        while True:
            _, fresh_reached, head = self.fresh.step(tx)
            _, live_reached, _ = self.live.step(tx)
            if fresh_reached >= head and live_reached >= head and head >= self.live.head():
                return head


@contextmanager
def _older_objects_left_alone() -> Iterator[None]:
    """The garbage collector leaves the objects this process had before the rebuild
    alone until it ends (``gc.freeze``): decoding the worker's chunks makes objects
    fast enough to set off full collections, and each walked all of them (measured
    on 16,000 records: 16-60 ms decoding, 16-22 ms with them frozen). Nothing is
    changed when the process already froze objects of its own."""
    if gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
