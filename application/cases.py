"""Use cases on cases: open, write entries, consent, risk, legal hold, erasure, read."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Unpack
from uuid import UUID

from application.access_log import IN_PROCESS, case_categories, record_read
from application.authorisation import Action, authorise, require_works_on
from application.context import Context
from application.errors import Conflict, NotFound
from application.list_filters import ListWords, case_filter
from application.loading import CaseReferrals, Loader
from application.pagination import Cursors, check_limit
from application.ports import case_scope
from application.presenting import (
    assessment_view,
    case_row,
    case_summary,
    case_view,
    consent_view,
    entry_view,
)
from application.view_ports import PageAsk
from application.view_rows import CaseRow, CaseRows
from application.views import (
    CasePage,
    CaseSummary,
    CaseView,
    ConsentView,
    EntryView,
    RiskAssessmentView,
)
from application.visible_version import sees_everything, visible_version
from domain import errors
from domain.case import Case
from domain.entries import CaseStatus
from domain.network import Actor
from domain.reference import new_reference
from domain.risk import RiskLevel
from domain.visibility import CaseAccess, access_of, owner_access
from domain.vocabulary import Category, ReferralKind, ServiceKind, categories, parse

# An opening conflicts only when its random code is already taken (one draw in
# thousands at the largest network's scale, ``domain.reference``): the next draws
# get through; eight taken codes in a row do not happen.
_OPEN_ATTEMPTS = 8


class Cases:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.load = Loader(ctx)
        # Draws a reference code for (network, year); tests draw taken codes with it.
        self.draw_code: Callable[[str, int], str] = new_reference

    # -- commands -----------------------------------------------------------

    def open(self, actor: Actor) -> CaseView:
        """Open a case for the actor's service, under a reference code drawn at random.

        The case's id follows from its code, so a code already taken conflicts on
        the new case's first event, and the opening draws another."""
        for _ in range(_OPEN_ATTEMPTS):
            at = self.ctx.clock.now()
            case = Case.open(self.draw_code(self.ctx.directory.code, at.year), actor, at)
            try:
                self.ctx.store.save(case)
            except Conflict:
                if not self._written_by_this_opening(case):
                    continue
            self.load.opened(case)
            # A new case holds nothing personal yet: its answer needs no read.
            rows = CaseRows(case_row(case), entries=[], referrals=[], consents={}, assessments=[])
            return case_view(rows, access_of(actor.service, case, []), self.ctx.parts.open, at)
        raise Conflict("every reference code drawn was taken; try again")

    def add_note(self, actor: Actor, case_ref: str, category: str, text: str) -> EntryView:
        case, _, _ = self._workable(actor, case_ref)
        entry = case.add_note(
            parse(Category, category, errors.UnknownCategory), text, actor, self.ctx.clock.now()
        )
        self.ctx.store.save(case)
        return entry_view(entry)

    def record_consent(
        self,
        actor: Actor,
        case_ref: str,
        *,
        recipient_kinds: list[str],
        recipient_services: list[str],
        purposes: list[str],
        categories_: list[str],
        expires_at: datetime | None,
    ) -> ConsentView:
        case, _, _ = self.load.visible_case(actor, case_ref)
        if expires_at is not None and expires_at.utcoffset() is None:
            raise errors.NaiveDatetime("expires_at needs a time zone, e.g. 2027-01-31T23:59:00Z")
        for service_id in recipient_services:
            self.ctx.directory.service(service_id)
        at = self.ctx.clock.now()
        consent = case.record_consent(
            recipient_kinds=frozenset(
                parse(ServiceKind, k, errors.UnknownServiceKind) for k in recipient_kinds
            ),
            recipient_services=frozenset(recipient_services),
            purposes=frozenset(
                parse(ReferralKind, p, errors.UnknownReferralKind) for p in purposes
            ),
            categories=categories(categories_),
            expires_at=expires_at,
            by=actor,
            at=at,
        )
        self.ctx.store.save(case)
        return consent_view(consent, at)

    def withdraw_consent(self, actor: Actor, case_ref: str, consent_id: str) -> ConsentView:
        """Withdraw a consent and, in the same write, suspend every open referral on it."""
        case, referrals, _ = self.load.visible_case(actor, case_ref)
        # Read with the case, before the moment of the write: what the withdrawal
        # suspends is the referrals as they stood then, and a move made on one since
        # makes the save conflict rather than pass unseen.
        loaded = referrals.all()
        at = self.ctx.clock.now()
        relying = set(case.withdraw_consent(consent_id, actor, at))
        suspended = [r for r in loaded if str(r.id) in relying]
        for referral in suspended:
            referral.suspend(consent_id, at)
        self.ctx.store.save(case, *suspended)
        return consent_view(case.consents[consent_id], at)

    def assess_risk(
        self,
        actor: Actor,
        case_ref: str,
        instrument_id: str,
        answers: Mapping[str, bool],
        judgement: str | None,
        justification: str | None,
    ) -> RiskAssessmentView:
        case, _, _ = self._workable(actor, case_ref)
        level = parse(RiskLevel, judgement, errors.UnknownRiskLevel) if judgement else None
        a = case.assess_risk(
            self.ctx.instrument(instrument_id),
            answers,
            level,
            justification,
            actor,
            self.ctx.clock.now(),
        )
        self.ctx.store.save(case)
        return assessment_view(a)

    # Holding, lifting and closing answer with the case's summary: they read nothing
    # personal, so they leave no entry in the access log.

    def place_legal_hold(self, actor: Actor, case_ref: str, reason: str) -> CaseSummary:
        case, _, _ = self.load.visible_case(actor, case_ref)
        case.place_legal_hold(reason, actor, self.ctx.clock.now())
        self.ctx.store.save(case)
        return self._summary(actor, case.id)

    def lift_legal_hold(self, actor: Actor, case_ref: str) -> CaseSummary:
        case, _, _ = self.load.visible_case(actor, case_ref)
        case.lift_legal_hold(actor, self.ctx.clock.now())
        self.ctx.store.save(case)
        return self._summary(actor, case.id)

    def close(self, actor: Actor, case_ref: str) -> CaseSummary:
        case, _, _ = self.load.visible_case(actor, case_ref)
        case.close(actor, self.ctx.clock.now())
        self.ctx.store.save(case)
        return self._summary(actor, case.id)

    def erase(self, actor: Actor, case_ref: str, reason: str) -> CaseView:
        """Erase a case: record the erasure, then destroy every copy of its key.

        The event is saved first, so that a legal hold placed at the same moment
        makes this conflict instead of losing her data. Calling it again on an
        erased case finishes the job (a crash between the two steps leaves the
        case marked erased, and its views already read as erased).
        """
        case, _, _ = self.load.visible_case(actor, case_ref)
        case.require_eraser(actor)
        if case.status != CaseStatus.ERASED:
            case.erase(reason, actor, self.ctx.clock.now())
            self.ctx.store.save(case)
        self.ctx.keys.destroy(case_scope(case.id))
        rows, access = self.load.visible_rows(actor, case_ref)
        return case_view(rows, access, self.ctx.parts.open, self.ctx.clock.now())

    # -- queries ------------------------------------------------------------

    def get(self, actor: Actor, case_ref: str, *, via: str = IN_PROCESS) -> CaseView:
        """The case as the actor's service may see it, from the views; the read goes
        in its access log (``via``: the route template the API answered on)."""
        authorise(actor, Action.WORK_CASES)
        rows, access = self.load.visible_rows(actor, case_ref)
        view = case_view(rows, access, self.ctx.parts.open, self.ctx.clock.now())
        record_read(self.ctx, actor, rows.case.id, case_categories(view), via)
        return view

    def list(
        self,
        actor: Actor,
        cursor: str | None = None,
        limit: int = 50,
        *,
        status: list[str] | None = None,
        **words: Unpack[ListWords],
    ) -> CasePage:
        """Cases the actor's service may see, most recently opened first, filtered
        (``application.list_filters``), each with the categories the service may see
        of it and its version as that service sees it."""
        authorise(actor, Action.WORK_CASES)
        where = case_filter(self.ctx.directory, status, words)
        scope = f"cases:{actor.service.id}:{where.fingerprint()}"
        cursors = Cursors(self.ctx.cursor_secret)
        ask = PageAsk(cursors.open(scope, cursor), check_limit(limit))
        at = self.ctx.clock.now()
        found = self.ctx.views.cases_of(actor.service.id, at, where, ask)
        # The cases the service owns need no standing: the owner's access reads
        # neither consents nor referrals (``owner_access``), and reading every
        # referral of every listed case made the list grow with their histories.
        owned = {row.id: owner_access(actor.service, row.owner_service) for row in found.items}
        standings = self.ctx.views.standings([i for i, a in owned.items() if a is None])
        items = []
        for row in found.items:
            access = owned[row.id]
            if access is None:
                standing = standings.get(row.id)
                if standing is None:
                    continue
                access = access_of(actor.service, standing, standing.referrals)
            if not access.sees_case:  # the views' participants say so; the rule decides
                continue
            version = self._version_seen(row, access)
            if version is not None:
                items.append(case_summary(row, access, version))
        return CasePage(items, cursors.seal(scope, found.after))

    # -- helpers ------------------------------------------------------------

    def _written_by_this_opening(self, case: Case) -> bool:
        """After a conflict on a new case's first event: whether that event is this
        opening's own, stored by a write whose commit the driver could not confirm
        (then the case is opened, and opening again would make a second one)."""
        try:
            stored = self.ctx.store.get(Case, case.id)
        except NotFound:
            return False
        return (stored.owner_service, stored.opened_by, stored.created_on) == (
            case.owner_service,
            case.opened_by,
            case.created_on,
        )

    def _summary(self, actor: Actor, case_id: UUID) -> CaseSummary:
        """A command's answer: the case's summary as the actor's service now sees it."""
        rows, access = self.load.visible_rows(actor, str(case_id))
        return case_summary(rows.case, access, visible_version(rows, access))

    def _version_seen(self, row: CaseRow, access: CaseAccess) -> int | None:
        """A listed case's version as the reader sees it; only a reader that may not
        see everything of it needs its rows for that (``None``: the views no longer
        hold them, and the case is left out, as ``standings`` leaves it out)."""
        if sees_everything(access):
            return row.version
        rows = self.ctx.views.case(row.id)
        return None if rows is None else visible_version(rows, access)

    def _workable(self, actor: Actor, case_ref: str) -> tuple[Case, CaseReferrals, CaseAccess]:
        """A case the actor's service owns or holds an active referral on."""
        case, referrals, access = self.load.visible_case(actor, case_ref)
        require_works_on(access, self.ctx.clock.now())
        return case, referrals, access
