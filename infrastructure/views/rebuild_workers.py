"""A rebuild's fresh tables filled by several processes at once (``rete views
rebuild --jobs N``).

Each worker process opens the database and the key store as any ``rete`` command
does (from the settings: its own connections, the KEK loaded as configured), reads
the log up to the head the parent fixed, and projects the records of its part
(``partitions``): the others are not opened. It reads and projects a page of the
log outside any write transaction, then writes that page's rows in one short
transaction serialised with every writer of the views (``ViewTables.write``), so
that on SQLite, which has one writer, the workers' projections still overlap.

Crash safety, as for a rebuild in one process: the live views are not touched
until the parent swaps the fresh tables in, after every worker has finished. A
worker that fails or dies (even SIGKILL) fails the rebuild before the swap: the
live views stay as they were, and the fresh tables, at position 0, are emptied
by the next rebuild. Each fresh view's tracking row holds the rebuild's token
while the workers run, and a worker checks it inside every write: a worker left
over from a rebuild that ended (its parent killed) never writes into the tables
of the next one. It also stops when its parent is gone.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import platform
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from multiprocessing.connection import Connection, wait
from multiprocessing.context import BaseContext
from multiprocessing.synchronize import Event as EventType
from typing import Any, Final

from infrastructure.crypto.view_mac import view_mac_key
from infrastructure.db import EventsTable
from infrastructure.orphans import end_with_parent
from infrastructure.settings import Settings
from infrastructure.views.db.base import ViewTables
from infrastructure.views.filling import Filling, Fresh, Superseded, check_token, fill
from infrastructure.views.projection import REBUILDING, NetworkViews, chosen
from infrastructure.views.row_mac import RowMac

# Messages from a worker: ("batch", position reached), ("done", records applied),
# ("error", what failed).
_BATCH: Final = "batch"
_DONE: Final = "done"
_ERROR: Final = "error"


WORKER_POOL: Final = 2  # connections a worker opens at most

__all__ = ["Plan", "RebuildFailed", "Superseded", "WorkerSetup", "build_part", "check_token"]

_WAITING: Final = 1.0  # seconds between looks at the parent, waiting for the tables

RECORDS_PER_JOB: Final = 5000
"""By default no more processes than this many records each: starting a worker
(its connections, its keys) costs tens of milliseconds, as much as projecting a
few thousand records."""


def default_jobs(records: int) -> int:
    """One process per core, but none with fewer than ``RECORDS_PER_JOB`` records."""
    return max(1, min(os.cpu_count() or 1, records // RECORDS_PER_JOB))


class RebuildFailed(Exception):
    """A rebuild did not complete (a worker failed or died, or another rebuild of
    the same views started after it): nothing was swapped, the live views are as
    they were."""


@dataclass(frozen=True)
class WorkerSetup:
    """What a worker needs to open what the parent has open (picklable)."""

    settings: Settings
    events_table: str


@dataclass(frozen=True)
class Plan:
    setup: WorkerSetup
    names: tuple[str, ...]  # the views rebuilt
    parts: int
    stop: int  # the head of the log when the rebuild began
    token: str  # in the fresh views' tracking rows while this rebuild runs
    page: int
    parent: int  # the parent's process id


def run_workers(
    plan: Plan,
    progress: Callable[[int, int], None] | None = None,
    prepare: Callable[[], None] | None = None,
) -> int:
    """Fill the fresh tables from the log up to ``plan.stop`` in ``plan.parts``
    processes; how many records they applied. Raises ``RebuildFailed`` when one
    fails or dies (the others are stopped). ``prepare``: what makes the fresh
    tables ready for the workers' writes (their creation, the token), run here
    once the workers are started: they connect, read and project their first
    batch meanwhile, and write nothing before it has returned."""
    context = _context()
    # The workers' writes wait for each other here, woken at once, rather than on
    # SQLite's busy handler, which polls (sleeping up to 25 ms a try). A worker
    # killed while holding it leaves the others waiting until they are stopped.
    writing = context.Lock()
    prepared = context.Event()
    processes: list[Any] = []
    receivers: list[Connection] = []
    try:
        for part in range(plan.parts):
            receiver, sender = context.Pipe(duplex=False)
            process = context.Process(  # type: ignore[attr-defined]
                target=_work,
                args=(plan, part, sender, writing, prepared),
                name=f"rete-views-rebuild-{part}",
                daemon=True,  # stopped with the parent
            )
            process.start()
            sender.close()
            processes.append(process)
            receivers.append(receiver)
        if prepare is not None:
            prepare()
        prepared.set()
        return _follow(plan, processes, receivers, progress)
    finally:
        for process in processes:
            if process.is_alive():
                process.kill()
        for process in processes:
            process.join()
        for receiver in receivers:
            receiver.close()


def _follow(
    plan: Plan,
    processes: Sequence[Any],
    receivers: Sequence[Connection],
    progress: Callable[[int, int], None] | None,
) -> int:
    reached = [0] * plan.parts
    applied: dict[int, int] = {}
    watched: dict[Any, int] = {r: i for i, r in enumerate(receivers)}
    watched.update({p.sentinel: i for i, p in enumerate(processes)})
    while len(applied) < plan.parts:
        if not watched:
            raise RebuildFailed("the rebuild workers ended without finishing")
        for ready in wait(list(watched)):
            part = watched[ready]
            if ready is receivers[part]:
                try:
                    kind, value = receivers[part].recv()
                except EOFError:  # closed: after its last message, or dead
                    if part not in applied:
                        raise _died(processes[part], part) from None
                    del watched[ready]
                    continue
                if kind == _ERROR:
                    raise RebuildFailed(f"rebuild worker {part} failed: {value}")
                if kind == _DONE:
                    applied[part] = int(value)
                    continue
                reached[part] = int(value)
                if progress is not None:
                    progress(min(reached), plan.stop)
            elif part in applied or receivers[part].poll():
                del watched[ready]  # it ended after its last message, or that is still to read
            else:
                raise _died(processes[part], part)
    return sum(applied.values())


def _died(process: Any, part: int) -> RebuildFailed:
    process.join(5)
    return RebuildFailed(
        f"rebuild worker {part} died (exit code {process.exitcode}); "
        "the live views are as they were: run the rebuild again"
    )


def _context() -> BaseContext:
    # fork, as the ledger's verifier does: a worker starts in milliseconds where
    # spawning one imports the application again. A worker touches nothing it
    # inherited but this module's functions and the plan: it opens its own
    # connections and key store.
    return multiprocessing.get_context("fork" if platform.system() == "Linux" else None)


def _work(
    plan: Plan,
    part: int,
    sender: Connection,
    writing: AbstractContextManager[Any],
    prepared: EventType,
) -> None:
    # What the fork inherited is never freed here: out of the collector's way, so
    # that a collection neither walks the parent's objects nor copies their pages.
    gc.freeze()
    # A worker looks for its parent before each batch (``build_part``); this ends
    # one that waits meanwhile, for the write lock of a sibling that died holding
    # it, once the parent is gone too.
    end_with_parent()
    try:
        applied = build_part(
            plan, part, lambda reached: sender.send((_BATCH, reached)), writing, prepared
        )
        sender.send((_DONE, applied))
    except BaseException as e:  # reported to the parent, then exit 1
        # The type and message only: messages name records, never their content.
        sender.send((_ERROR, f"{type(e).__name__}: {e}"))
        raise SystemExit(1) from None
    finally:
        sender.close()


def build_part(
    plan: Plan,
    part: int,
    report: Callable[[int], None],
    writing: AbstractContextManager[Any] | None = None,
    prepared: EventType | None = None,
) -> int:
    """Project part ``part`` of the log up to ``plan.stop`` into the fresh tables
    (``writing``: held around each write, shared by the workers; ``prepared``: set
    once the tables may be written)."""
    # Here, not at the top: the composition root imports the views.
    from infrastructure.bootstrap import build_keys

    # A connection for the reads, one for the writes (``filling``).
    keys = build_keys(replace(plan.setup.settings, database_pool_size=WORKER_POOL))
    try:
        tables = ViewTables(keys.database)
        fresh = Fresh(
            tables,
            EventsTable(tables.dialect, plan.setup.events_table),
            keys,
            RowMac(view_mac_key(keys)),
            NetworkViews(chosen(plan.names), tables.dialect, REBUILDING),
        )

        def alive() -> None:
            if os.getppid() != plan.parent:
                raise Superseded("the rebuild's parent process is gone")

        def ready() -> None:
            while prepared is not None and not prepared.wait(_WAITING):
                alive()

        # Batches of a page of this part's records each, as one process's (1,000
        # measured no better on SQLite, and two to three times slower on PostgreSQL).
        at = Filling(part, plan.parts, plan.stop, plan.token, plan.page)
        return fill(at, fresh, report, writing, alive, ready)
    finally:
        keys.close()
