"""Killed at any moment (SIGKILL, while it writes and ledgers), restarted: the
ledger covers every committed record exactly once and verifies (issue 4, "done
when" 4)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from ledger_store_support import EventsTable
from support.processes import kill_when_ready

from infrastructure.ledger.ledger import Ledger
from infrastructure.ledger.verification import verify_live

CHILD = Path(__file__).with_name("crash_child.py")


def run_and_kill(env: dict[str, str], page: int, after: float) -> None:
    kill_when_ready([str(CHILD), str(page)], env, after)


@pytest.mark.long
def test_a_killed_writer_leaves_a_ledger_of_every_record_exactly_once(
    ledger_env: dict[str, str], ledger: Ledger, events: EventsTable
) -> None:
    rng = random.Random(7)
    for n, page in enumerate((7, 50, 3, 200, 1)):
        run_and_kill(ledger_env, page, rng.uniform(0.2, 0.9))
        head = ledger.store.head()
        assert head.size <= events.count()  # what it ledgered was committed
        if n == 0:
            ledger.sign_checkpoint()  # the next children must extend it

    added = ledger.catch_up()  # the restart: resumes after the last committed head
    rows = events.rows()
    head = ledger.store.head()
    assert head.size == len(rows) > 0 and added <= len(rows)
    assert [leaf.position for leaf in ledger.store.leaves(0, head.size)] == [r[0] for r in rows]
    # Consistent with every checkpoint signed before, by the children too.
    assert ledger.sign_checkpoint().checkpoint.size == len(rows)
    summary = verify_live(ledger.tables, [ledger.verifier], ledger.verifier.name)
    assert summary.records == len(rows) and summary.uncovered == 0
