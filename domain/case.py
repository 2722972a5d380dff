"""The case (fascicolo): one person's file, owned by one service.

Commands are public methods that check the rules, then trigger an event; the
events' ``apply`` only change state, so replaying history never re-runs a rule
that may have changed since (a clock, a directory).
Personal fields of each event are named in ``PERSONAL_FIELDS``, fields derived
from them in ``DERIVED_FIELDS``: the encrypting mapper seals exactly those under
the case's own key.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

from eventsourcing.domain import Aggregate

from domain import errors
from domain.consent import Consent
from domain.entries import CaseStatus, Entry, Erasure, LegalHold, ReferralLink
from domain.erased import Erased, unless_erased
from domain.events import ActedEvent, NetworkEvent, OldActor, acted_by
from domain.network import Actor, Service
from domain.risk import RiskAssessment, RiskInstrument, RiskLevel, judged_level
from domain.text import readable, required_text
from domain.vocabulary import Category, ReferralKind, Role, ServiceKind

CASE_NAMESPACE = uuid5(NAMESPACE_URL, "urn:rete:case")


def case_id_for(reference_code: str) -> UUID:
    """A case's id follows from its reference code, so either finds it."""
    return uuid5(CASE_NAMESPACE, reference_code)


def _text(value: str | None, what: str) -> str:
    return required_text(value, what)


