"""Use cases on referrals: refer, move along the lifecycle, read one, list a box."""

from __future__ import annotations

from contextlib import suppress
from typing import Unpack

from application.access_log import IN_PROCESS, record_read, referral_categories
from application.authorisation import Action, authorise
from application.consent_expiry import lapsed, lapsed_under
from application.context import Context
from application.errors import Conflict
from application.list_filters import ListWords, UnknownStatus, referral_filter
from application.loading import Loader
from application.pagination import Cursors, check_limit
from application.presenting import CaseMark, referral_summary, referral_view, referral_view_of
from application.view_ports import Box, PageAsk
from application.views import ReferralPage, ReferralSummary, ReferralView
from domain import errors
from domain.entries import CaseStatus
from domain.erased import ERASED
from domain.network import Actor
from domain.referral import Move, Referral, referral_kind
from domain.vocabulary import LegalBasis, Urgency, categories, parse


class UnknownBox(errors.InvalidValue):
    code = "unknown-box"
    title = "Unknown box"


__all__ = ["Referrals", "UnknownBox", "UnknownStatus"]


class Referrals:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.load = Loader(ctx)

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
        case, _, access = self.load.visible_case(actor, case_ref)
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
        return referral_view(
            referral, CaseMark.of_case(case), at, referral.reason, referral.justification
        )

    def move(
        self, actor: Actor, referral_id: str, move: Move, reason: str | None = None
    ) -> ReferralSummary:
        """Move a referral on. The answer is its summary: moving it is not reading
        its reason (open the referral for that, and the read is logged)."""
        row, consent = self.load.visible_referral_relying(actor, referral_id)
        if row.case_status == CaseStatus.ERASED:
            raise errors.CaseErased("the case of this referral has been erased")
        referral = self.ctx.store.get(Referral, row.id)
        at = self.ctx.clock.now()
        # A consent that expired since the last expiry run suspends the referral
        # now, so the move is judged as it would be once the run has passed. Its
        # terms were read with the row, from caught-up views: no second read.
        if (None if consent is None else consent.id) == referral.consent_id:
            suspended = lapsed_under(referral, consent, at)
        else:  # the row does not name the referral's consent (never so): read it alone
            suspended = lapsed(self.ctx, referral, at, caught_up=False)
        try:
            referral.move(move, actor, at, reason)
        except errors.DomainError:
            if suspended:
                self._save_suspension(referral)
            raise
        self.ctx.store.save(referral)
        return referral_summary(referral, CaseMark.of_row(row), at)

    def _save_suspension(self, referral: Referral) -> None:
        """Keep the suspension found while refusing a move (the expiry run would
        record it anyway; if someone got there first, that run decides)."""
        with suppress(Conflict):
            self.ctx.store.save(referral)

    def get(self, actor: Actor, referral_id: str, *, via: str = IN_PROCESS) -> ReferralView:
        """One referral, with its reason: the read goes in its case's access log."""
        authorise(actor, Action.WORK_CASES)
        row = self.load.visible_referral_row(actor, referral_id)
        case = CaseMark.of_row(row)
        opened = ERASED if case.erased else self.ctx.parts.open(row.sealed)
        view = referral_view_of(row, opened, self.ctx.clock.now())
        record_read(self.ctx, actor, row.case_id, referral_categories(view), via)
        return view

    def list(
        self,
        actor: Actor,
        box: str,
        status: list[str] | None = None,
        cursor: str | None = None,
        limit: int = 50,
        **words: Unpack[ListWords],
    ) -> ReferralPage:
        """A service's inbox or outbox, filtered (``application.list_filters``): the
        most urgent first, then in the order they were sent (the oldest, so the most
        overdue, first). Items are summaries without personal fields: listing is not
        reading her data."""
        authorise(actor, Action.WORK_CASES)
        which = parse(Box, box, UnknownBox)
        where = referral_filter(self.ctx.directory, status, words)
        scope = f"{which.value}:{actor.service.id}:{where.fingerprint()}"
        cursors = Cursors(self.ctx.cursor_secret)
        ask = PageAsk(cursors.open(scope, cursor), check_limit(limit))
        at = self.ctx.clock.now()
        found = self.ctx.views.box(which, actor.service.id, at, where, ask)
        items = [referral_summary(r, CaseMark.of_row(r), at) for r in found.items]
        return ReferralPage(items, cursors.seal(scope, found.after))
