"""``rete views``: rebuild with a progress bar, check, status, and ``run``, which
follows the log in a process of its own (woken by NOTIFY on PostgreSQL)."""

from __future__ import annotations

import signal
import subprocess
import time

from click.testing import CliRunner
from support.processes import start
from views_support import actor, live_rows, positions

from api.cli_views import views as views_group
from api.demo import load_demo
from application.rete import Rete
from infrastructure.views import Views


def test_rebuild_check_and_status(rete: Rete, views: Views, views_env: dict[str, str]) -> None:
    load_demo(rete)
    views.catch_up()
    live = live_rows(views)
    cli = CliRunner()

    rebuilt = cli.invoke(views_group, ["rebuild"], env=views_env)
    assert rebuilt.exit_code == 0, rebuilt.output
    assert "Rebuilt cases, referrals, entries, consents, assessments, access up to position" in (
        rebuilt.output
    )
    assert live_rows(views) == live

    one = cli.invoke(views_group, ["rebuild", "referrals"], env=views_env)
    assert one.exit_code == 0 and "Rebuilt referrals" in one.output
    checked = cli.invoke(views_group, ["check"], env=views_env)
    assert checked.exit_code == 0 and checked.stdout.startswith("OK:"), checked.output
    status = cli.invoke(views_group, ["status"], env=views_env)
    head = views.runner.head()
    assert f"cases: position {head} of {head}" in status.output

    unknown = cli.invoke(views_group, ["rebuild", "diaries"], env=views_env)
    assert unknown.exit_code == 2 and "diaries" in unknown.output


def test_check_finds_a_view_that_differs_from_the_log(
    rete: Rete, views: Views, views_env: dict[str, str]
) -> None:
    load_demo(rete)
    views.catch_up()
    with views.tables.write() as tx:
        tx.command(f"UPDATE {tx.dialect.qualify('rete_view_referrals')} SET status = 'accepted'")

    checked = CliRunner().invoke(views_group, ["check", "referrals"], env=views_env)

    assert checked.exit_code == 1
    assert "DIFFERS: rete_view_referrals" in checked.output


def test_run_follows_the_log_until_stopped(
    rete: Rete, views: Views, views_env: dict[str, str]
) -> None:
    postgres = views_env["RETE_DATABASE_URL"].startswith("postgresql")
    # On PostgreSQL the poll is long: only the NOTIFY can wake it in time.
    poll = "30" if postgres else "0.1"
    runner = ["-c", "from api.cli_views import views; views()", "run", "--poll", poll]
    child = start(runner, views_env, stderr=subprocess.PIPE)
    try:
        assert child.stderr is not None
        assert "Following the log" in child.stderr.readline()
        time.sleep(0.5)  # listening
        for _ in range(3):
            opened = rete.cases.open(actor(rete, "cav-scirocco"))
            head = views.runner.head()
            deadline = time.monotonic() + 5
            while min(positions(views).values()) < head and time.monotonic() < deadline:
                time.sleep(0.02)
            assert min(positions(views).values()) >= head, "the follower did not catch up"
            with views.tables.read() as tx:
                found = tx.query(
                    f"SELECT 1 FROM {tx.dialect.qualify('rete_view_cases')} "
                    "WHERE reference_code = %s",
                    (opened.reference_code,),
                )
            assert found
    finally:
        child.send_signal(signal.SIGTERM)
        _, err = child.communicate(timeout=30)
    assert child.returncode == 0, err
    assert "Stopped." in err
