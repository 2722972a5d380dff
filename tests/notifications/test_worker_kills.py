"""``rete notify run`` killed with SIGKILL again and again during a burst of writes:
every announcement reaches the receiver at least once, and once it drops repeats
by id it holds each exactly once; nothing is lost."""

from __future__ import annotations

import random
import signal
import subprocess
import time
from types import SimpleNamespace

import pytest
from notify_support import subscribe
from support.processes import start
from support.stories import refer_to_protect
from webhook_receiver import Receiver

from application.rete import Rete
from domain.referral import Move

WORKER = ["-c", "from api.cli_notify import notify; notify()", "run", "--poll", "0.05"]


def _worker(env: dict[str, str]) -> subprocess.Popen[str]:
    # A short lease: a delivery the kill interrupted is tried again within seconds.
    settings = {**env, "RETE_LOG_FORMAT": "json", "RETE_NOTIFY_LEASE": "1"}
    child = start(WORKER, settings, stderr=subprocess.PIPE)
    assert child.stderr is not None
    line = child.stderr.readline()
    while line and "Delivering announcements" not in line:
        line = child.stderr.readline()
    assert line, "the worker did not start"
    return child


def _kill(child: subprocess.Popen[str]) -> None:
    child.send_signal(signal.SIGKILL)
    child.wait(30)
    assert child.returncode == -signal.SIGKILL


def _burst(rete: Rete, people: SimpleNamespace, police: SimpleNamespace, case_ref: str) -> None:
    referral = refer_to_protect(rete, people.chiara, case_ref, "threat", "danger")
    for move in (Move.ACKNOWLEDGE, Move.ACCEPT, Move.COMPLETE):
        rete.referrals.move(police.paolo, referral.id, move)


@pytest.mark.parametrize(
    "kills",
    [pytest.param(3, id="3-kills"), pytest.param(10, id="10-kills", marks=pytest.mark.slow)],
)
@pytest.mark.long
def test_sigkill_of_the_worker_during_a_burst_loses_nothing(
    kills: int,
    rete: Rete,
    rete_env: dict[str, str],
    people: SimpleNamespace,
    police: SimpleNamespace,
    receiver: Receiver,
) -> None:
    subscribe(rete, people.chiara, receiver)
    receiver.delay = 0.02  # slow enough that kills land mid-delivery
    chance = random.Random(kills)
    case = rete.cases.open(people.anna)
    for _ in range(kills):
        child = _worker(rete_env)
        try:
            for _ in range(2):
                _burst(rete, people, police, case.reference_code)
            time.sleep(chance.uniform(0.05, 0.4))
        finally:
            _kill(child)

    # A last worker, left to finish.
    assert rete.announcements is not None
    child = _worker(rete_env)
    try:
        expected = {a.id for a in rete.announcements.after(0, service="cav-scirocco", limit=10_000)}
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            expected = {
                a.id for a in rete.announcements.after(0, service="cav-scirocco", limit=10_000)
            }
            if len(expected) == 3 * 2 * kills and set(receiver.ids()) >= expected:
                break
            time.sleep(0.1)
    finally:
        child.send_signal(signal.SIGTERM)
        child.communicate(timeout=30)

    assert len(expected) == 3 * 2 * kills  # acknowledged, accepted, completed each
    assert set(receiver.unique_ids()) == expected  # nothing lost, nothing foreign
    assert len(receiver.unique_ids()) == len(expected)  # once each, after de-duplication
    assert receiver.refused == 0
    # Within each referral, first arrivals kept their order.
    by_referral: dict[str, list[str]] = {}
    seen: set[str] = set()
    for payload, announcement_id in zip(receiver.payloads(), receiver.ids(), strict=True):
        if announcement_id in seen:
            continue
        seen.add(announcement_id)
        by_referral.setdefault(payload["data"]["referral_id"], []).append(payload["type"])
    assert all(
        kinds == ["referral.acknowledged", "referral.accepted", "referral.completed"]
        for kinds in by_referral.values()
    )
