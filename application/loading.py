"""Loading what a use case works on, with the authorisation that goes with it.

Commands load aggregates from the event store; reads load rows from the views.
Either way a case or a referral the actor's service may not see answers "not
found" (the rules are ``application.authorisation``'s).
"""

from __future__ import annotations

from uuid import UUID

from application.authorisation import require_sees_case, sees_referral
from application.context import Context
from application.errors import NotFound
from application.view_ports import CaseRows, ReferralRow
from domain.case import Case, case_id_for
from domain.network import Actor
from domain.referral import Referral
from domain.visibility import CaseAccess, access_of


def case_id(case_ref: str) -> UUID:
    """A case is named by its id or its reference code."""
    try:
        return UUID(case_ref)
    except ValueError:
        return case_id_for(case_ref)


class Loader:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def referrals_of(self, case: Case) -> list[Referral]:
        return [self.ctx.store.get(Referral, UUID(rid)) for rid in case.referrals]

    def case(self, case_ref: str) -> Case:
        """Load a case by id or reference code, whoever asks (authorise before showing it)."""
        try:
            return self.ctx.store.get(Case, case_id(case_ref))
        except NotFound:
            raise NotFound("no such case") from None

    def visible_case(self, actor: Actor, case_ref: str) -> tuple[Case, list[Referral], CaseAccess]:
        """Load a case the actor's service may see; any other answers "not found"."""
        case = self.case(case_ref)
        referrals = self.referrals_of(case)
        access = access_of(actor.service, case, referrals)
        require_sees_case(access)
        return case, referrals, access

    def case_rows(self, case_ref: str) -> CaseRows:
        """A case's rows in the views, whoever asks (authorise before showing them)."""
        rows = self.ctx.views.case(case_id(case_ref))
        if rows is None:
            raise NotFound("no such case")
        return rows

    def visible_rows(self, actor: Actor, case_ref: str) -> tuple[CaseRows, CaseAccess]:
        """A case's rows in the views, if the actor's service may see the case; any
        other answers "not found", as ``visible_case`` does."""
        rows = self.case_rows(case_ref)
        access = access_of(actor.service, rows, rows.referrals)
        require_sees_case(access)
        return rows, access

    def visible_referral_row(self, actor: Actor, referral_id: str) -> ReferralRow:
        """A referral's row, if the actor's service is its sender or its recipient."""
        try:
            row = self.ctx.views.referral(UUID(referral_id))
        except ValueError:
            row = None
        if row is None or not sees_referral(actor, row.sender_service, row.recipient_service):
            raise NotFound("no such referral")
        return row
