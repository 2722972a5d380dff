"""The database stops while announcements wait to be delivered, then comes back:
the worker's rounds fail meanwhile and resume after, and nothing is lost or sent
twice (a private PostgreSQL cluster, stopped and started)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from notify_support import notifier_of, rete_on_a_private_cluster, subscribe
from support.clock import TestClock
from support.people import people_of
from support.private_postgres import PrivateCluster, private_postgres  # noqa: F401
from support.stories import refer_to_protect
from webhook_receiver import Receiver, receiving

from domain.referral import Move

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def test_deliveries_resume_after_the_database_comes_back(
    private_postgres: PrivateCluster,  # noqa: F811
    tmp_path: Path,
) -> None:
    clock = TestClock()
    _, rete = rete_on_a_private_cluster(private_postgres, tmp_path / "var", clock)
    try:
        notifier = notifier_of(rete)
        people = people_of(rete)
        police = rete.identify("paolo", "pl-cesano", ["caseworker"])
        with receiving(Receiver()) as receiver:
            subscribe(rete, people.chiara, receiver)
            case = rete.cases.open(people.anna)
            referral = refer_to_protect(
                rete, people.chiara, case.reference_code, "threat", "danger"
            )
            for move in (Move.ACKNOWLEDGE, Move.ACCEPT):
                rete.referrals.move(police, referral.id, move)

            private_postgres.stop()
            failed = 0
            for _ in range(3):
                try:
                    notifier.step()
                except Exception:
                    failed += 1
                clock.advance(seconds=30)
            assert failed == 3 and receiver.received == []

            private_postgres.start()
            private_postgres.wait_accepting()
            deadline = time.monotonic() + 60
            while len(receiver.received) < 2 and time.monotonic() < deadline:
                try:
                    notifier.step()
                except Exception:
                    time.sleep(0.5)  # the pool reconnecting
                clock.advance(seconds=30)

        kinds = [p["type"] for p in receiver.payloads()]
        assert kinds == ["referral.acknowledged", "referral.accepted"]
        assert len(set(receiver.ids())) == 2
    finally:
        rete.close()
