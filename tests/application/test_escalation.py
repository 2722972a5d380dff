"""Deadlines: a referral left unanswered is escalated once to both coordinators."""

from __future__ import annotations

from uuid import UUID

import pytest

from application.escalation import Escalations
from domain.errors import CoordinatorRequired
from domain.referral import Move, Referral


def escalations_of(rete, referral_id: str) -> list[str]:
    """The escalations stored for a referral, read from its events."""
    stored = rete.ctx.store.events.get(UUID(referral_id))
    return [e.deadline for e in stored if isinstance(e, Referral.Escalated)]


def test_an_unacknowledged_referral_escalates_once_however_often_the_policy_runs(
    rete, make_rete, people, clock, consented_case, send
) -> None:
    ref, _ = consented_case
    referral = send(rete, people.anna, ref, urgency="emergency")  # acknowledge within 1 h
    policy = Escalations(rete.ctx)
    clock.advance(minutes=59)
    assert policy.run() == 0  # not yet due
    clock.advance(minutes=2)
    assert policy.run() == 1
    assert policy.run() == 0
    # A restart: another instance on the same database runs the policy again.
    assert Escalations(make_rete().ctx).run() == 0
    assert escalations_of(rete, referral.id) == ["acknowledge"]


def test_each_deadline_escalates_once_acknowledged_late_then_unanswered(
    rete, people, clock, consented_case, send
) -> None:
    ref, _ = consented_case
    referral = send(rete, people.anna, ref, urgency="urgent")  # 24 h / 72 h
    policy = Escalations(rete.ctx)
    clock.advance(hours=25)
    assert policy.run() == 1
    rete.referrals.move(people.bea, referral.id, Move.ACKNOWLEDGE)
    clock.advance(hours=48)  # 73 h after sending: past the answer deadline
    assert policy.run() == 1
    assert policy.run() == 0
    assert escalations_of(rete, referral.id) == ["acknowledge", "answer"]


def test_an_answered_referral_never_escalates(rete, people, clock, consented_case, send) -> None:
    ref, _ = consented_case
    referral = send(rete, people.anna, ref, urgency="emergency")
    rete.referrals.move(people.bea, referral.id, Move.ACKNOWLEDGE)
    rete.referrals.move(people.bea, referral.id, Move.ACCEPT)
    clock.advance(days=30)
    assert Escalations(rete.ctx).run() == 0


def test_the_escalation_reaches_both_coordinators_who_may_then_expire_it(
    rete, people, clock, consented_case, send
) -> None:
    ref, _ = consented_case
    referral = send(rete, people.anna, ref, urgency="emergency")
    policy = Escalations(rete.ctx)
    assert policy.worklist(people.bruna) == []
    clock.advance(hours=2)
    policy.run()
    chiara = rete.ctx.identify("chiara", "cav-scirocco", ["coordinator"])
    assert [r.id for r in policy.worklist(people.bruna)] == [referral.id]  # recipient side
    assert [r.id for r in policy.worklist(chiara)] == [referral.id]  # sender side
    with pytest.raises(CoordinatorRequired):
        policy.worklist(people.bea)
    rete.referrals.move(people.bruna, referral.id, Move.EXPIRE)
    assert policy.worklist(people.bruna) == []
