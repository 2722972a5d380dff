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
from application.presenting import CaseMark, referral_summary
from application.system_moves import move_each
from application.views import ReferralSummary
from domain.network import Actor


class Escalations:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def run(self) -> int:
        """Escalate every referral past a deadline not yet escalated; returns how many."""
        at = self.ctx.clock.now()
        due = (row.id for row in self.ctx.views.overdue(at) if row.unescalated(at))
        # ``escalate`` is False when the views lagged behind a move or an escalation.
        return move_each(self.ctx, due, lambda referral: referral.escalate(at))

    def worklist(self, actor: Actor) -> list[ReferralSummary]:
        """A coordinator's worklist: open referrals of the service, either side, that
        escalated, most overdue first (cases erased since are left out)."""
        authorise(actor, Action.WORKLIST)
        at = self.ctx.clock.now()
        return [
            referral_summary(r, CaseMark.of_row(r), at)
            for r in self.ctx.views.worklist(actor.service.id)
        ]
