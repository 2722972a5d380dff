"""Deadlines: an approaching one is announced once, a missed one escalates once per
deadline, however often the policies run and however many processes run them."""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace

from notify_support import notifier_of, subscribe
from support.clock import TestClock
from support.stories import refer_to_protect
from webhook_receiver import Receiver

from application.rete import Rete
from domain.referral import Move


def _kinds(rete: Rete, service: str) -> list[tuple[str, str | None]]:
    assert rete.announcements is not None
    found = rete.announcements.after(0, service=service, limit=1000)
    return [(a.kind, a.deadline.isoformat() if a.deadline else None) for a in found]


def test_a_missed_emergency_acknowledgement_escalates_once_per_deadline(
    rete: Rete,
    make_rete: Callable[..., Rete],
    people: SimpleNamespace,
    police: SimpleNamespace,
    receiver: Receiver,
    clock: TestClock,
) -> None:
    subscribe(rete, police.pia, receiver)
    other = make_rete()  # a second worker running the same policies
    case = rete.cases.open(people.anna)
    referral = refer_to_protect(rete, people.chiara, case.reference_code, "threat", "danger")
    acknowledge_by, answer_by = referral.acknowledge_by, referral.answer_by

    for _ in range(3):  # past the hour to acknowledge, the policies running again and again
        clock.advance(minutes=40)
        for app in (rete, other, rete):
            app.escalations.run()
            notifier_of(app).step()
    rete.referrals.move(police.paolo, referral.id, Move.ACKNOWLEDGE)  # late
    for _ in range(3):  # past the answer's 4 hours
        clock.advance(hours=1)
        for app in (rete, other, rete):
            app.escalations.run()
            notifier_of(app).step()

    police_kinds = _kinds(rete, "pl-cesano")
    escalated = [d for k, d in police_kinds if k == "referral.escalated"]
    missed = [d for k, d in police_kinds if k == "deadline.missed"]
    assert escalated == missed == [acknowledge_by.isoformat(), answer_by.isoformat()]
    # The sender's side is told too, once per deadline.
    cav = [d for k, d in _kinds(rete, "cav-scirocco") if k == "referral.escalated"]
    assert cav == escalated
    # And the police's endpoint got each once.
    sent = [p["data"]["deadline"] for p in receiver.payloads() if p["type"] == "referral.escalated"]
    assert len(sent) == 2 and len(receiver.ids()) == len(set(receiver.ids()))


def test_an_approaching_deadline_is_announced_once_within_its_lead(
    rete: Rete,
    people: SimpleNamespace,
    police: SimpleNamespace,
    clock: TestClock,
) -> None:
    case = rete.cases.open(people.anna)
    refer_to_protect(rete, people.chiara, case.reference_code, "threat", "danger")
    notifier = notifier_of(rete)
    clock.advance(minutes=40)  # 20 min before the hour: outside the 15-minute lead
    notifier.step()
    assert [k for k, _ in _kinds(rete, "pl-cesano")] == ["referral.received"]
    for _ in range(5):  # 45, 50, ... minutes: within the lead, every round
        clock.advance(minutes=5)
        notifier.step()
    assert [k for k, _ in _kinds(rete, "pl-cesano")] == [
        "referral.received",
        "deadline.approaching",
    ]
