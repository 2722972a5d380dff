"""The facts are read from the events, non-personal, and survive erasure."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from support.http import Api

from api.demo import load_demo
from application.observatory.facts import StoreFacts
from application.observatory.monthly import by_month
from application.observatory.view_facts import ViewFacts
from domain.entries import CaseStatus
from domain.network import Actor
from domain.referral import ReferralStatus as S
from domain.vocabulary import ReferralKind, Role, Urgency


def test_the_demo_story_gives_one_fact_per_referral_and_case(api: Api) -> None:
    load_demo(api.rete)
    facts = StoreFacts(api.rete.ctx)
    referrals, cases = facts.referrals(), facts.cases()
    assert len(referrals) == 18 and len(cases) == 7
    assert {c.owner_kind for c in cases} == {
        "cav",
        "school",
        "health",
        "police",
        "social_services",
        "employment",
    }
    assert all(c.status == CaseStatus.OPEN for c in cases)
    # The night emergency nobody answered, then expired.
    night = [r for r in referrals if r.urgency == Urgency.EMERGENCY]
    assert len(night) == 1 and night[0].outcome == S.EXPIRED
    assert night[0].hours_to_acknowledge is None and night[0].hours_to_answer is None
    # The first health assessment: sent day 0 at 11:00, acknowledged day 1 at 08:40,
    # accepted at 10:00.
    health = next(
        r
        for r in referrals
        if r.kind == ReferralKind.HEALTH_ASSESSMENT and r.outcome == S.COMPLETED
    )
    assert health.hours_to_acknowledge == 21 + 40 / 60
    assert health.hours_to_answer == 23.0
    # Only kinds, dates, urgency, status and durations: nothing else is kept.
    assert {f.name for f in dataclasses.fields(referrals[0])} == {
        "sent_at",
        "kind",
        "sender_kind",
        "recipient_kind",
        "urgency",
        "outcome",
        "hours_to_acknowledge",
        "hours_to_answer",
    }
    assert all(r.sent_at < datetime(2026, 3, 2, tzinfo=UTC) for r in referrals)


def test_an_erased_case_keeps_its_facts(api: Api) -> None:
    lines = load_demo(api.rete)
    before = StoreFacts(api.rete.ctx)
    referrals, cases = before.referrals(), before.cases()
    ref = next(line.split()[2] for line in lines if "opened by cav-scirocco" in line)
    response = api.post("chiara", f"/api/v1/cases/{ref}/erasure", json={"reason": "her request"})
    assert response.status_code == 200, response.text
    after = StoreFacts(api.rete.ctx)
    assert after.referrals() == referrals
    changed = [(b, a) for b, a in zip(cases, after.cases(), strict=True) if a != b]
    assert len(changed) == 1 and changed[0][1] == dataclasses.replace(
        changed[0][0], status=CaseStatus.ERASED
    )


def test_the_statistics_read_from_the_views_the_facts_the_events_give(api: Api) -> None:
    """The observatory counts from the views; folded from the events, the facts are
    the same, before and after an erasure."""
    lines = load_demo(api.rete)
    assert ViewFacts(api.rete.ctx).referrals() == StoreFacts(api.rete.ctx).referrals()
    assert ViewFacts(api.rete.ctx).cases() == StoreFacts(api.rete.ctx).cases()
    ref = next(line.split()[2] for line in lines if "opened by cav-scirocco" in line)
    response = api.post("chiara", f"/api/v1/cases/{ref}/erasure", json={"reason": "her request"})
    assert response.status_code == 200, response.text
    from_views = ViewFacts(api.rete.ctx)
    assert from_views.cases() == StoreFacts(api.rete.ctx).cases()
    assert CaseStatus.ERASED in {c.status for c in from_views.cases()}


def test_a_publication_counts_the_facts_the_events_give(api: Api) -> None:
    """February, the demo's month, is published from the log: the same tables as
    its facts folded from the events give (nothing happened to them after it)."""
    load_demo(api.rete)
    facts = StoreFacts(api.rete.ctx)
    analyst = Actor(
        "oli", api.rete.ctx.directory.service("osservatorio"), frozenset({Role.ANALYST})
    )
    assert api.rete.observatory.publish(analyst) == ["2026-02"]
    assert api.rete.observatory.published() == by_month(facts.referrals(), facts.cases())
