"""The network of Cesano Boscone, in memory, for the domain's stories.

The services are DOMAIN.md's seed table (``tests/domain_md.py``, not loaded from
the directory file), so that the domain tests check the code against the
document. ``Desk`` is one caseworker's desk: a clock, the services, and short
ways to open a case, record a consent and send a referral with sensible
defaults that each test overrides where its story differs.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from domain_md import SEED
from support.clock import MONDAY

from domain.case import Case
from domain.consent import Consent
from domain.deadlines import DeadlinePolicy
from domain.network import Actor, Service
from domain.referral import Referral
from domain.visibility import access_of
from domain.vocabulary import Category, LegalBasis, ReferralKind, Role, ServiceKind, Urgency


def service(service_id: str) -> Service:
    return Service(service_id, ServiceKind(SEED[service_id]), service_id)


def caseworker(service_id: str, user: str | None = None) -> Actor:
    return Actor(user or f"cw@{service_id}", service(service_id), frozenset({Role.CASEWORKER}))


def coordinator(service_id: str, user: str | None = None) -> Actor:
    return Actor(user or f"co@{service_id}", service(service_id), frozenset({Role.COORDINATOR}))


class Desk:
    """A caseworker's desk: the time, the cases and referrals made so far."""

    service = staticmethod(service)
    caseworker = staticmethod(caseworker)
    coordinator = staticmethod(coordinator)

    def __init__(self) -> None:
        self.now = MONDAY
        self.deadlines = DeadlinePolicy()
        self.referrals: list[Referral] = []
        self._cases = 0

    def tick(self, **delta: float) -> datetime:
        """Let time pass (one minute if not told how much)."""
        self.now += timedelta(**delta) if delta else timedelta(minutes=1)
        return self.now

    def open_case(self, owner: str = "cav-scirocco") -> Case:
        self._cases += 1
        return Case.open(f"CB-2026-{self._cases:04d}", caseworker(owner), self.tick())

    def note(self, case: Case, category: str, text: str = "a note", by: Actor | None = None):
        owner = by or caseworker(case.owner_service)
        return case.add_note(Category(category), text, owner, self.tick())

    def consent(
        self,
        case: Case,
        *,
        kinds: tuple[str, ...] = ("social_services",),
        services: tuple[str, ...] = (),
        purposes: tuple[str, ...] = ("social_support",),
        categories: tuple[str, ...] = ("identity", "violence"),
        expires_at: datetime | None = None,
        by: Actor | None = None,
    ) -> Consent:
        return case.record_consent(
            recipient_kinds=frozenset(ServiceKind(k) for k in kinds),
            recipient_services=frozenset(services),
            purposes=frozenset(ReferralKind(p) for p in purposes),
            categories=frozenset(Category(c) for c in categories),
            expires_at=expires_at,
            by=by or caseworker(case.owner_service),
            at=self.tick(),
        )

    def refer(
        self,
        case: Case,
        to: str = "ss-cesano",
        *,
        kind: str = "social_support",
        urgency: str = "routine",
        scope: tuple[str, ...] = ("identity", "violence"),
        basis: str = "consent",
        consent_id: str | None = None,
        statute: str | None = None,
        justification: str | None = None,
        reason: str = "she needs support with housing",
        by: Actor | None = None,
    ) -> Referral:
        sender = by or caseworker(case.owner_service)
        mine = [r for r in self.referrals if r.case_id == case.id]
        sender_sees = access_of(sender.service, case, mine).current_categories
        referral = Referral.send(
            case=case,
            sender_sees=sender_sees,
            recipient=service(to),
            kind=ReferralKind(kind),
            urgency=Urgency(urgency),
            reason=reason,
            scope=frozenset(Category(c) for c in scope),
            legal_basis=LegalBasis(basis),
            consent_id=consent_id,
            statute=statute,
            justification=justification,
            deadlines=self.deadlines,
            by=sender,
            at=self.tick(),
        )
        self.referrals.append(referral)
        return referral

    def report(
        self,
        case: Case,
        to: str = "pl-cesano",
        *,
        scope: tuple[str, ...],
        statute: str | None,
        justification: str | None,
        **terms: Any,
    ) -> Referral:
        """A mandatory report: protection measures on a legal obligation."""
        return self.refer(
            case,
            to,
            kind="protection_measures",
            scope=scope,
            basis="legal_obligation",
            statute=statute,
            justification=justification,
            **terms,
        )

    def withdraw_consent(self, case: Case, consent: Consent, by: Actor | None = None) -> None:
        """Withdraw, and suspend what relied on it (what the application does in one write)."""
        at = self.tick()
        relying = case.withdraw_consent(consent.id, by or caseworker(case.owner_service), at)
        for referral in self.referrals:
            if str(referral.id) in relying:
                referral.suspend(consent.id, at)


@pytest.fixture
def desk() -> Desk:
    return Desk()


@pytest.fixture
def new_desk() -> type[Desk]:
    """For property tests, which need a fresh desk per example."""
    return Desk
