"""A rebuild across processes (issue 14, done-when 1): at 1, 2 or 3 processes the
rebuilt views equal the ones kept up to date record by record, row by row and MAC
by MAC, on both backends; a worker killed midway swaps nothing (the live views
keep serving as they were, the half-filled tables are never read), and the next
rebuild completes and equals them again."""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from support.clock import TestClock
from support.processes import all_ended, kill_when_working
from views_support import Rows, actor, leave_a_referral_unanswered, live_rows, positions

from api.cli_views import views as views_group
from api.demo import load_demo
from application.rete import Rete
from infrastructure.views import Views
from infrastructure.views.projection import VIEW_NAMES
from infrastructure.views.rebuild import Rebuild
from infrastructure.views.rebuild_workers import Plan, RebuildFailed, Superseded, build_part
from infrastructure.views.schema import ACCESS, ACCESS_COUNTS

CHILD = Path(__file__).with_name("rebuild_crash_child.py")


def a_network_with_history(rete: Rete, clock: TestClock) -> None:
    """The demo, a referral left to escalate, and cases read several times (access
    records, whose case is inside their seal)."""
    load_demo(rete)
    leave_a_referral_unanswered(rete, clock)
    cav = actor(rete, "cav-scirocco")
    for _ in range(3):
        ref = rete.cases.open(cav).reference_code
        for _ in range(4):
            rete.cases.get(cav, ref)


@pytest.mark.parametrize("jobs", [1, 2, 3])
def test_a_rebuild_in_several_processes_equals_the_incremental_views(
    rete: Rete, views: Views, clock: TestClock, jobs: int
) -> None:
    a_network_with_history(rete, clock)
    views.catch_up()
    live = live_rows(views)
    assert len(live[ACCESS.name]) >= 12 and live[ACCESS_COUNTS.name]
    assert live["rete_view_escalations"] and live["rete_view_assessments"]

    head = views.rebuild(jobs=jobs)

    assert live_rows(views) == live  # every column, the MAC included
    assert set(positions(views).values()) == {head}
    assert views.check(jobs=jobs) == []


@pytest.mark.parametrize(("jobs", "page"), [(1, 1), (1, 2), (2, 1), (2, 3)])
def test_rows_changed_by_a_later_batch_than_the_one_that_added_them_are_rebuilt_alike(
    rete: Rete, views: Views, clock: TestClock, jobs: int, page: int
) -> None:
    """A batch is written while the next one is projected (``filling``): a row that
    batch changes is taken from the batch before, not read from its table. With
    batches of one or a few records nearly every change is such a row."""
    a_network_with_history(rete, clock)
    views.catch_up()
    live = live_rows(views)
    job = Rebuild(
        views.tables, views.log, views.keys, page=page, mac=views.mac, workers=views.workers
    )

    job.build(jobs=jobs)
    head = job.swap()

    assert live_rows(views) == live
    assert set(positions(views).values()) == {head}


def test_records_written_during_a_partitioned_rebuild_are_in_the_swapped_views(
    rete: Rete, views: Views, clock: TestClock, make_views: Callable[..., Views]
) -> None:
    a_network_with_history(rete, clock)
    cav = actor(rete, "cav-scirocco")
    job = Rebuild(views.tables, views.log, views.keys, mac=views.mac, workers=views.workers)
    job.build(jobs=2)
    late = rete.cases.open(cav).reference_code  # after the workers' head
    rete.cases.get(cav, late)

    job.swap()

    rebuilt = live_rows(views)
    follower = make_views()  # another process's views, kept up to date record by record
    follower.rebuild(jobs=1)
    assert rebuilt == live_rows(follower)


def _kill_one_worker(reached: int, head: int) -> None:
    """Progress callback: the first time a worker reports a batch, SIGKILL a worker
    still running."""
    children = multiprocessing.active_children()
    if children and reached < head:
        os.kill(children[0].pid or 0, signal.SIGKILL)


def _nothing_swapped_and_the_next_rebuild_completes(
    rete: Rete, views: Views, live: Rows, where: dict[str, int], ref: str
) -> None:
    """The live views are whole, where they were, and still served (case ``ref``
    read by the CAV); then the next rebuild completes and equals them."""
    assert live_rows(views) == live
    assert positions(views) == where
    cav = actor(rete, "cav-scirocco")
    assert rete.cases.get(cav, ref).reference_code == ref

    views.catch_up()
    after = live_rows(views)  # the read above added an access record
    views.rebuild(jobs=2)
    assert live_rows(views) == after


def test_a_killed_worker_leaves_the_live_views_serving_and_the_next_rebuild_completes(
    rete: Rete, views: Views, clock: TestClock
) -> None:
    a_network_with_history(rete, clock)
    views.catch_up()
    live, where = live_rows(views), positions(views)
    cav = actor(rete, "cav-scirocco")
    ref = rete.cases.list(cav).items[0].reference_code
    # One record per batch: a worker has batches left long after the first report.
    job = Rebuild(views.tables, views.log, views.keys, page=1, mac=views.mac, workers=views.workers)

    with pytest.raises(RebuildFailed, match="died"):
        job.build(_kill_one_worker, jobs=2)

    _nothing_swapped_and_the_next_rebuild_completes(rete, views, live, where, ref)
    assert views.check(jobs=3) == []


