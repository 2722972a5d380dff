"""Loading what a use case works on, with the authorisation that goes with it.

Commands load aggregates from the event store; reads load rows from the views.
Either way a case or a referral the actor's service may not see answers "not
found" (the rules are ``application.authorisation``'s), and a command finds
that out from the views before it loads anything: a hidden case and a missing
one take the same path, in the same time, to the same answer. A name that is
not a reference code at all is refused before anything is read. While the event
log under the views is in doubt (an integrity alarm about it stands), no case or
referral is loaded at all: ``IntegrityFailure`` (``application.integrity``).
"""

from __future__ import annotations

from collections.abc import Iterator
from uuid import UUID

from application.authorisation import require_sees_case, sees_referral
from application.context import Context
from application.errors import NotFound
from application.view_ports import CaseRows, ReferralRow
from domain.case import Case, case_id_for
from domain.consent import Consent
from domain.network import Actor
from domain.reference import canonical_reference
from domain.referral import Referral
from domain.visibility import CaseAccess, access_of


class InvalidReference(NotFound):
    """A name that no case could have: not an id, and not a reference code (a symbol
    mistyped or two swapped, which the check character catches)."""

    code = "invalid-reference"
    title = "Not a valid reference code"


def case_id(case_ref: str) -> UUID:
    """A case is named by its id or its reference code (read as spoken: any case,
    ``O`` for ``0``, ``I`` or ``L`` for ``1``)."""
    try:
        return UUID(case_ref)
    except ValueError:
        pass
    code = canonical_reference(case_ref)
    if code is None:
        raise InvalidReference(
            "this is not a valid reference code: a character is mistyped or two are "
            "swapped (check it against the written code)"
        )
    return case_id_for(code)


class CaseReferrals:
    """The referrals made on a loaded case, replayed from the event store the first
    time they are read, then kept.

    Most commands on a case are its owner's, and an owner's access needs no
    referral (``domain.visibility.access_of`` answers the owner at once): replaying
    every referral of a case for each of them made a write's cost grow with the
    case's history. The ones that do read them (another service's access, the
    suspension of the referrals a withdrawn consent held up) load them here, all of
    them, from the ids the loaded case lists: the same aggregates as before, only
    when asked for."""

    __slots__ = ("_case", "_load", "_loaded")

    def __init__(self, case: Case, load: Loader) -> None:
        self._case = case
        self._load = load
        self._loaded: list[Referral] | None = None

    def all(self) -> list[Referral]:
        if self._loaded is None:
            self._loaded = self._load.referrals_of(self._case)
        return self._loaded

    def __iter__(self) -> Iterator[Referral]:
        return iter(self.all())


class Loader:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def opened(self, case: Case) -> None:
        """The case was just opened here: its owner's next commands need not wait
        for the views to hold it (``application.owners``)."""
        self.ctx.owners.note(case.id, case.owner_service)

    def referrals_of(self, case: Case) -> list[Referral]:
        return [self.ctx.store.get(Referral, UUID(rid)) for rid in case.referrals]

    def case(self, case_ref: str) -> Case:
        """Load a case by id or reference code, whoever asks (authorise before showing it)."""
        return self._case(case_id(case_ref))

    def _case(self, case_id_: UUID) -> Case:
        try:
            return self.ctx.store.get(Case, case_id_)
        except NotFound:
            raise NotFound("no such case") from None

    def visible_case(self, actor: Actor, case_ref: str) -> tuple[Case, CaseReferrals, CaseAccess]:
        """Load a case the actor's service may see; any other answers "not found".

        Whether it may see it is read from the views first (``require_visible``),
        so a case it may not see is never loaded; the aggregates loaded then decide
        again, as the rules of the write. Its referrals are loaded when read
        (``CaseReferrals``): the rule reads them for a service that does not own the
        case, a use case when it works on them."""
        found = case_id(case_ref)
        self.require_visible(actor, found)
        case = self._case(found)
        referrals = CaseReferrals(case, self)
        access = access_of(actor.service, case, referrals)
        require_sees_case(access)
        return case, referrals, access

    def require_visible(self, actor: Actor, case_id_: UUID) -> None:
        """ "Not found" unless the views hold the case and the actor's service may see
        it: the same answer, by the same path, whether it is missing or hidden.

        Its owner is answered at once when this process knows the owner (it never
        changes: ``application.owners``). Otherwise the views are asked as they
        stand first: a case the service works on is seldom one the views have not
        reached yet, and following the log to its head inside every command is what
        a write would pay most for. Only a "no" is asked again once the views have
        caught up, so a missing case and a hidden one still take the same path.
        (The aggregate, loaded next, decides again.)"""
        self.ctx.integrity.require_trusted_log()
        owners = self.ctx.owners
        if owners.owns(case_id_, actor.service.id):
            return
        for caught_up in (False, True):
            standing = self.ctx.views.standings([case_id_], caught_up=caught_up).get(case_id_)
            if (
                standing is not None
                and access_of(actor.service, standing, standing.referrals).sees_case
            ):
                owners.note(case_id_, standing.owner_service)
                return
        raise NotFound("no such case")

    def case_rows(self, case_ref: str) -> CaseRows:
        """A case's rows in the views, whoever asks (authorise before showing them)."""
        self.ctx.integrity.require_trusted_log()
        rows = self.ctx.views.case(case_id(case_ref))
        if rows is None:
            raise NotFound("no such case")
        return rows

    def visible_rows(self, actor: Actor, case_ref: str) -> tuple[CaseRows, CaseAccess]:
        """A case's rows in the views, if the actor's service may see the case; any
        other answers "not found", as ``visible_case`` does, and by the same path
        (``require_visible``): a hidden case's rows are never read."""
        self.require_visible(actor, case_id(case_ref))
        rows = self.case_rows(case_ref)
        access = access_of(actor.service, rows, rows.referrals)
        require_sees_case(access)
        return rows, access

    def visible_referral_row(self, actor: Actor, referral_id: str) -> ReferralRow:
        """A referral's row, if the actor's service is its sender or its recipient."""
        self.ctx.integrity.require_trusted_log()
        try:
            row = self.ctx.views.referral(UUID(referral_id))
        except ValueError:
            row = None
        return self._seen_by(actor, row)

    def visible_referral_relying(
        self, actor: Actor, referral_id: str
    ) -> tuple[ReferralRow, Consent | None]:
        """``visible_referral_row``, with the terms of the consent the referral relies
        on, read with it (one read: what a move needs)."""
        self.ctx.integrity.require_trusted_log()
        try:
            found = self.ctx.views.referral_relying(UUID(referral_id))
        except ValueError:
            found = None
        row, consent = (None, None) if found is None else found
        return self._seen_by(actor, row), consent

    @staticmethod
    def _seen_by(actor: Actor, row: ReferralRow | None) -> ReferralRow:
        if row is None or not sees_referral(actor, row.sender_service, row.recipient_service):
            raise NotFound("no such referral")
        return row
