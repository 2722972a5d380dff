"""What every use case works with: the store, the views, the clock, and the network's data.

Commands load aggregates from the event store, decide, and save. Reads come from
the views (``application.view_ports``): rows kept beside the events, decided on
with the same rule (``domain.visibility``), personal parts opened only once the
rule allows them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from uuid import UUID

from application.errors import NotFound
from application.ports import Clock, EventStore, KeyStore
from application.view_ports import CaseRows, PersonalParts, ReferralRow, ViewReader
from domain import errors
from domain.case import Case, case_id_for
from domain.deadlines import DeadlinePolicy
from domain.network import Actor, NetworkDirectory
from domain.referral import Referral
from domain.risk import RiskInstrument
from domain.visibility import CaseAccess, access_of
from domain.vocabulary import Role, parse


@dataclass(frozen=True)
class Context:
    store: EventStore
    keys: KeyStore
    views: ViewReader
    parts: PersonalParts
    clock: Clock
    directory: NetworkDirectory
    instruments: Mapping[str, RiskInstrument]
    deadlines: DeadlinePolicy = field(default_factory=DeadlinePolicy)

    def identify(self, user_id: str, service_id: str, roles: Iterable[str]) -> Actor:
        """The actor a verified token speaks for; refuses unknown services and roles
        the service's kind cannot hold."""
        if not user_id.strip():
            raise errors.EmptyText("a token needs a subject")
        service = self.directory.service(service_id)
        return Actor(
            user_id,
            service,
            frozenset(parse(Role, r, errors.UnknownRole) for r in roles),
        )

    def instrument(self, instrument_id: str) -> RiskInstrument:
        try:
            return self.instruments[instrument_id]
        except KeyError:
            raise errors.UnknownInstrument(
                f"no instrument {instrument_id!r}; known: {', '.join(sorted(self.instruments))}"
            ) from None

    # -- loading with authorisation ----------------------------------------

    def case_id(self, case_ref: str) -> UUID:
        """A case is named by its id or its reference code."""
        try:
            return UUID(case_ref)
        except ValueError:
            return case_id_for(case_ref)

    def referrals_of(self, case: Case) -> list[Referral]:
        return [self.store.get(Referral, UUID(rid)) for rid in case.referrals]

    def case(self, case_ref: str) -> Case:
        """Load a case by id or reference code, whoever asks (authorise before showing it)."""
        try:
            return self.store.get(Case, self.case_id(case_ref))
        except NotFound:
            raise NotFound("no such case") from None

    def visible_case(self, actor: Actor, case_ref: str) -> tuple[Case, list[Referral], CaseAccess]:
        """Load a case the actor's service may see; any other answers "not found",
        so that a service cannot even learn which cases exist."""
        case = self.case(case_ref)
        referrals = self.referrals_of(case)
        access = access_of(actor.service, case, referrals)
        if not access.sees_case:
            raise NotFound("no such case")
        return case, referrals, access

    def visible_rows(self, actor: Actor, case_ref: str) -> tuple[CaseRows, CaseAccess]:
        """A case's rows in the views, if the actor's service may see the case; any
        other answers "not found", as ``visible_case`` does."""
        rows = self.views.case(self.case_id(case_ref))
        if rows is None:
            raise NotFound("no such case")
        access = access_of(actor.service, rows, rows.referrals)
        if not access.sees_case:
            raise NotFound("no such case")
        return rows, access

    def visible_referral_row(self, actor: Actor, referral_id: str) -> ReferralRow:
        """A referral's row, seen by its sender and its recipient only."""
        try:
            row = self.views.referral(UUID(referral_id))
        except ValueError:
            row = None
        if row is None or actor.service.id not in (row.sender_service, row.recipient_service):
            raise NotFound("no such referral")
        return row

    def visible_referral(self, actor: Actor, referral_id: str) -> Referral:
        """A referral is seen by its sender and its recipient only."""
        try:
            referral = self.store.get(Referral, UUID(referral_id))
        except (ValueError, NotFound):
            raise NotFound("no such referral") from None
        if actor.service.id not in (referral.sender_service, referral.recipient_service):
            raise NotFound("no such referral")
        return referral
