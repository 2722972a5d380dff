"""The observatory's facts read from the views: the source the statistics use.

The views keep each case and referral as non-personal rows (``ObservatoryFacts``);
here they become the observatory's facts, with services named by their kind, made
by ``facts.referral_fact`` from each referral's lifecycle as the events' facts are.
``StoreFacts`` folds the same facts from the events and stays as the reference the
tests hold this source to.
"""

from __future__ import annotations

from collections.abc import Sequence

from application.context import Context
from application.observatory.facts import CaseFact, ReferralFact, kind_in, referral_fact
from application.view_rows import CaseFact as CaseRowFact
from application.view_rows import ReferralFact as ReferralRowFact


class ViewFacts:
    """Implements ``FactSource`` over ``ViewReader.observatory_facts``."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def kind_of(self, service_id: str) -> str:
        return kind_in(self.ctx.directory, service_id)

    def referrals(self) -> Sequence[ReferralFact]:
        return [self._referral(r) for r in self.ctx.views.observatory_facts().referrals]

    def cases(self) -> Sequence[CaseFact]:
        return [self._case(c) for c in self.ctx.views.observatory_facts().cases]

    def _referral(self, r: ReferralRowFact) -> ReferralFact:
        return referral_fact(
            r.kind,
            r.urgency,
            self.kind_of(r.sender_service),
            self.kind_of(r.recipient_service),
            r.lifecycle,
        )

    def _case(self, c: CaseRowFact) -> CaseFact:
        return CaseFact(c.opened_at, self.kind_of(c.owner_service), c.status)
