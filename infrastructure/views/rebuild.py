"""Rebuilding views from the log, beside the live ones, then putting them in their place.

A rebuild fills fresh tables (``<table>__rebuild``, tracked as ``<view>__rebuild``)
from the first record of the log, in batches, while the live views go on serving
and following. Then, in one transaction serialised with every runner, it applies
the last records, drops the live tables and gives the rebuilt ones their names
and indexes: readers see the old view or the new one, never half of one. A
rebuild killed midway leaves the live views untouched; the next one starts over.
Of two rebuilds of the same views, the one started later takes the fresh tables
(its reset empties them): the earlier one fails, at its next batch or at its
swap, having put nothing in place.

``check`` does the same without the swap, and compares the two builds row by row.

The fresh tables are filled up to the head as it stood when the rebuild began
(``filling``: each batch written while the next is projected), by this process,
or with ``jobs`` above 1 by that many processes (``rebuild_workers``), each
projecting its part of the log (``partitions``); the swap then applies the rest,
as above. Until the filling has finished, the fresh views' positions stay at 0
(their tracking rows hold the rebuild's token): a rebuild that fails or is
killed midway swaps nothing, and the next one starts over.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Final

from application.ports import KeyStore
from infrastructure.crypto.view_mac import view_mac_key
from infrastructure.views.db.base import ViewTables, ViewTx
from infrastructure.views.filling import Filling, Fresh, fill
from infrastructure.views.log import EventLog
from infrastructure.views.projection import LIVE, REBUILDING, NetworkViews, chosen
from infrastructure.views.rebuild_workers import (
    Plan,
    RebuildFailed,
    Superseded,
    WorkerSetup,
    check_token,
    run_workers,
)
from infrastructure.views.row_mac import RowMac
from infrastructure.views.runner import Progress, ViewRunner

# Records per transaction while rebuilding: large batches write each row once.
REBUILD_PAGE: Final = 5000

# Indexes of the fresh tables built at once before the swap (PostgreSQL).
_INDEX_BUILDERS: Final = 2


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
        mac: RowMac | None = None,
        workers: WorkerSetup | None = None,
    ) -> None:
        """``workers``: how worker processes open what this one has open; without
        it the rebuild runs in this process whatever ``jobs`` says."""
        views = chosen(names)
        mac = mac if mac is not None else RowMac(view_mac_key(keys))
        self.names = [v.name for v in views]
        self._tables = tables
        self._log = log
        self._page = page
        self._workers = workers
        self._keys = keys
        self._token: str | None = None  # this rebuild's, in the fresh views' tracking
        self.live = ViewRunner(
            tables, log, keys, NetworkViews(views, tables.dialect, LIVE), mac=mac
        )
        self.fresh = ViewRunner(
            tables,
            log,
            keys,
            NetworkViews(views, tables.dialect, REBUILDING),
            page,
            bulk=True,
            mac=mac,
        )

    def build(self, progress: Progress | None = None, jobs: int = 1) -> int:
        """Fill the fresh tables from the whole log, in ``jobs`` processes; how many
        records they took."""
        fresh = self.fresh.views
        token = self._token = secrets.token_hex(16)

        def prepare() -> None:
            """The fresh tables made empty, their tracking rows holding ``token``."""
            with self._tables.write() as tx:
                self.live.views.prepare(tx)
                fresh.reset(tx)
                for b in fresh.bound:
                    fresh.tracking.put(tx, b.tracking, 0, token)

        # The records up to here are filled in; the swap applies the rest.
        stop = self.live.head()
        if stop == 0:
            prepare()
            applied = 0
        elif jobs <= 1 or self._workers is None:
            prepare()
            applied = fill(
                Filling(0, 1, stop, token, self._page),
                Fresh(self._tables, self._log.events, self._keys, self.fresh.mac, fresh),
                lambda reached: progress(reached, stop) if progress is not None else None,
            )
        else:
            plan = Plan(
                self._workers, tuple(self.names), jobs, stop, token, self._page, os.getpid()
            )
            # The workers start while the tables are made (``run_workers``); not on
            # SQLite, where a worker's start writes (its key store's) and would wait
            # for the one writer, polling.
            if self._tables.dialect.name == "sqlite":
                prepare()
                applied = run_workers(plan, progress)
            else:
                applied = run_workers(plan, progress, prepare)
        with self._tables.write() as tx:
            try:
                check_token(tx, fresh, token)
            except Superseded as e:
                raise RebuildFailed(str(e)) from None
            # Every record up to ``stop`` is in: from here the fresh views follow
            # the log as one (``swap`` and ``compare`` apply the rest). They keep
            # the token: another rebuild started meanwhile replaces it, and this
            # one's swap then refuses to put its tables (now the other's) in place.
            for b in fresh.bound:
                fresh.tracking.put(tx, b.tracking, stop, token)
        return applied

    def _still_ours(self, tx: ViewTx) -> None:
        """Raise ``RebuildFailed`` unless the fresh tables are still the ones this
        rebuild built: another rebuild of the same views started since resets them
        and fills them as its own, and then puts them in place itself."""
        if self._token is None:
            raise RebuildFailed("nothing was built: call build() first")
        try:
            check_token(tx, self.fresh.views, self._token)
        except Superseded:
            raise RebuildFailed(
                "another rebuild of these views started after this one: it puts its "
                "own tables in place; these were not"
            ) from None

    def swap(self) -> int:
        """Put the fresh tables in the live ones' place; the position they reached."""
        # PostgreSQL: the fresh tables' indexes are built before the swap, two at a
        # time, and only renamed in it (SQLite, which cannot rename an index, builds
        # them in the swap under their live names).
        early = self._tables.dialect.name != "sqlite"
        if early:
            with self._tables.read() as tx:
                self._still_ours(tx)  # before the indexes: they would be the other's
            self._index_fresh()
        with self._tables.write() as tx:
            self._still_ours(tx)  # decides: under the views' lock, which a reset takes
            # The live tables are dropped: they need not follow (a row altered in
            # them must not stop the rebuild that repairs them).
            position = self._level(tx, live=False)
            live, fresh = self.live.views, self.fresh.views
            statements = []  # in one round trip (``Tx.commands``)
            for b_live, b_fresh in zip(live.bound, fresh.bound, strict=True):
                for table, sql in b_live.tables.items():
                    rebuilt = b_fresh.tables[table]
                    statements.append(sql.drop())
                    statements += tx.dialect.rename_table(rebuilt.name, sql.name)
                    if early:
                        statements += rebuilt.rename_indexes(sql)
                    else:
                        statements += sql.create_indexes()
            tx.commands(statements)
            for b_live, b_fresh in zip(live.bound, fresh.bound, strict=True):
                live.tracking.put(tx, b_live.tracking, position, b_live.view.shape())
                fresh.tracking.forget(tx, b_fresh.tracking)
        return position

    def _index_fresh(self) -> None:
        """The filled fresh tables' indexes, under their fresh names, built two at a
        time (two server processes), each in a transaction of its own, outside the
        views' lock: the swap that follows holds it the shorter. A rebuild stopped
        before its swap leaves them to the next one's reset, which drops the tables."""
        statements = [
            statement
            for b in self.fresh.views.bound
            for sql in b.tables.values()
            for statement in sql.create_indexes()
        ]

        def build(statement: str) -> None:
            with self._tables.aside() as tx:
                tx.command(statement)

        with ThreadPoolExecutor(_INDEX_BUILDERS, thread_name_prefix="rete-views-index") as pool:
            list(pool.map(build, statements))

    def compare(self) -> list[Difference]:
        """Bring both builds to the same position, then compare them row by row;
        the fresh tables are dropped afterwards. Empty when they are equal."""
        with self._tables.write() as tx:
            self._still_ours(tx)  # the other rebuild's tables are neither read nor dropped
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

    def _level(self, tx: ViewTx, live: bool = True) -> int:
        """Both builds (``live=False``: the fresh one) caught up to the head of the
        log, inside ``tx``; the head."""
        while True:
            _, fresh_reached, head = self.fresh.step(tx)
            live_reached = self.live.step(tx)[1] if live else head
            if fresh_reached >= head and live_reached >= head and head >= self.live.head():
                return head
