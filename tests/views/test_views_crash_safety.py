"""A runner that fails or is killed in the middle of a batch resumes without skipping
or repeating an event (issue 5, "done when" 3): the batch in flight leaves nothing
behind, and the next catch-up, in any process, starts right after the last commit."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from support.clock import TestClock
from support.followers import catching_up
from support.processes import kill_when_ready
from views_support import (
    forget,
    leave_a_referral_unanswered,
    live_rows,
    positions,
)

from api.demo import load_demo
from application.rete import Rete
from infrastructure.store import ReteEventStore
from infrastructure.views import Views
from infrastructure.views.db.base import ViewTables, ViewTx
from infrastructure.views.projection import ALL_VIEWS, NetworkViews
from infrastructure.views.runner import ViewRunner

CHILD = Path(__file__).with_name("views_crash_child.py")


class Failure(Exception):
    pass


class _FailingTx(ViewTx):
    """Passes statements through; the ``fail_at``-th batch insert or update fails,
    after the ones before it in the same transaction were written."""

    def __init__(self, tx: ViewTx, countdown: list[int]) -> None:
        super().__init__(tx.dialect)
        self._tx, self._countdown = tx, countdown

    def query(
        self, statement: str, params: Sequence[Any] = (), *, binary: bool = False
    ) -> list[tuple[Any, ...]]:
        return self._tx.query(statement, params, binary=binary)

    def command(self, statement: str, params: Sequence[Any] = ()) -> None:
        self._tx.command(statement, params)

    def many(self, statement: str, rows: Iterable[Sequence[Any]]) -> None:
        self._countdown[0] -= 1
        if self._countdown[0] == 0:
            raise Failure("the database went away in the middle of a batch")
        self._tx.many(statement, rows)

    def table_exists(self, table: str) -> bool:
        return self._tx.table_exists(table)


class FailingTables(ViewTables):
    def __init__(self, tables: ViewTables, fail_at: int) -> None:
        self.dialect = tables.dialect
        self._tables = tables
        self._countdown = [fail_at]

    def read(self, snapshot: bool = True) -> Any:
        return self._tables.read(snapshot)

    @contextmanager
    def write(self, bulk: bool = False) -> Iterator[ViewTx]:
        with self._tables.write(bulk) as tx:
            yield _FailingTx(tx, self._countdown)

    def close(self) -> None:
        pass


def runner(views: Views, store: ReteEventStore, tables: ViewTables, page: int) -> ViewRunner:
    return ViewRunner(tables, views.log, store.keys, NetworkViews(ALL_VIEWS, tables.dialect), page)


def test_a_batch_that_fails_halfway_leaves_nothing_and_the_next_run_resumes_after_the_last(
    rete: Rete, views: Views, store: ReteEventStore, clock: TestClock
) -> None:
    load_demo(rete)
    leave_a_referral_unanswered(rete, clock)
    forget(views)
    for fail_at in (2, 7, 13, 20):  # the n-th write of the run, some batches in
        committed: list[tuple[dict[str, int], object]] = []
        failing = runner(views, store, FailingTables(views.tables, fail_at), page=9)
        before = (positions(views), live_rows(views))

        def remember(reached: int, head: int, committed: list[Any] = committed) -> None:
            committed.append((positions(views), live_rows(views)))

        with pytest.raises(Failure):
            failing.catch_up(progress=remember)

        last_positions, last_rows = committed[-1] if committed else before
        assert positions(views) == last_positions  # nothing of the failed batch stayed
        assert live_rows(views) == last_rows
    views.catch_up()  # the restart: in another runner, from the last commit
    live = live_rows(views)
    views.rebuild()
    assert live_rows(views) == live  # nothing skipped, nothing applied twice


def run_and_kill(env: dict[str, str], page: int, pause: float, after: float) -> None:
    kill_when_ready([str(CHILD), str(page), str(pause)], env, after)


@pytest.mark.long
def test_a_runner_killed_in_the_middle_of_a_batch_resumes_without_skipping_or_repeating(
    rete: Rete, views: Views, views_env: dict[str, str], clock: TestClock
) -> None:
    load_demo(rete)
    leave_a_referral_unanswered(rete, clock)
    forget(views)
    head = views.runner.head()
    rng = random.Random(5)
    seen = []
    for _ in range(4):
        run_and_kill(views_env, page=3, pause=0.05, after=rng.uniform(0.2, 0.5))
        seen.append(min(positions(views).values()))
    assert 0 < seen[0] < head, "the first child was killed before the end of the log"
    assert seen == sorted(seen)

    views.catch_up()  # the restart
    live = live_rows(views)
    views.rebuild()
    assert live_rows(views) == live


def test_runners_in_several_processes_share_the_work_and_apply_each_event_once(
    rete: Rete, make_views: Callable[..., Views], clock: TestClock
) -> None:
    workers = [make_views() for _ in range(3)]
    with catching_up(workers) as errors:
        load_demo(rete)
        leave_a_referral_unanswered(rete, clock)
    assert not errors
    views = workers[0]
    views.catch_up()
    live = live_rows(views)
    views.rebuild()
    assert live_rows(views) == live
