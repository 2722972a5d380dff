"""The views assembled beside an event store: what the API and ``rete views`` open.

How they follow the log:
* SQLite: in-process. ``queries`` catches up before every read (one cheap query
  when nothing is new), so a client sees its own write on its next read; calling
  ``catch_up`` after each save as well keeps that work off the reads.
* PostgreSQL: ``rete views run`` (``follow.Follower``) follows the log in its own
  process, woken by the event store's NOTIFY; API workers only read. Any process
  may still call ``catch_up`` (runners serialise on an advisory lock), for
  instance to read its own write at once.
"""

from __future__ import annotations

from collections.abc import Sequence

from eventsourcing.persistence import ApplicationRecorder

from application.integrity import IntegrityWatch
from application.ports import KeyStore
from infrastructure.crypto.view_mac import view_mac_key
from infrastructure.db import EventsTable, database_of, events_table_name
from infrastructure.db.closing import Closing
from infrastructure.settings import Settings
from infrastructure.views.db import ViewTables
from infrastructure.views.log import EventLog
from infrastructure.views.opening import SealedPartOpener
from infrastructure.views.projection import ALL_VIEWS, NetworkViews
from infrastructure.views.reader import ViewQueries
from infrastructure.views.rebuild import Difference, Rebuild
from infrastructure.views.rebuild_workers import WorkerSetup
from infrastructure.views.row_mac import RowMac
from infrastructure.views.runner import Progress, ViewRunner


class Views(Closing):
    def __init__(
        self,
        tables: ViewTables,
        recorder: ApplicationRecorder,
        keys: KeyStore,
        *,
        catch_up_before_reads: bool,
        settings: Settings | None = None,
    ) -> None:
        """``settings``: what a partitioned rebuild's worker processes open the
        database and the key store from (without them, rebuilds run in this process)."""
        self.tables = tables
        self.recorder = recorder
        self.keys = keys
        events = events_table_name(recorder)
        self.log = EventLog(EventsTable(tables.dialect, events))
        # How a partitioned rebuild's workers open what this process has open.
        self.workers = None if settings is None else WorkerSetup(settings, events)
        # Derived once, before any transaction on the views (the first use writes its key).
        self.mac = RowMac(view_mac_key(keys))
        self.runner = ViewRunner(
            tables, self.log, keys, NetworkViews(ALL_VIEWS, tables.dialect), mac=self.mac
        )
        with tables.write() as tx:
            self.fresh = self.runner.views.prepare(tx)  # views started afresh
        refresh = self.runner.catch_up if catch_up_before_reads else None
        # application.view_ports.ViewReader
        self.queries = ViewQueries(tables, self.mac, refresh)
        self.parts = SealedPartOpener(keys)  # application.view_ports.PersonalParts

    def catch_up(self, limit: int | None = None, progress: Progress | None = None) -> int:
        return self.runner.catch_up(limit, progress)

    def rebuild(
        self,
        names: Sequence[str] | None = None,
        progress: Progress | None = None,
        jobs: int = 1,
    ) -> int:
        """Rebuild the views named (all by default) from the log, beside the live
        ones, in ``jobs`` processes, then swap them in; the position reached."""
        job = self._rebuild(names)
        job.build(progress, jobs)
        return job.swap()

    def check(
        self,
        names: Sequence[str] | None = None,
        progress: Progress | None = None,
        jobs: int = 1,
    ) -> list[Difference]:
        """Build the views named from the log beside the live ones and compare them
        row by row (nothing is swapped); the tables that differ."""
        job = self._rebuild(names)
        job.build(progress, jobs)
        return job.compare()

    def _rebuild(self, names: Sequence[str] | None) -> Rebuild:
        return Rebuild(self.tables, self.log, self.keys, names, mac=self.mac, workers=self.workers)

    def report_alarms_to(self, integrity: IntegrityWatch) -> None:
        """Where a row found altered raises its alarm: the application's watch."""
        self.queries.integrity = integrity

    def close(self) -> None:
        self.tables.close()


def open_views(
    settings: Settings,
    recorder: ApplicationRecorder,
    keys: KeyStore,
    *,
    catch_up_before_reads: bool | None = None,
) -> Views:
    """The views in the events' database (created if missing), on the pool the
    event store's ``recorder`` was built on. By default reads catch up first on
    SQLite and not on PostgreSQL (see the module's docstring)."""
    before_reads = (
        not settings.is_postgres if catch_up_before_reads is None else catch_up_before_reads
    )
    tables = ViewTables(database_of(recorder))
    return Views(tables, recorder, keys, catch_up_before_reads=before_reads, settings=settings)
