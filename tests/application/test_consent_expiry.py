"""Her consent expires: what relied on it is suspended, as when she withdraws it.

A withdrawal suspends in the same write; an expiry is a time passing, so a
periodic run records the suspension (``ConsentExpiries``), once, however often and
on however many workers it runs. Between the expiry and that run nothing moves
the referral on: the move itself finds the consent ended, by the clock.
"""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import pytest
from support.stories import record_consent, referral_to_the_police_on_its_own_consent
from test_concurrent_writers import race_desks

from application.consent_expiry import ConsentExpiries
from domain import errors
from domain.events import SystemEvent
from domain.referral import Move, Referral


def suspensions(rete, referral_id: str) -> list[Referral.Suspended]:
    events = rete.ctx.store.events.get(UUID(referral_id))
    return [e for e in events if isinstance(e, Referral.Suspended)]


@pytest.fixture
def expiring(rete, people, clock, send):
    """A case whose consent expires in a week, with an acknowledged referral relying
    on it: (reference code, consent id, referral, expiry time)."""
    ref = rete.cases.open(people.anna).reference_code
    rete.cases.add_note(people.anna, ref, "violence", "while she agreed")
    until = clock.at + timedelta(days=7)
    consent = record_consent(
        rete, people.anna, ref, purposes=["social_support", "shelter"], expires_at=until
    )
    referral = send(rete, people.anna, ref)
    rete.referrals.move(people.bea, referral.id, Move.ACKNOWLEDGE)
    return ref, consent.id, referral, until


def test_an_expired_consent_suspends_the_referrals_relying_on_it_once(
    rete, make_rete, people, clock, expiring, send
) -> None:
    ref, consent_id, relying, until = expiring
    accepted = send(rete, people.anna, ref, kind="shelter")
    rete.referrals.move(people.bea, accepted.id, Move.ACKNOWLEDGE)
    rete.referrals.move(people.bea, accepted.id, Move.ACCEPT)
    declined = send(rete, people.anna, ref, kind="shelter")
    rete.referrals.move(people.bea, declined.id, Move.DECLINE, reason="no shelter places")
    other = referral_to_the_police_on_its_own_consent(rete, people.anna, ref, send)

    clock.at = until - timedelta(seconds=1)
    assert rete.consent_expiries.run() == 0  # it still stands
    clock.at = until
    assert rete.consent_expiries.run() == 2
    assert rete.consent_expiries.run() == 0
    assert ConsentExpiries(make_rete().ctx).run() == 0  # a restart, or another worker

    # As a withdrawal leaves them: suspended, ended then, recorded by no one.
    restarted = make_rete()
    for referral in (relying, accepted):
        seen = restarted.referrals.get(people.bea, referral.id)
        assert (seen.status, seen.ended_at) == ("suspended", until)
        [suspended] = suspensions(restarted, referral.id)
        assert isinstance(suspended, SystemEvent)
        assert suspended.consent_id == consent_id
    assert restarted.referrals.get(people.bea, declined.id).status == "declined"
    assert restarted.referrals.get(people.paolo, other.id).status == "sent"
    inbox = restarted.referrals.list(people.bea, "inbox", status=["suspended"]).items
    assert sorted(r.id for r in inbox) == sorted([relying.id, accepted.id])

    # What the recipient may still do is what a withdrawal leaves her.
    clock.advance(hours=1)
    restarted.cases.add_note(people.anna, ref, "violence", "after it expired")
    assert [e.text for e in restarted.cases.get(people.bea, ref).entries] == ["while she agreed"]
    with pytest.raises(errors.InvalidTransition):
        restarted.referrals.move(people.bea, accepted.id, Move.COMPLETE)
    assert restarted.referrals.move(people.anna, relying.id, Move.WITHDRAW).status == "withdrawn"


def test_a_move_after_the_expiry_is_refused_before_the_run_has_passed(
    rete, make_rete, people, clock, expiring
) -> None:
    _, _, referral, until = expiring
    clock.at = until + timedelta(seconds=1)

    with pytest.raises(errors.InvalidTransition):
        rete.referrals.move(people.bea, referral.id, Move.ACCEPT)

    # The refusal kept the suspension it found; the run finds nothing left to do.
    restarted = make_rete()
    assert restarted.referrals.get(people.bea, referral.id).status == "suspended"
    assert restarted.consent_expiries.run() == 0
    assert len(suspensions(restarted, referral.id)) == 1


def test_the_sender_may_still_withdraw_a_referral_whose_consent_expired(
    rete, make_rete, people, clock, expiring
) -> None:
    _, _, referral, until = expiring
    clock.at = until + timedelta(hours=1)

    moved = rete.referrals.move(people.anna, referral.id, Move.WITHDRAW)

    assert moved.status == "withdrawn"
    events = make_rete().ctx.store.events.get(UUID(referral.id))
    assert [type(e).__name__ for e in events][-2:] == ["Suspended", "Moved"]


def test_two_workers_running_the_expiry_at_once_suspend_once(
    rete, make_rete, another_clock, people, clock, expiring
) -> None:
    _, _, referral, until = expiring
    clock.at = until + timedelta(minutes=1)

    outcomes = race_desks(make_rete, another_clock, 2, lambda desk: desk.consent_expiries.run())

    assert sorted(outcomes) == [0, 1]  # type: ignore[type-var]
    assert len(suspensions(make_rete(), referral.id)) == 1