class Case(Aggregate):
    """One person's file. Found by id or reference code, never by name."""

    class Event(NetworkEvent):
        aggregate = "case"

    # Version 2 of each event names who acted as ``by_user``/``by_service``
    # (domain/events.py); each upcaster says where version 1 had them.

    class Opened(ActedEvent, Aggregate.Created):
        class_version = 2
        reference_code: str
        owner_service: str

        V1_ACTOR = OldActor(user="opened_by", service_from="owner_service")

    class NoteAdded(ActedEvent):
        class_version = 2
        PERSONAL_FIELDS: ClassVar[frozenset[str]] = frozenset({"text"})
        entry_id: str
        category: str
        text: str | Erased

        V1_ACTOR = OldActor(user="author", service="service_id")

        def apply(self, case: Case) -> None:
            case.entries.append(
                Entry(
                    self.entry_id,
                    Category(self.category),
                    self.text,
                    self.by_user,
                    self.by_service,
                    self.timestamp,
                )
            )

    class ConsentRecorded(ActedEvent):
        # Who, what for and which categories are the terms of the consent, not
        # her data: they stay readable so that audits can check every referral.
        class_version = 2
        consent_id: str
        recipient_kinds: list[str]
        recipient_services: list[str]
        purposes: list[str]
        categories: list[str]
        expires_at: datetime | None

        V1_ACTOR = OldActor(user="recorded_by")

        def apply(self, case: Case) -> None:
            case.consents[self.consent_id] = Consent(
                id=self.consent_id,
                recipient_kinds=frozenset(ServiceKind(k) for k in self.recipient_kinds),
                recipient_services=frozenset(self.recipient_services),
                purposes=frozenset(ReferralKind(p) for p in self.purposes),
                categories=frozenset(Category(c) for c in self.categories),
                recorded_at=self.timestamp,
                recorded_by=self.by_user,
                expires_at=self.expires_at,
            )

    class ConsentWithdrawn(ActedEvent):
        class_version = 2
        consent_id: str

        V1_ACTOR = OldActor(user="withdrawn_by")

        def apply(self, case: Case) -> None:
            consent = case.consents[self.consent_id]
            case.consents[self.consent_id] = consent.withdrawn(self.timestamp)

    class RiskAssessed(ActedEvent):
        # Version 3: ``high_risk`` is sealed under the case key with the personal
        # fields (version 2 kept it under the system key only; see the upcaster).
        class_version = 3
        PERSONAL_FIELDS: ClassVar[frozenset[str]] = frozenset(
            {"answers", "score", "computed_level", "level", "justification"}
        )
        assessment_id: str
        instrument_id: str
        answers: dict[str, bool] | Erased
        score: int | Erased
        computed_level: str | Erased
        level: str | Erased
        justification: str | Erased | None
        # Derived from the risk category: every participating service's inbox marks
        # a high-risk case while it lives, even where the service may not read risk
        # (DOMAIN.md "Risk"); sealed under her key, it goes with it on erasure.
        DERIVED_FIELDS: ClassVar[frozenset[str]] = frozenset({"high_risk"})
        high_risk: bool | Erased

        V1_ACTOR = OldActor(user="assessed_by", service="service_id")

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            """Nothing to rename: version 3 changed where ``high_risk`` is stored, not
            what it is. A version-2 record holds it in its outer part (system key), and
            reads with it there; once the case is erased the mapper reads it as
            ``ERASED`` like every field sealed under her key (docs/ENCRYPTION.md,
            "Derived fields in records stored before they were sealed")."""

        def apply(self, case: Case) -> None:
            case.assessments.append(
                RiskAssessment(
                    id=self.assessment_id,
                    instrument_id=self.instrument_id,
                    answers=unless_erased(self.answers, dict),
                    score=self.score,
                    computed_level=unless_erased(self.computed_level, RiskLevel),
                    level=unless_erased(self.level, RiskLevel),
                    justification=self.justification,
                    assessed_at=self.timestamp,
                    assessed_by=self.by_user,
                    service_id=self.by_service,
                )
            )
            # Unknown (not "false") when her key is gone: see ``ErasureRecorded``.
            case.high_risk = None if isinstance(self.high_risk, Erased) else self.high_risk

    class Referred(ActedEvent):
        """The case's note that a referral was sent: by whom sent it."""

        class_version = 2
        referral_id: str
        sender_service: str
        recipient_service: str
        consent_id: str | None

        V1_ACTOR = OldActor(service_from="sender_service")

        def apply(self, case: Case) -> None:
            case.referrals[self.referral_id] = ReferralLink(
                self.referral_id,
                self.sender_service,
                self.recipient_service,
                self.consent_id,
                self.timestamp,
            )

    class LegalHoldPlaced(ActedEvent):
        # Proceedings are legal data about her: sealed like the rest.
        class_version = 2
        PERSONAL_FIELDS: ClassVar[frozenset[str]] = frozenset({"reason"})
        reason: str | Erased

        V1_ACTOR = OldActor(user="placed_by")

        def apply(self, case: Case) -> None:
            case.legal_hold = LegalHold(self.reason, self.by_user, self.timestamp)

    class LegalHoldLifted(ActedEvent):
        class_version = 2

        V1_ACTOR = OldActor(user="lifted_by")

        def apply(self, case: Case) -> None:
            case.legal_hold = None

    class Closed(ActedEvent):
        class_version = 2

        V1_ACTOR = OldActor(user="closed_by")

        def apply(self, case: Case) -> None:
            case.status = CaseStatus.CLOSED

    class ErasureRecorded(ActedEvent):
        # The reason is part of the audit trail and stays readable after erasure:
        # it must say why (her request, retention ended), never who she is.
        class_version = 2
        reason: str

        V1_ACTOR = OldActor(user="erased_by")

        def apply(self, case: Case) -> None:
            case.status = CaseStatus.ERASED
            case.erasure = Erasure(self.reason, self.by_user, self.timestamp)
            # Derived from her risk assessments (``RiskAssessed.DERIVED_FIELDS``):
            # unknown from now on, not "false", which would say something too.
            case.high_risk = None

    @staticmethod
    def create_id(reference_code: str) -> UUID:
        return case_id_for(reference_code)

    def __init__(self, reference_code: str, owner_service: str, by_user: str) -> None:
        self.reference_code = reference_code
        self.owner_service = owner_service
        self.opened_by = by_user
        self.status = CaseStatus.OPEN
        self.entries: list[Entry] = []
        self.consents: dict[str, Consent] = {}
        self.assessments: list[RiskAssessment] = []
        self.referrals: dict[str, ReferralLink] = {}
        self.high_risk: bool | None = False  # None once erased
        self.legal_hold: LegalHold | None = None
        self.erasure: Erasure | None = None

    # -- commands -----------------------------------------------------------

    @classmethod
    def open(cls, reference_code: str, by: Actor, at: datetime) -> Case:
        by.require(Role.CASEWORKER, Role.COORDINATOR)
        if not by.service.works_cases:
            raise errors.RoleNotAllowed(f"a {by.service.kind} service does not open cases")
        return cls._create(
            cls.Opened,
            timestamp=at,
            reference_code=reference_code,
            owner_service=by.service.id,
            **acted_by(by),
        )

    def add_note(self, category: Category, text: str, by: Actor, at: datetime) -> Entry:
        self._require_open()
        by.require(Role.CASEWORKER, Role.COORDINATOR)
        if category not in by.service.visible_categories:
            raise errors.CategoryNotPermitted(
                f"a {by.service.kind} service may not hold {category} data"
            )
        self.trigger_event(
            self.NoteAdded,
            timestamp=at,
            entry_id=str(uuid4()),
            category=category.value,
            text=_text(text, "a note"),
            **acted_by(by),
        )
        return self.entries[-1]

    def record_consent(
        self,
        *,
        recipient_kinds: frozenset[ServiceKind],
        recipient_services: frozenset[str],
        purposes: frozenset[ReferralKind],
        categories: frozenset[Category],
        expires_at: datetime | None,
        by: Actor,
        at: datetime,
    ) -> Consent:
        self._require_open()
        self._require_owner(by)
        by.require(Role.CASEWORKER, Role.COORDINATOR)
        if not (recipient_kinds or recipient_services) or not purposes or not categories:
            raise errors.InvalidConsentTerms(
                "a consent names at least one recipient, one purpose and one category"
            )
        if expires_at is not None and expires_at <= at:
            raise errors.InvalidConsentTerms("a consent cannot expire before it is recorded")
        consent_id = str(uuid4())
        self.trigger_event(
            self.ConsentRecorded,
            timestamp=at,
            consent_id=consent_id,
            recipient_kinds=sorted(recipient_kinds),
            recipient_services=sorted(recipient_services),
            purposes=sorted(purposes),
            categories=sorted(categories),
            expires_at=expires_at,
            **acted_by(by),
        )
        return self.consents[consent_id]

    def withdraw_consent(self, consent_id: str, by: Actor, at: datetime) -> list[str]:
        """Withdraw a consent; returns the referrals relying on it, to be suspended."""
        self._require_open()
        self._require_owner(by)
        by.require(Role.CASEWORKER, Role.COORDINATOR)
        consent = self.consent(consent_id)
        if consent.withdrawn_at is not None:
            raise errors.ConsentNotActive("this consent is already withdrawn")
        self.trigger_event(
            self.ConsentWithdrawn, timestamp=at, consent_id=consent_id, **acted_by(by)
        )
        return [r.referral_id for r in self.referrals.values() if r.consent_id == consent_id]

    def assess_risk(
        self,
        instrument: RiskInstrument,
        answers: Mapping[str, bool],
        judgement: RiskLevel | None,
        justification: str | None,
        by: Actor,
        at: datetime,
    ) -> RiskAssessment:
        self._require_open()
        by.require(Role.CASEWORKER, Role.COORDINATOR)
        if Category.RISK not in by.service.visible_categories:
            raise errors.CategoryNotPermitted(f"a {by.service.kind} service may not assess risk")
        score = instrument.score(answers)
        computed = instrument.level(score)
        level = judged_level(computed, judgement, justification)
        self.trigger_event(
            self.RiskAssessed,
            timestamp=at,
            assessment_id=str(uuid4()),
            instrument_id=instrument.id,
            answers=dict(answers),
            score=score,
            computed_level=computed.value,
            level=level.value,
            justification=readable(justification),
            high_risk=level == RiskLevel.HIGH,
            **acted_by(by),
        )
        return self.assessments[-1]

    def record_referral(
        self,
        referral_id: str,
        recipient: Service,
        consent_id: str | None,
        by: Actor,
        at: datetime,
    ) -> None:
        """Note on the case that ``by`` sent a referral (checked by the Referral itself)."""
        self._require_open()
        self.trigger_event(
            self.Referred,
            timestamp=at,
            referral_id=referral_id,
            sender_service=by.service.id,
            recipient_service=recipient.id,
            consent_id=consent_id,
            **acted_by(by),
        )

    def place_legal_hold(self, reason: str, by: Actor, at: datetime) -> None:
        self._require_not_erased()
        self._require_owner(by)
        by.require(Role.COORDINATOR)
        self.trigger_event(
            self.LegalHoldPlaced,
            timestamp=at,
            reason=_text(reason, "the reason for a legal hold"),
            **acted_by(by),
        )

    def lift_legal_hold(self, by: Actor, at: datetime) -> None:
        self._require_not_erased()
        self._require_owner(by)
        by.require(Role.COORDINATOR)
        if self.legal_hold is None:
            raise errors.NoLegalHold("there is no legal hold to lift")
        self.trigger_event(self.LegalHoldLifted, timestamp=at, **acted_by(by))

    def close(self, by: Actor, at: datetime) -> None:
        self._require_open()
        self._require_owner(by)
        by.require(Role.CASEWORKER, Role.COORDINATOR)
        self.trigger_event(self.Closed, timestamp=at, **acted_by(by))

    def require_eraser(self, by: Actor) -> None:
        """Only a coordinator of the owner service erases (or completes an erasure)."""
        self._require_owner(by)
        by.require(Role.COORDINATOR)

    def erase(self, reason: str, by: Actor, at: datetime) -> None:
        """Record her erasure. Destroying the case key is the key store's part."""
        self._require_not_erased()
        self.require_eraser(by)
        if self.legal_hold is not None:
            raise errors.LegalHoldActive("the case is under legal hold; lift it first")
        self.trigger_event(
            self.ErasureRecorded,
            timestamp=at,
            reason=_text(reason, "the reason for erasure"),
            **acted_by(by),
        )

    # -- queries ------------------------------------------------------------

    def consent(self, consent_id: str) -> Consent:
        try:
            return self.consents[consent_id]
        except KeyError:
            raise errors.UnknownConsent(f"no consent {consent_id!r} on this case") from None

    def covering_consent(
        self,
        recipient: Service,
        kind: ReferralKind,
        scope: frozenset[Category],
        at: datetime,
    ) -> Consent | None:
        for consent in self.consents.values():
            if consent.covers(recipient, kind, scope, at):
                return consent
        return None

    @property
    def risk_level(self) -> RiskLevel | Erased | None:
        return self.assessments[-1].level if self.assessments else None

    def is_owned_by(self, service: Service) -> bool:
        return self.owner_service == service.id

    def _require_owner(self, by: Actor) -> None:
        if not self.is_owned_by(by.service):
            raise errors.NotOwnerService("only the owner service may do this")

    def _require_not_erased(self) -> None:
        if self.status == CaseStatus.ERASED:
            raise errors.CaseErased("the case has been erased")

    def _require_open(self) -> None:
        self._require_not_erased()
        if self.status != CaseStatus.OPEN:
            raise errors.CaseNotOpen("the case is closed")
