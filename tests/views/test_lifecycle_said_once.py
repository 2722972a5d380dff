"""The referral's lifecycle is said once (issue 9, done-when 1).

One rule is changed in one place, and every reader of a referral's standing
follows it: the aggregate (what it is due, whether a coordinator may expire it),
the views (its row's ``due``, the inbox's ``overdue``), the escalation policy's
candidates and the coordinators' worklist, and the observatory's facts, from the
views and from the events alike. Changed here: the deadline policy's emergency
acknowledgement (given to the application as a network would configure it), and
the lifecycle's own rule of which deadline is owed (``Lifecycle.pending``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from uuid import UUID

import pytest
from support.clock import TestClock
from views_support import actor

from application.escalation import Escalations
from application.observatory.facts import StoreFacts
from application.observatory.view_facts import ViewFacts
from application.rete import Rete
from domain import errors
from domain.deadlines import DeadlinePolicy
from domain.referral import Move, Referral, ReferralStatus
from domain.referral_lifecycle import Deadline, Lifecycle
from domain.vocabulary import Urgency

WAITED = timedelta(hours=2)  # since it was sent, when every reader is asked


def domain_md_policy(monkeypatch: pytest.MonkeyPatch) -> DeadlinePolicy:
    return DeadlinePolicy()  # an emergency is acknowledged within one hour


def slower_emergencies(monkeypatch: pytest.MonkeyPatch) -> DeadlinePolicy:
    limits = dict(DeadlinePolicy().limits)
    limits[Urgency.EMERGENCY] = (timedelta(hours=3), limits[Urgency.EMERGENCY][1])
    return DeadlinePolicy(limits)


def acknowledgement_due_with_the_answer(monkeypatch: pytest.MonkeyPatch) -> DeadlinePolicy:
    def pending(self: Lifecycle) -> tuple[Deadline, datetime] | None:
        if self.status == ReferralStatus.SENT:
            return Deadline.ACKNOWLEDGE, self.answer_by
        if self.status == ReferralStatus.ACKNOWLEDGED:
            return Deadline.ANSWER, self.answer_by
        return None

    monkeypatch.setattr(Lifecycle, "pending", pending)
    return DeadlinePolicy()


@dataclass(frozen=True)
class Change:
    make: Callable[[pytest.MonkeyPatch], DeadlinePolicy]
    due_after: timedelta  # since it was sent: what the emergency referral is due by


CHANGES = {
    "as DOMAIN.md says": Change(domain_md_policy, timedelta(hours=1)),
    "policy: emergencies acknowledged within 3 hours": Change(
        slower_emergencies, timedelta(hours=3)
    ),
    "rule: acknowledgement due with the answer": Change(
        acknowledgement_due_with_the_answer, timedelta(hours=4)
    ),
}


@dataclass(frozen=True)
class Readings:
    """What every reader says of the referral, ``WAITED`` after it was sent."""

    aggregate_due: datetime | None
    aggregate_overdue: bool
    row_due: datetime | None
    inbox_overdue: bool
    escalation_candidates: list[UUID]
    escalated: int
    worklist: list[str]
    expired: bool
    outcome_from_views: ReferralStatus
    outcome_from_events: ReferralStatus


def emergency_referral(rete: Rete) -> str:
    cav = actor(rete, "cav-scirocco")
    ref = rete.cases.open(cav).reference_code
    rete.cases.record_consent(
        cav,
        ref,
        recipient_kinds=["police"],
        recipient_services=[],
        purposes=["protection_measures"],
        categories_=["identity", "safety"],
        expires_at=None,
    )
    return rete.referrals.refer(
        cav,
        ref,
        recipient_service="pl-cesano",
        kind="protection_measures",
        urgency="emergency",
        reason="he waits outside",
        scope=["identity", "safety"],
        legal_basis="consent",
    ).id


def read_everything(rete: Rete, referral_id: str, at: datetime) -> Readings:
    ctx = rete.ctx
    referral = ctx.store.get(Referral, UUID(referral_id))
    row = ctx.views.referral(UUID(referral_id))
    assert row is not None
    inbox = rete.referrals.list(actor(rete, "pl-cesano"), "inbox").items
    candidates = [r.id for r in ctx.views.overdue(at)]  # the views' own "due" column
    escalations = Escalations(ctx)
    escalated = escalations.run()
    coordinator = actor(rete, "cav-scirocco", "coordinator")
    worklist = [r.id for r in escalations.worklist(coordinator)]
    try:
        rete.referrals.move(coordinator, referral_id, Move.EXPIRE)
        expired = True
    except errors.DeadlineNotPassed:
        expired = False
    (from_views,) = ViewFacts(ctx).referrals()
    (from_events,) = StoreFacts(ctx).referrals()
    return Readings(
        aggregate_due=referral.due(),
        aggregate_overdue=referral.overdue(at),
        row_due=row.due(),
        inbox_overdue=inbox[0].overdue,
        escalation_candidates=candidates,
        escalated=escalated,
        worklist=worklist,
        expired=expired,
        outcome_from_views=from_views.outcome,
        outcome_from_events=from_events.outcome,
    )


@pytest.mark.parametrize("change", CHANGES.values(), ids=list(CHANGES))
def test_a_lifecycle_rule_changed_once_moves_every_reader(
    rete: Rete, clock: TestClock, monkeypatch: pytest.MonkeyPatch, change: Change
) -> None:
    network = Rete(replace(rete.ctx, deadlines=change.make(monkeypatch)))
    sent_at = clock.now()
    referral_id = emergency_referral(network)
    clock.advance(seconds=WAITED.total_seconds())

    seen = read_everything(network, referral_id, clock.now())

    due = sent_at + change.due_after
    late = change.due_after < WAITED
    outcome = ReferralStatus.EXPIRED if late else ReferralStatus.SENT
    assert seen == Readings(
        aggregate_due=due,
        aggregate_overdue=late,
        row_due=due,
        inbox_overdue=late,
        escalation_candidates=[UUID(referral_id)] if late else [],
        escalated=1 if late else 0,
        worklist=[referral_id] if late else [],
        expired=late,
        outcome_from_views=outcome,
        outcome_from_events=outcome,
    )
