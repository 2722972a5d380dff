"""Delivery survives what a receiver and the network do: an endpoint down for ten
minutes gets everything afterwards, in order per referral, each once; one that
fails for ever ends in the dead letters, which its coordinator replays."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from types import SimpleNamespace

from notify_support import notifier_of, subscribe
from support.clock import TestClock
from support.stories import refer_to_protect
from webhook_receiver import Receiver, kinds_of

from application.notifications.retries import ATTEMPTS
from application.rete import Rete
from domain.referral import Move
from infrastructure.notifications.worker import Notifier

REASON = "her ex-partner threatened her"
WHY = "immediate danger"


def _two_referrals_moved(rete: Rete, people: SimpleNamespace, police: SimpleNamespace) -> None:
    """Two emergency referrals to the police, each acknowledged, accepted, completed
    (told to the CAV, the sender), their moves interleaved."""
    case = rete.cases.open(people.anna)
    ids = [
        refer_to_protect(rete, people.chiara, case.reference_code, REASON, WHY).id for _ in range(2)
    ]
    for move in (Move.ACKNOWLEDGE, Move.ACCEPT, Move.COMPLETE):
        for referral in ids:
            rete.referrals.move(police.paolo, referral, move)


def _moved_while_failing(
    rete: Rete,
    people: SimpleNamespace,
    police: SimpleNamespace,
    receiver: Receiver,
    status: int,
) -> Notifier:
    """The CAV's coordinator subscribes ``receiver``, which answers ``status``, and
    two referrals then move; the notifier that will deliver them."""
    subscribe(rete, people.chiara, receiver)
    notifier = notifier_of(rete)
    receiver.status = status
    _two_referrals_moved(rete, people, police)
    return notifier


def _rounds(notifier: Notifier, clock: TestClock, rounds: int, every: timedelta) -> None:
    """The notifier's rounds, ``every`` apart."""
    for _ in range(rounds):
        notifier.step()
        clock.advance(seconds=every.total_seconds())


def _in_order_per_referral(receiver: Receiver) -> dict[str, list[str]]:
    by_referral: dict[str, list[str]] = defaultdict(list)
    for payload in receiver.payloads():
        by_referral[payload["data"]["referral_id"]].append(payload["type"])
    return dict(by_referral)


EXPECTED = ["referral.acknowledged", "referral.accepted", "referral.completed"]


def test_an_endpoint_down_for_ten_minutes_gets_everything_in_order_once(
    rete: Rete,
    people: SimpleNamespace,
    police: SimpleNamespace,
    receiver: Receiver,
    clock: TestClock,
) -> None:
    notifier = _moved_while_failing(rete, people, police, receiver, 503)  # down
    _rounds(notifier, clock, 20, timedelta(seconds=30))  # ten minutes
    assert receiver.received == [] and receiver.attempts > 0

    receiver.status = 204  # back
    # The retries come back within the schedule's next step.
    _rounds(notifier, clock, 60, timedelta(seconds=30))

    assert _in_order_per_referral(receiver) == {
        r: EXPECTED for r in _in_order_per_referral(receiver)
    }
    assert len(_in_order_per_referral(receiver)) == 2
    assert len(receiver.ids()) == len(set(receiver.ids())) == 6  # each once
    assert rete.notifications.dead_letters(people.chiara) == []


def test_a_receiver_failing_for_ever_ends_in_the_dead_letters_and_replay_delivers_them(
    rete: Rete,
    people: SimpleNamespace,
    police: SimpleNamespace,
    receiver: Receiver,
    clock: TestClock,
) -> None:
    notifier = _moved_while_failing(rete, people, police, receiver, 500)
    # A day, a round every half hour: past the whole schedule.
    _rounds(notifier, clock, 48, timedelta(minutes=30))

    dead = rete.notifications.dead_letters(people.chiara)
    assert len(dead) == 6
    # The head of each referral exhausted its attempts; the rest were held behind it.
    assert sorted(d.attempts for d in dead) == [0, 0, 0, 0, ATTEMPTS, ATTEMPTS]
    assert all("500" in d.last_error or "held behind" in d.last_error for d in dead)
    assert receiver.received == []
    # The police's coordinator sees none of the CAV's dead letters.
    assert rete.notifications.dead_letters(police.pia) == []

    receiver.status = 204
    assert rete.notifications.replay(people.chiara) == 6
    notifier.step()

    assert kinds_of(receiver).count("referral.acknowledged") == 2
    assert all(kinds == EXPECTED for kinds in _in_order_per_referral(receiver).values())
    assert len(receiver.ids()) == len(set(receiver.ids())) == 6
    assert rete.notifications.dead_letters(people.chiara) == []


def test_only_the_kinds_a_subscription_wants_are_sent(
    rete: Rete, people: SimpleNamespace, police: SimpleNamespace, receiver: Receiver
) -> None:
    subscribe(rete, people.chiara, receiver, kinds=["referral.completed"])
    _two_referrals_moved(rete, people, police)
    notifier_of(rete).step()
    assert kinds_of(receiver) == ["referral.completed", "referral.completed"]
