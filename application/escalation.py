"""Deadlines and escalation: a referral left unanswered past a deadline is escalated
once, to the coordinators of both services, who may then expire it.

The policy is idempotent: it can run every minute, on several workers, or again
after a crash, and each deadline of each referral escalates exactly once (the
referral's own events say whether it already did; two workers escalating at
once conflict, and the loser finds it done on its next run). The views only say
which referrals to look at; each one's aggregate decides.
"""

from __future__ import annotations

from application.authorisation import Action, authorise
from application.context import Context
from application.errors import Conflict
from application.presenting import CaseMark, referral_summary
from application.views import ReferralSummary
from domain.network import Actor
from domain.referral import Referral


class Escalations:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def run(self) -> int:
        """Escalate every referral past a deadline not yet escalated; returns how many."""
        at = self.ctx.clock.now()
        escalated = 0
        for row in self.ctx.views.overdue(at):
            if not row.unescalated(at):
                continue
            referral = self.ctx.store.get(Referral, row.id)
            if not referral.escalate(at):
                continue  # the views lagged behind a move or an escalation
            try:
                self.ctx.store.save(referral)
            except Conflict:
                continue  # someone moved or escalated it meanwhile: the next run decides
            escalated += 1
        return escalated

    def worklist(self, actor: Actor) -> list[ReferralSummary]:
        """A coordinator's worklist: open referrals of the service, either side, that
        escalated, most overdue first (cases erased since are left out)."""
        authorise(actor, Action.WORKLIST)
        at = self.ctx.clock.now()
        return [
            referral_summary(r, CaseMark.of_row(r), at)
            for r in self.ctx.views.worklist(actor.service.id)
        ]
