"""She withdraws her consent: what relied on it stops, in the same write."""

from __future__ import annotations

from datetime import timedelta

import pytest
from support.stories import record_consent, referral_to_the_police_on_its_own_consent

from application.errors import Conflict, NotWorkingOnCase
from domain import errors
from domain.referral import Move


def notifications(rete):
    return rete.ctx.store.recorder.select_notifications(start=1, limit=1000)


def test_consent_withdrawal_suspends_the_open_referral_in_the_same_write(
    rete, make_rete, people, clock, consented_case, send
) -> None:
    ref, consent_id = consented_case
    relying = send(rete, people.anna, ref)
    rete.referrals.move(people.bea, relying.id, Move.ACKNOWLEDGE)
    declined = send(rete, people.anna, ref, kind="shelter")
    rete.referrals.move(people.bea, declined.id, Move.DECLINE, reason="no shelter places")
    other = referral_to_the_police_on_its_own_consent(rete, people.anna, ref, send)
    before = notifications(rete)

    clock.advance(hours=2)
    withdrawn = rete.cases.withdraw_consent(people.anna, ref, consent_id)
    assert (withdrawn.active, withdrawn.withdrawn_at) == (False, clock.at)

    # One write: the case's withdrawal and the referral's suspension, back to back.
    written = notifications(rete)[len(before) :]
    assert [n.topic.rsplit(".", 1)[1] for n in written] == ["ConsentWithdrawn", "Suspended"]
    assert [n.id for n in written] == [before[-1].id + 1, before[-1].id + 2]
    assert str(written[1].originator_id) == relying.id

    # Seen from a freshly started instance, so this is what was stored.
    later = make_rete()
    assert later.referrals.get(people.bea, relying.id).status == "suspended"
    assert later.referrals.get(people.bea, relying.id).ended_at == clock.at
    assert later.referrals.get(people.bea, declined.id).status == "declined"
    assert later.referrals.get(people.paolo, other.id).status == "sent"


def test_after_withdrawal_nothing_new_reaches_the_recipient(
    rete, people, clock, acknowledged, send
) -> None:
    ref, consent_id, referral = acknowledged
    rete.referrals.move(people.bea, referral.id, Move.ACCEPT)
    clock.advance(hours=1)
    rete.cases.withdraw_consent(people.anna, ref, consent_id)
    clock.advance(hours=1)
    rete.cases.add_note(people.anna, ref, "identity", "her new address")

    assert [e.text for e in rete.cases.get(people.bea, ref).entries] == ["what she told us"]
    with pytest.raises(NotWorkingOnCase):
        rete.cases.add_note(people.bea, ref, "identity", "we found her a flat")
    with pytest.raises(errors.NoCoveringConsent):
        send(rete, people.anna, ref)
    with pytest.raises(errors.InvalidTransition):
        rete.referrals.move(people.bea, referral.id, Move.COMPLETE)


def test_a_referral_racing_a_withdrawal_of_its_consent_is_refused(
    rete, make_rete, people, consented_case, send
) -> None:
    ref, consent_id = consented_case
    other_desk = make_rete()  # another worker process, on the same database
    count = len(notifications(rete))

    # While the referral is being sent, the owner withdraws the consent elsewhere.
    rete.ctx.clock.meanwhile(
        lambda: other_desk.cases.withdraw_consent(people.anna, ref, consent_id)
    )
    with pytest.raises(Conflict):
        send(rete, people.anna, ref)
    assert len(notifications(rete)) == count + 1  # only the withdrawal was written
    assert rete.cases.get(people.anna, ref).referrals == []
    with pytest.raises(errors.NoCoveringConsent):  # retried on fresh state
        send(rete, people.anna, ref)


def test_a_withdrawal_racing_a_new_referral_suspends_it_on_retry(
    rete, people, consented_case, refer_meanwhile
) -> None:
    ref, consent_id = consented_case
    sent = refer_meanwhile(ref)
    with pytest.raises(Conflict):
        rete.cases.withdraw_consent(people.anna, ref, consent_id)
    [referral] = sent
    assert rete.referrals.get(people.bea, referral.id).status == "sent"
    rete.cases.withdraw_consent(people.anna, ref, consent_id)
    assert rete.referrals.get(people.bea, referral.id).status == "suspended"


def test_once_her_consent_expires_nothing_new_goes_through(
    rete, make_rete, people, clock, send
) -> None:
    ref = rete.cases.open(people.anna).reference_code
    rete.cases.add_note(people.anna, ref, "violence", "while she agreed")
    until = clock.at + timedelta(days=7)
    record_consent(rete, people.anna, ref, expires_at=until)
    referral = send(rete, people.anna, ref)
    rete.referrals.move(people.bea, referral.id, Move.ACKNOWLEDGE)
    clock.advance(days=8)
    rete.cases.add_note(people.anna, ref, "violence", "after it expired")

    restarted = make_rete()
    [consent] = restarted.cases.get(people.anna, ref).consents
    assert (consent.expires_at, consent.active) == (until, False)
    assert [e.text for e in restarted.cases.get(people.bea, ref).entries] == ["while she agreed"]
    with pytest.raises(errors.NoCoveringConsent):
        send(restarted, people.anna, ref)
