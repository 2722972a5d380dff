"""Webhooks: an emergency referral reaches the police's endpoint signed, carrying
nothing of her; receivers verify it with the Standard Webhooks algorithm."""

from __future__ import annotations

from types import SimpleNamespace

from notify_support import notifier_of, subscribe
from support.stories import refer_to_protect
from webhook_receiver import Receiver, kinds_of

from application.rete import Rete
from domain.referral import Move

NAME = "Graziella Pantaleoni-Vigevano"
NOTE = "lives above the pharmacy in via Roma 14"
REASON = "her ex-partner Ettore Brambillasca threatened her with a knife"
JUSTIFICATION = "immediate danger reported by Graziella herself"


def test_an_emergency_referral_reaches_the_police_signed_and_without_her_data(
    rete: Rete, people: SimpleNamespace, police: SimpleNamespace, receiver: Receiver
) -> None:
    subscribe(rete, police.pia, receiver)
    case = rete.cases.open(people.anna)
    rete.cases.add_note(people.anna, case.reference_code, "identity", f"{NAME}, {NOTE}")
    referral = refer_to_protect(rete, people.chiara, case.reference_code, REASON, JUSTIFICATION)

    notifier_of(rete).step()

    assert receiver.refused == 0
    [payload] = receiver.payloads()
    assert payload["type"] == "referral.received"
    data = payload["data"]
    assert data["referral_id"] == referral.id
    assert data["service"] == "pl-cesano"
    assert data["urgency"] == "emergency"
    assert data["case_ref"] == case.reference_code
    assert data["link"] == f"/api/v1/referrals/{referral.id}"
    assert data["deadline"] is not None
    raw = receiver.raw()
    for planted in (NAME, "Graziella", NOTE, "Brambillasca", "knife", JUSTIFICATION):
        assert planted not in raw


def test_each_move_is_announced_to_the_other_side_once(
    rete: Rete, people: SimpleNamespace, police: SimpleNamespace, receiver: Receiver
) -> None:
    subscribe(rete, people.chiara, receiver)
    case = rete.cases.open(people.anna)
    referral = refer_to_protect(rete, people.chiara, case.reference_code, REASON, JUSTIFICATION)
    rete.referrals.move(police.paolo, referral.id, Move.ACKNOWLEDGE)
    rete.referrals.move(police.paolo, referral.id, Move.ACCEPT)
    notifier = notifier_of(rete)

    notifier.step()
    notifier.step()  # again: nothing new to announce, nothing sent twice

    assert kinds_of(receiver) == ["referral.acknowledged", "referral.accepted"]
    assert len(set(receiver.ids())) == 2


def test_a_rotated_secret_signs_beside_the_old_one_during_the_overlap(
    rete: Rete, people: SimpleNamespace, police: SimpleNamespace, receiver: Receiver
) -> None:
    subscription = subscribe(rete, police.pia, receiver)
    old = receiver.secrets[0]
    rotated = rete.notifications.rotate(police.pia, subscription)
    # A receiver that still knows only the old secret verifies, as one that knows the new.
    receiver.secrets[:] = [old]
    case = rete.cases.open(people.anna)
    refer_to_protect(rete, people.chiara, case.reference_code, REASON, JUSTIFICATION)
    notifier_of(rete).step()
    assert receiver.refused == 0 and len(receiver.received) == 1
    assert rotated.secret != old

    receiver.secrets[:] = [rotated.secret]
    refer_to_protect(rete, people.chiara, case.reference_code, REASON, JUSTIFICATION)
    notifier_of(rete).step()
    assert receiver.refused == 0 and len(receiver.received) == 2


def test_a_subscription_gets_what_happens_after_it_not_before(
    rete: Rete, people: SimpleNamespace, police: SimpleNamespace, receiver: Receiver
) -> None:
    case = rete.cases.open(people.anna)
    before = refer_to_protect(rete, people.chiara, case.reference_code, REASON, JUSTIFICATION)
    subscribe(rete, police.pia, receiver)  # read by the worker in the same batch
    after = refer_to_protect(rete, people.chiara, case.reference_code, REASON, JUSTIFICATION)
    notifier_of(rete).step()
    assert [p["data"]["referral_id"] for p in receiver.payloads()] == [after.id]
    assert before.id != after.id
