"""Deadlines and escalation: a referral left unanswered past a deadline is escalated
once, to the coordinators of both services, who may then expire it.

The policy is idempotent: it can run every minute, on several workers, or again
after a crash, and each deadline of each referral escalates exactly once (the
referral's own events say whether it already did; two workers escalating at
once conflict, and the loser finds it done on its next run).
"""

from __future__ import annotations

from application.context import Context
from application.errors import Conflict
from application.presenting import referral_summary
from application.views import ReferralSummary
from domain.case import Case
from domain.entries import CaseStatus
from domain.network import Actor
from domain.referral import Referral
from domain.vocabulary import Role


class Escalations:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def run(self) -> int:
        """Escalate every referral past a deadline not yet escalated; returns how many."""
        escalated = 0
        for referral_id in self.ctx.store.ids_of(Referral):
            referral = self.ctx.store.get(Referral, referral_id)
            if referral.pending_deadline() is None:
                continue
            if not referral.escalate(self.ctx.clock.now()):
                continue
            try:
                self.ctx.store.save(referral)
            except Conflict:
                continue  # someone moved or escalated it meanwhile: the next run decides
            escalated += 1
        return escalated

    def worklist(self, actor: Actor) -> list[ReferralSummary]:
        """A coordinator's worklist: open referrals of the service, either side, that
        escalated, most overdue first."""
        actor.require(Role.COORDINATOR)
        at = self.ctx.clock.now()
        mine: list[tuple[Referral, Case]] = []
        for referral_id in self.ctx.store.ids_of(Referral):
            referral = self.ctx.store.get(Referral, referral_id)
            if not referral.escalations or referral.pending_deadline() is None:
                continue
            if actor.service.id not in (referral.sender_service, referral.recipient_service):
                continue
            case = self.ctx.store.get(Case, referral.case_id)
            if case.status != CaseStatus.ERASED:
                mine.append((referral, case))
        mine.sort(key=lambda pair: pair[0].due() or at)
        return [referral_summary(r, c, at) for r, c in mine]