def test_rete_views_rebuild_and_check_take_jobs(
    rete: Rete, views: Views, clock: TestClock, views_env: dict[str, str]
) -> None:
    a_network_with_history(rete, clock)
    views.catch_up()
    live = live_rows(views)
    cli = CliRunner()

    rebuilt = cli.invoke(views_group, ["rebuild", "--jobs", "2"], env=views_env)
    assert rebuilt.exit_code == 0, rebuilt.output
    assert live_rows(views) == live

    with views.tables.write() as tx:
        tx.command(f"UPDATE {tx.dialect.qualify('rete_view_referrals')} SET status = 'accepted'")
    checked = cli.invoke(views_group, ["check", "referrals", "--jobs", "3"], env=views_env)
    assert checked.exit_code == 1 and "DIFFERS: rete_view_referrals" in checked.output
    repaired = cli.invoke(views_group, ["rebuild", "referrals", "--jobs", "3"], env=views_env)
    assert repaired.exit_code == 0, repaired.output
    assert live_rows(views) == live


def test_each_view_rebuilt_alone_across_processes_equals_its_live_tables(
    rete: Rete, views: Views, clock: TestClock
) -> None:
    a_network_with_history(rete, clock)
    views.catch_up()
    live = live_rows(views)

    for name in VIEW_NAMES:
        views.rebuild([name], jobs=2)
        assert live_rows(views) == live, name


def test_a_worker_left_from_an_ended_rebuild_never_writes_into_the_next_ones_tables(
    rete: Rete, views: Views, clock: TestClock
) -> None:
    a_network_with_history(rete, clock)
    job = Rebuild(views.tables, views.log, views.keys, mac=views.mac, workers=views.workers)
    fresh = job.fresh.views
    with views.tables.write() as tx:  # the next rebuild has begun: its own token
        fresh.reset(tx)
        head = views.log.head(tx)
        for b in fresh.bound:
            fresh.tracking.put(tx, b.tracking, 0, "the next rebuild")
    assert views.workers is not None
    stale = Plan(views.workers, tuple(job.names), 2, head, "an ended rebuild", 5000, os.getppid())

    with pytest.raises(Superseded):
        build_part(stale, 0, lambda reached: None)

    with views.tables.read() as tx:
        assert all(not sql.rows(tx) for sql in fresh.tables.values())


def test_a_rebuild_started_while_another_waits_to_swap_wins_and_the_other_swaps_nothing(
    rete: Rete, views: Views, clock: TestClock
) -> None:
    """The first rebuild is filled; a second one of the same views starts and, while
    its fresh tables are half filled, the first tries to put them in place: it is
    refused (swap and compare alike) and the live views stay as they were; the
    second completes and equals them."""
    a_network_with_history(rete, clock)
    views.catch_up()
    live = live_rows(views)

    def rebuild(page: int = 5000) -> Rebuild:
        return Rebuild(
            views.tables, views.log, views.keys, page=page, mac=views.mac, workers=views.workers
        )

    first, second = rebuild(), rebuild(page=5)
    first.build(jobs=1)
    refused: list[str] = []

    def the_first_tries_to_finish(reached: int, head: int) -> None:
        if refused or reached >= head:
            return
        for finish in (first.swap, first.compare):
            with pytest.raises(RebuildFailed, match="another rebuild") as e:
                finish()
            refused.append(str(e.value))
        assert live_rows(views) == live

    second.build(the_first_tries_to_finish, jobs=1)
    second.swap()

    assert len(refused) == 2
    assert live_rows(views) == live
    assert views.check(jobs=1) == []


@pytest.mark.long
def test_a_rebuild_whose_process_is_killed_leaves_no_worker_running_and_the_live_views_whole(
    rete: Rete, views: Views, clock: TestClock, views_env: dict[str, str]
) -> None:
    """SIGKILL on the process of ``rete views rebuild --jobs 2`` while its workers
    fill the fresh tables (slowly: they have seconds of work left): the workers
    notice their parent is gone and stop at once (no orphan goes on writing),
    nothing is swapped, the live views serve as they were,
    and the next rebuild completes and equals them."""
    a_network_with_history(rete, clock)
    views.catch_up()
    live, where = live_rows(views), positions(views)
    cav = actor(rete, "cav-scirocco")
    ref = rete.cases.list(cav).items[0].reference_code

    workers = kill_when_working([str(CHILD)], views_env)
    # A worker with seconds of batches left stops at its next one (one to two
    # tenths of a second); 3 s leaves room for a loaded machine.
    assert all_ended(workers, within=3), "a worker outlived its rebuild"

    _nothing_swapped_and_the_next_rebuild_completes(rete, views, live, where, ref)
