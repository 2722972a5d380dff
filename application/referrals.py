"""Use cases on referrals: refer, move along the lifecycle, read one, list a box."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from application.access_log import IN_PROCESS, record_read, referral_categories
from application.context import Context
from application.pagination import page
from application.presenting import referral_summary, referral_view
from application.views import ReferralPage, ReferralSummary, ReferralView
from domain import errors
from domain.case import Case
from domain.entries import CaseStatus
from domain.network import Actor
from domain.referral import Move, Referral, ReferralStatus, referral_kind
from domain.vocabulary import LegalBasis, Role, Urgency, categories, parse

_URGENCY_ORDER = {Urgency.EMERGENCY: 0, Urgency.URGENT: 1, Urgency.ROUTINE: 2}


class Box(StrEnum):
    INBOX = "inbox"
    OUTBOX = "outbox"


class UnknownBox(errors.InvalidValue):
    code = "unknown-box"
    title = "Unknown box"


class UnknownStatus(errors.InvalidValue):
    code = "unknown-status"
    title = "Unknown referral status"


class Referrals:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def refer(
        self,
        actor: Actor,
        case_ref: str,
        *,
        recipient_service: str,
        kind: str,
        urgency: str,
        reason: str,
        scope: list[str],
        legal_basis: str,
        consent_id: str | None = None,
        statute: str | None = None,
        justification: str | None = None,
    ) -> ReferralView:
        case, _, access = self.ctx.visible_case(actor, case_ref)
        at = self.ctx.clock.now()
        referral = Referral.send(
            case=case,
            sender_sees=access.categories_at(at),
            recipient=self.ctx.directory.service(recipient_service),
            kind=referral_kind(kind),
            urgency=parse(Urgency, urgency, errors.UnknownUrgency),
            reason=reason,
            scope=categories(scope),
            legal_basis=parse(LegalBasis, legal_basis, errors.UnknownLegalBasis),
            consent_id=consent_id,
            statute=statute,
            justification=justification,
            deadlines=self.ctx.deadlines,
            by=actor,
            at=at,
        )
        # One append: the case learns of the referral in the same transaction, so a
        # consent withdrawn at the same moment either sees it or makes this conflict.
        self.ctx.store.save(referral, case)
        return referral_view(referral, case, at)

    def move(
        self, actor: Actor, referral_id: str, move: Move, reason: str | None = None
    ) -> ReferralSummary:
        """Move a referral on. The answer is its summary: moving it is not reading
        its reason (open the referral for that, and the read is logged)."""
        referral = self.ctx.visible_referral(actor, referral_id)
        case = self.ctx.store.get(Case, referral.case_id)
        if case.status == CaseStatus.ERASED:
            raise errors.CaseErased("the case of this referral has been erased")
        at = self.ctx.clock.now()
        referral.move(move, actor, at, reason)
        self.ctx.store.save(referral)
        return referral_summary(referral, case, at)

    def get(self, actor: Actor, referral_id: str, *, via: str = IN_PROCESS) -> ReferralView:
        """One referral, with its reason: the read goes in its case's access log."""
        actor.require(Role.CASEWORKER, Role.COORDINATOR)
        referral = self.ctx.visible_referral(actor, referral_id)
        case = self.ctx.store.get(Case, referral.case_id)
        view = referral_view(referral, case, self.ctx.clock.now())
        record_read(self.ctx, actor, case.id, referral_categories(view), via)
        return view

    def list(
        self,
        actor: Actor,
        box: str,
        status: list[str] | None = None,
        cursor: str | None = None,
        limit: int = 50,
    ) -> ReferralPage:
        """A service's inbox or outbox: most urgent first, then most overdue, then oldest.
        Items are summaries without personal fields: listing is not reading her data."""
        actor.require(Role.CASEWORKER, Role.COORDINATOR)
        which = parse(Box, box, UnknownBox)
        wanted = {parse(ReferralStatus, s, UnknownStatus) for s in status or []}
        at = self.ctx.clock.now()
        mine = []
        for referral_id in self.ctx.store.ids_of(Referral):
            referral = self.ctx.store.get(Referral, referral_id)
            side = referral.recipient_service if which is Box.INBOX else referral.sender_service
            if side == actor.service.id and (not wanted or referral.status in wanted):
                mine.append(referral)
        mine.sort(key=lambda r: _priority(r, at))
        items, next_cursor = page(mine, cursor, limit)
        cases: dict[object, Case] = {}
        views = []
        for r in items:
            case = cases.get(r.case_id) or self.ctx.store.get(Case, r.case_id)
            cases[r.case_id] = case
            views.append(referral_summary(r, case, at))
        return ReferralPage(views, next_cursor)


def _priority(referral: Referral, at: datetime) -> tuple[int, int, float, datetime]:
    """Open before ended; then by urgency; then the most overdue; then the oldest."""
    due = referral.due()
    return (
        0 if referral.is_active else 1,
        _URGENCY_ORDER[referral.urgency],
        -(at - due).total_seconds() if due is not None else 0.0,
        referral.sent_at,
    )
