"""The runner: pulls the log from the views' tracked positions and applies it.

One batch is one transaction: the rows it changes and the views' new positions
commit together, or not at all. A process killed at any point (even SIGKILL)
leaves the views exactly as after the last committed batch, and the next
``catch_up``, in any process, resumes right after it: no event is skipped, none
is applied twice (a row inserted twice would also fail its batch).

Order: notifications are read in id order, and ids are committed in that order
(SQLite has one writer; PostgreSQL's recorder locks the events table for every
insert). The batch transaction is serialised with every other writer of the
views (SQLite ``BEGIN IMMEDIATE``, PostgreSQL an advisory lock) and reads the
positions inside it, so runners in several processes never apply a record twice.

The log is read on the views' own connection (``log.EventLog``), inside the batch
transaction: the head and the records come from the same snapshot as the
positions. An idle catch-up costs one ``MAX`` on the log's position index,
compared with what this runner last saw, in the same statement
(``EventLog.standing``) that, past it, also says whether there is anything to do:
the views' lowest position and whether a record some view reads lies beyond it.
When another runner (``rete views run``, another worker) already applied
the records, or only records no view reads came (reference numbers, the access
log: the positions move past them with the next batch), no write transaction is
opened; and a catch-up with work costs that statement plus its batch: the
batch's opening, its positions and the records from where the views stood (one
pipeline), the rows it changes read back, then its writes, its new positions and
its commit (one pipeline). After this process's own append (the event store
tells the runner its position, ``appended``), the next catch-up knows there is
work and goes straight to its batch, which reads the log to its end: no standing
statement first (unless the last such catch-up found another runner had done it).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Final

from application.ports import KeyStore
from infrastructure.crypto.view_mac import view_mac_key
from infrastructure.views.db.base import ViewTables, ViewTx
from infrastructure.views.log import EventLog
from infrastructure.views.projection import NetworkViews
from infrastructure.views.row_mac import RowMac

# Records per transaction when following: small enough that the event store's
# writers (SQLite: one write lock) barely wait.
PAGE: Final = 500
# A position past any the log will reach: a batch that reads the log to its end.
_NO_END: Final = 2**62

Progress = Callable[[int, int], None]
"""Called after each batch with (position reached, head of the log)."""


class ViewRunner:
    """Thread-safe; any number of runners may follow one database."""

    def __init__(
        self,
        tables: ViewTables,
        log: EventLog,
        keys: KeyStore,
        views: NetworkViews,
        page: int = PAGE,
        bulk: bool = False,
        mac: RowMac | None = None,
    ) -> None:
        """``mac``: what signs the rows (derived from ``keys`` when not given, which
        must then happen outside any transaction on the views)."""
        self._tables = tables
        self._log = log
        self._keys = keys
        self.views = views
        self._page = page
        self._bulk = bulk  # a rebuild's side tables (``ViewTables.write``)
        self.mac = mac if mac is not None else RowMac(view_mac_key(keys))
        self._lock = threading.Lock()
        # Every relevant record up to here is applied to every view (-1: unknown).
        self._seen = -1
        # The lowest of the views' positions as last read (None: unknown).
        self._reached: int | None = None
        # The last position this process appended (``appended``), and whether a
        # catch-up that went straight to its batch for it found the work done by
        # another runner (then they look at where things stand first again).
        self._appended = -1
        self._beaten = False

    def head(self) -> int:
        """The position of the last record in the log."""
        with self._tables.read(snapshot=False) as tx:
            return self._log.head(tx)

    def appended(self, position: int) -> None:
        """This process committed an append whose last record is at ``position``
        (the event store says so after each save). Positions are committed in
        order, so every record up to it is in the log: the next catch-up goes
        straight to its batch, up to there, without first reading where the log and
        the views stand."""
        if position > self._appended:
            self._appended = position

    def catch_up(self, limit: int | None = None, progress: Progress | None = None) -> int:
        """Apply every record written since the views' positions; returns how many
        records changed a view. ``limit`` bounds the work of one call."""
        with self._lock:
            own = self._appended
            if own > self._seen and not self._beaten and limit is None and progress is None:
                # This process wrote past what this runner saw: there is work (its
                # own write), unless another runner did it meanwhile.
                return self._catch_up_to(own)
            return self._catch_up(limit, progress)

    def _catch_up_to(self, own: int) -> int:
        """Every record committed, ``own`` among them, applied: batches read the log
        up to its end rather than up to a head read first."""
        applied, full = 0, True
        while full:
            with self._tables.write(self._bulk) as tx:
                count, reached_now, full = self._step_past(tx, own, self._reached)
            self._seen = self._reached = reached_now
            applied += count
        # All done by another runner (``rete views run``, another worker): look
        # where things stand first again, until a catch-up finds work of its own.
        self._beaten = applied == 0
        return applied

    def _step_past(self, tx: ViewTx, own: int, start: int | None) -> tuple[int, int, bool]:
        """``step`` without a head: (records applied, position reached, whether the
        batch was full). Its records are all those committed when it reads them (no
        upper bound), so its read sees every record written before the catch-up
        began, this process's own append at ``own`` among them. Positions are
        committed in order (SQLite has one writer; PostgreSQL's recorder locks the
        events table for every insert), so what it reads is a prefix of the log: a
        batch that is not full has read every record some view reads up to
        ``own``, and the positions move past ``own`` too."""
        topics = self.views.topics
        if start is not None:
            self._log.ahead(tx, start, _NO_END, self._page, topics)
        positions = self.views.positions(tx)
        start = min(positions.values())
        batch = self._log.records(tx, start, _NO_END, self._page, topics)
        full = len(batch) == self._page
        reached = batch[-1].position if batch else start
        if not full:
            reached = max(reached, own)
        if reached <= start:
            return 0, start, False
        applied = self.views.apply(tx, self._keys, batch, positions, self.mac) if batch else 0
        self.views.advance(tx, reached)
        return applied, reached, full

    def _catch_up(self, limit: int | None, progress: Progress | None) -> int:
        views = self.views
        with self._tables.read(snapshot=False) as tx:
            # One statement: idle, the common case before every read, it reads
            # the head alone (as cheap as a statement gets); past what this
            # runner saw, also where the views stand.
            head, reached, pending = self._log.standing(
                tx, views.tracking.qualified, views.names, self._seen, views.topics
            )
        if head <= self._seen:
            return 0
        self._reached = reached
        if reached is not None and (reached >= head or not pending):
            # Nothing new, or another runner (``rete views run``, another worker)
            # applied it, or only records no view reads came: those wait for the
            # next batch to move the positions past them.
            self._seen = max(self._seen, head)
            return 0
        applied, start = 0, reached
        while limit is None or applied < limit:
            with self._tables.write(self._bulk) as tx:
                count, reached_now, _ = self.step(tx, head, start)
            self._seen = self._reached = start = reached_now
            applied += count
            if progress is not None:
                progress(reached_now, head)
            if reached_now >= head:
                break
        if applied:
            self._beaten = False
        return applied

    def step(
        self, tx: ViewTx, stop: int | None = None, start: int | None = None
    ) -> tuple[int, int, int]:
        """One batch inside ``tx`` (a write transaction): (records applied, position
        reached, head of the log when it started). ``stop``: the head as the caller
        read it just before (records are committed in position order, so none can
        still appear below it); read here when not given. ``start``: where the
        views most likely stand (as read before the transaction): the records from
        there go with the positions, in one round trip; the positions read under
        the lock decide, and the records are read again if another runner moved
        them meanwhile."""
        if start is not None and stop is not None and start < stop:
            self._log.ahead(tx, start, stop, self._page, self.views.topics)
        positions = self.views.positions(tx)
        start = min(positions.values())
        head = self._log.head(tx) if stop is None else stop
        if start >= head:
            return 0, start, head
        batch = self._log.records(tx, start, head, self._page, self.views.topics)
        reached = batch[-1].position if len(batch) == self._page else head
        applied = self.views.apply(tx, self._keys, batch, positions, self.mac)
        self.views.advance(tx, reached)
        return applied, reached, head
