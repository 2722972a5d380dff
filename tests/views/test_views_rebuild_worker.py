"""A large rebuild reads and opens the log in a worker process (``log_worker``): the
views it builds are the in-process rebuild's and the live ones, row by row; a record
the in-process path refuses is refused the same way; and a worker that dies fails
the rebuild before its swap, the live views untouched. Both backends; the worker's
threshold is lowered to the demo's log, its batches and chunks made small."""

from __future__ import annotations

import os
from typing import Any

import pytest
from views_support import MovableClock, leave_a_referral_unanswered, live_rows, positions

from api.demo import load_demo
from application.rete import Rete
from infrastructure.sealing_mapper import RecordIntegrityError
from infrastructure.views import Views, log_worker, rebuild
from infrastructure.views.assembly import events_table
from infrastructure.views.log_worker import OpenedPages, WorkerFailed
from infrastructure.views.rebuild import Rebuild

PAGE = 7  # records per batch: many batches, each in several chunks


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(log_worker, "CHUNK", 3)  # the forked worker inherits it


@pytest.fixture
def batches_through_worker(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the batches that came from a worker."""
    counted: list[int] = []

    class Counting(OpenedPages):
        def batches(self) -> Any:
            for batch in super().batches():
                yield batch
                counted.append(batch.reached())

    monkeypatch.setattr(rebuild, "OpenedPages", Counting)
    return counted


def rebuilt(views: Views, worker_from: int | None) -> int:
    job = Rebuild(views.tables, views.log, views.keys, page=PAGE, worker_from=worker_from)
    job.build()
    return job.swap()


@pytest.fixture
def demo(rete: Rete, views: Views, clock: MovableClock) -> Views:
    load_demo(rete)
    leave_a_referral_unanswered(rete, clock)
    views.catch_up()
    return views


def test_a_rebuild_through_the_worker_equals_the_in_process_one_and_the_live_views(
    demo: Views, batches_through_worker: list[int]
) -> None:
    live = live_rows(demo)

    head = rebuilt(demo, worker_from=1)
    through_worker = live_rows(demo)
    assert len(batches_through_worker) > 3, "the worker sent the log, batch by batch"
    assert set(positions(demo).values()) == {head}
    rebuilt(demo, worker_from=None)
    in_process = live_rows(demo)

    assert through_worker == live
    assert in_process == live
    check = Rebuild(demo.tables, demo.log, demo.keys, page=PAGE, worker_from=1)
    check.build()
    assert check.compare() == []


def test_a_record_moved_is_refused_through_the_worker_as_in_process(demo: Views) -> None:
    live, where = live_rows(demo), positions(demo)
    with demo.tables.write() as tx:  # the second case opened given the third one's seal
        every = demo.log.records(tx, 0, demo.log.head(tx), 10_000, [])
        opened = [r.position for r in every if r.topic.endswith("Case.Opened")]
        events = tx.dialect.qualify(events_table(demo.recorder))
        at = "rowid" if tx.dialect.name == "sqlite" else "notification_id"
        tx.command(
            f"UPDATE {events} SET state = (SELECT state FROM {events} WHERE {at} = %s) "
            f"WHERE {at} = %s",
            (opened[2], opened[1]),
        )

    refusals = []
    for worker_from in (None, 1):
        with pytest.raises(RecordIntegrityError) as refused:
            rebuilt(demo, worker_from)
        refusals.append(str(refused.value))

    assert refusals[0] == refusals[1]
    assert live_rows(demo) == live and positions(demo) == where


def test_a_worker_that_dies_fails_the_rebuild_and_leaves_the_live_views(
    demo: Views, monkeypatch: pytest.MonkeyPatch
) -> None:
    live, where = live_rows(demo), positions(demo)
    one_batch, sent = log_worker._one_batch, [0]

    def dying(*args: Any) -> int:  # runs in the worker: two batches, then it dies
        sent[0] += 1
        if sent[0] > 2:
            os._exit(3)
        return one_batch(*args)

    monkeypatch.setattr(log_worker, "_one_batch", dying)
    with pytest.raises(WorkerFailed, match="exit code 3"):
        rebuilt(demo, worker_from=1)

    assert live_rows(demo) == live and positions(demo) == where
    monkeypatch.setattr(log_worker, "_one_batch", one_batch)
    rebuilt(demo, worker_from=1)
    assert live_rows(demo) == live
