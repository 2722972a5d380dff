"""The referral (invio): a case, or part of it, handed from one service to another.

The lifecycle is a table (``MOVES``): who may make each move and from which
states. Everything a referral may share is decided once, when it is sent. Where
a referral stands (status, deadlines, when it ended) is a ``Lifecycle``
(``domain.referral_lifecycle``) folded from its events by ``lifecycle_after``:
the aggregate, the views and the observatory all use that one fold.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import singledispatch
from typing import Any, ClassVar
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate

from domain import errors, text
from domain.case import Case
from domain.consent import Consent
from domain.deadlines import DeadlinePolicy
from domain.erased import Erased
from domain.events import ActedEvent, NetworkEvent, OldActor, SystemEvent, acted_by
from domain.network import Actor, Service
from domain.referral_lifecycle import ACTIVE_STATUSES as ACTIVE_STATUSES
from domain.referral_lifecycle import Deadline as Deadline
from domain.referral_lifecycle import Lifecycle, StandsByLifecycle, at_sending
from domain.referral_lifecycle import ReferralStatus as ReferralStatus
from domain.vocabulary import (
    PUBLIC_OFFICIAL_KINDS,
    Category,
    LegalBasis,
    ReferralKind,
    Role,
    Urgency,
    parse,
)


class Side(StrEnum):
    """Which end of the referral an actor's service stands on."""

    SENDER = "sender"
    RECIPIENT = "recipient"
    OTHER = "other"


class Move(StrEnum):
    ACKNOWLEDGE = "acknowledge"
    ACCEPT = "accept"
    DECLINE = "decline"
    COMPLETE = "complete"
    WITHDRAW = "withdraw"
    EXPIRE = "expire"


@dataclass(frozen=True, slots=True)
class Rule:
    sides: frozenset[Side]
    from_states: frozenset[ReferralStatus]
    to_state: ReferralStatus


S = ReferralStatus
RECIPIENT = frozenset({Side.RECIPIENT})
SENDER = frozenset({Side.SENDER})
EITHER = frozenset({Side.SENDER, Side.RECIPIENT})

# DOMAIN.md "Referral": sent → acknowledged → accepted → completed; declined from
# sent or acknowledged; withdrawn by the sender before acceptance; expired by a
# coordinator of either side once nobody answered in time.
MOVES: dict[Move, Rule] = {
    Move.ACKNOWLEDGE: Rule(RECIPIENT, frozenset({S.SENT}), S.ACKNOWLEDGED),
    Move.ACCEPT: Rule(RECIPIENT, frozenset({S.ACKNOWLEDGED}), S.ACCEPTED),
    Move.DECLINE: Rule(RECIPIENT, frozenset({S.SENT, S.ACKNOWLEDGED}), S.DECLINED),
    Move.COMPLETE: Rule(RECIPIENT, frozenset({S.ACCEPTED}), S.COMPLETED),
    Move.WITHDRAW: Rule(SENDER, frozenset({S.SENT, S.ACKNOWLEDGED, S.SUSPENDED}), S.WITHDRAWN),
    Move.EXPIRE: Rule(EITHER, frozenset({S.SENT, S.ACKNOWLEDGED}), S.EXPIRED),
}

_SIDE_ERRORS: dict[frozenset[Side], type[errors.DomainError]] = {
    RECIPIENT: errors.NotRecipient,
    SENDER: errors.NotSender,
    EITHER: errors.NotParticipant,
}


def referral_kind(value: str) -> ReferralKind:
    """Parse a referral kind; mediation gets its own refusal, not 'unknown'."""
    if "mediat" in value.lower() or "mediazion" in value.lower():
        raise errors.MediationForbidden(
            "mediation between her and the perpetrator is never a referral kind"
        )
    return parse(ReferralKind, value, errors.UnknownReferralKind)


def _optional_text(value: str | None) -> str | None:
    return text.readable(value)


class Referral(StandsByLifecycle, Aggregate):
    # Version 2: its snapshots keep the lifecycle as one value (``upcast_v1_v2``).
    class_version = 2

    class Event(NetworkEvent):
        aggregate = "referral"

    class Sent(ActedEvent, Aggregate.Created):
        """Sent by ``by_user`` for ``by_service``, the sender (version 1 named the user
        ``sent_by``). ``sender_service`` is the referral's own fact and stays."""

        class_version = 2
        PERSONAL_FIELDS: ClassVar[frozenset[str]] = frozenset({"reason", "justification"})
        case_id: UUID
        sender_service: str
        recipient_service: str
        kind: str
        urgency: str
        reason: str | Erased
        scope: list[str]
        legal_basis: str
        consent_id: str | None
        statute: str | None
        justification: str | Erased | None
        flagged_for_review: bool
        acknowledge_by: datetime
        answer_by: datetime

        V1_ACTOR = OldActor(user="sent_by", service_from="sender_service")

    class Moved(ActedEvent):
        """The referral moved on: acknowledged, accepted, completed, withdrawn, expired."""

        PERSONAL_FIELDS: ClassVar[frozenset[str]] = frozenset({"reason"})
        # Every event of a referral names its case, so that its personal fields
        # can be sealed under that case's key without looking anything up.
        case_id: UUID
        move: str
        to_status: str
        reason: str | Erased | None

        def apply(self, referral: Referral) -> None:
            referral._follow(self)

    class Suspended(SystemEvent):
        """Its consent was withdrawn or expired: the legal basis no longer stands."""

        case_id: UUID
        consent_id: str

        def apply(self, referral: Referral) -> None:
            referral._follow(self)

    class Escalated(SystemEvent):
        """A deadline passed with no answer: both services' coordinators are told."""

        case_id: UUID
        deadline: str  # "acknowledge" or "answer"
        due: datetime

        def apply(self, referral: Referral) -> None:
            referral._follow(self)

    def __init__(
        self,
        case_id: UUID,
        sender_service: str,
        recipient_service: str,
        kind: str,
        urgency: str,
        reason: str | Erased,
        scope: list[str],
        legal_basis: str,
        consent_id: str | None,
        statute: str | None,
        justification: str | Erased | None,
        flagged_for_review: bool,
        acknowledge_by: datetime,
        answer_by: datetime,
        by_user: str,
    ) -> None:
        self.case_id = case_id
        self.sender_service = sender_service
        self.recipient_service = recipient_service
        self.kind = ReferralKind(kind)
        self.urgency = Urgency(urgency)
        self.reason = reason
        self.scope = frozenset(Category(c) for c in scope)
        self.legal_basis = LegalBasis(legal_basis)
        self.consent_id = consent_id
        self.statute = statute
        self.justification = justification
        self.flagged_for_review = flagged_for_review
        self.sent_by = by_user
        # As ``lifecycle_after`` begins it from the Sent event, which this mirrors.
        self.lifecycle = Lifecycle.begun(self.created_on, acknowledge_by, answer_by)

    def _follow(self, event: Aggregate.Event) -> None:
        lifecycle = lifecycle_after(event, self.lifecycle)
        assert lifecycle is not None  # it began when the referral was created
        self.lifecycle = lifecycle

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        """Gather a version-1 snapshot's loose lifecycle attributes into ``lifecycle``.
        Version 1 did not keep when the referral was acknowledged or answered: the
        answer is known only when it was an acceptance."""
        status = ReferralStatus(state.pop("status"))
        accepted_at = state.pop("accepted_at")
        state["lifecycle"] = Lifecycle(
            status=status,
            sent_at=state.pop("sent_at"),
            acknowledge_by=state.pop("acknowledge_by"),
            answer_by=state.pop("answer_by"),
            accepted_at=accepted_at,
            answered_at=accepted_at,
            ended_at=state.pop("ended_at"),
            escalations=frozenset(Deadline(d) for d in state.pop("escalations")),
        )

    # -- sending ------------------------------------------------------------

    @classmethod
    def send(
        cls,
        *,
        case: Case,
        sender_sees: frozenset[Category],
        recipient: Service,
        kind: ReferralKind,
        urgency: Urgency,
        reason: str,
        scope: frozenset[Category],
        legal_basis: LegalBasis,
        consent_id: str | None,
        statute: str | None,
        justification: str | None,
        deadlines: DeadlinePolicy,
        by: Actor,
        at: datetime,
    ) -> Referral:
        """Check every rule of sending, then send; the case records the link too."""
        by.require(Role.CASEWORKER, Role.COORDINATOR)
        sender = by.service
        if recipient.id == sender.id:
            raise errors.SelfReferral("a service cannot refer a case to itself")
        if not recipient.works_cases:
            raise errors.RecipientCannotWorkCases(f"a {recipient.kind} service does not work cases")
        if not scope:
            raise errors.EmptyScope("name at least one category to share")
        hidden = scope - recipient.visible_categories
        if hidden:
            raise errors.ScopeNotVisibleToRecipient(
                f"a {recipient.kind} service may not see: {', '.join(sorted(hidden))}"
            )
        unseen = scope - sender_sees
        if unseen:
            raise errors.ScopeNotVisibleToSender(
                f"your service cannot itself see on this case: {', '.join(sorted(unseen))}"
            )
        reason = text.required_text(reason, "a referral's reason")
        statute, justification = _optional_text(statute), _optional_text(justification)
        relied_on = cls._check_legal_basis(
            case, recipient, kind, scope, legal_basis, consent_id, statute, justification, by, at
        )
        begins = at_sending(deadlines, urgency, at)
        referral = cls._create(
            cls.Sent,
            id=uuid4(),
            timestamp=at,
            case_id=case.id,
            sender_service=sender.id,
            recipient_service=recipient.id,
            kind=kind.value,
            urgency=urgency.value,
            reason=reason,
            scope=sorted(scope),
            legal_basis=legal_basis.value,
            consent_id=relied_on,
            statute=statute,
            justification=justification,
            # Mandatory reports and vital-interest referrals bypass consent: review them.
            flagged_for_review=legal_basis != LegalBasis.CONSENT,
            acknowledge_by=begins.acknowledge_by,
            answer_by=begins.answer_by,
            **acted_by(by),
        )
        case.record_referral(str(referral.id), recipient, relied_on, by, at)
        return referral

    @staticmethod
    def _check_legal_basis(
        case: Case,
        recipient: Service,
        kind: ReferralKind,
        scope: frozenset[Category],
        basis: LegalBasis,
        consent_id: str | None,
        statute: str | None,
        justification: str | None,
        by: Actor,
        at: datetime,
    ) -> str | None:
        """Refuse a basis that does not stand; return the consent relied on, if any."""
        if basis == LegalBasis.CONSENT:
            if consent_id is not None:
                consent = case.consent(consent_id)
                if not consent.covers(recipient, kind, scope, at):
                    raise errors.NoCoveringConsent(
                        "that consent does not cover this recipient, kind and scope"
                    )
                return consent.id
            found = case.covering_consent(recipient, kind, scope, at)
            if found is None:
                raise errors.NoCoveringConsent(
                    "no active consent covers this recipient, kind and every category in scope"
                )
            return found.id
        if basis == LegalBasis.LEGAL_OBLIGATION:
            if by.service.kind not in PUBLIC_OFFICIAL_KINDS:
                raise errors.LegalObligationNotAllowed(
                    f"a {by.service.kind} service is not a public official"
                )
            if statute is None:
                raise errors.StatuteRequired("cite the statute (e.g. art. 331 c.p.p.)")
            if justification is None:
                raise errors.JustificationRequired("a mandatory report needs a justification")
            return None
        if not by.has(Role.COORDINATOR):
            raise errors.VitalInterestNeedsCoordinator("only a coordinator may invoke it")
        if justification is None:
            raise errors.JustificationRequired("vital interest needs a justification")
        return None

    # -- moving on ----------------------------------------------------------

    def side_of(self, service: Service) -> Side:
        if service.id == self.recipient_service:
            return Side.RECIPIENT
        if service.id == self.sender_service:
            return Side.SENDER
        return Side.OTHER

    def move(self, move: Move, by: Actor, at: datetime, reason: str | None = None) -> None:
        """Make one move of the lifecycle, if the actor's side and the state allow it."""
        rule = MOVES[move]
        by.require(Role.CASEWORKER, Role.COORDINATOR)
        if self.side_of(by.service) not in rule.sides:
            raise _SIDE_ERRORS[rule.sides](f"the {' or '.join(sorted(rule.sides))} must {move}")
        if self.status not in rule.from_states or (
            move == Move.WITHDRAW and self.lifecycle.accepted_at is not None
        ):
            raise errors.InvalidTransition(f"the referral is {self.status}: it cannot {move} now")
        if move == Move.DECLINE:
            text.required_text(reason, "the reason for declining")
        if move == Move.EXPIRE:
            by.require(Role.COORDINATOR)
            if not self.lifecycle.overdue(at):
                due = self.lifecycle.due()
                when = due.isoformat() if due else "not set"
                raise errors.DeadlineNotPassed(f"the deadline is {when}")
        self.trigger_event(
            self.Moved,
            timestamp=at,
            case_id=self.case_id,
            move=move.value,
            to_status=rule.to_state.value,
            reason=_optional_text(reason),
            **acted_by(by),
        )

    def suspend(self, consent_id: str, at: datetime) -> None:
        """Its consent was withdrawn (or expired: ``lapse``). A referral already
        ended stays as it ended."""
        if self.status in ACTIVE_STATUSES and self.consent_id == consent_id:
            self.trigger_event(
                self.Suspended, timestamp=at, case_id=self.case_id, consent_id=consent_id
            )

    def lapse(self, consent: Consent, at: datetime) -> bool:
        """Suspend it, as a withdrawal does, if the consent it relies on no longer
        stands at ``at`` (it expired). Once: a referral already suspended or ended
        stays as it is. Returns whether it was suspended now."""
        if self.consent_id != consent.id or consent.is_active(at) or not self.is_active:
            return False
        self.suspend(consent.id, at)
        return True

    def escalate(self, at: datetime) -> bool:
        """Record, once per deadline, that it passed unanswered. Running the policy
        again (or after a restart) changes nothing: returns whether it escalated."""
        deadline = self.lifecycle.unescalated(at)
        due = self.lifecycle.due()
        if deadline is None or due is None:
            return False
        self.trigger_event(
            self.Escalated, timestamp=at, case_id=self.case_id, deadline=deadline.value, due=due
        )
        return True


# -- the lifecycle, folded from the events --------------------------------------------


_STATUSES = {s.value: s for s in ReferralStatus}  # as ReferralStatus(text), for less


@singledispatch
def lifecycle_after(event: object, lifecycle: Lifecycle | None) -> Lifecycle | None:
    """The referral's lifecycle once ``event`` happened (its events, in order, from
    ``None``): the one fold the aggregate, the views and the observatory use.
    Events that do not move the lifecycle leave it as it was."""
    return lifecycle


@lifecycle_after.register
def _sent(event: Referral.Sent, lifecycle: Lifecycle | None) -> Lifecycle | None:
    return Lifecycle.begun(event.timestamp, event.acknowledge_by, event.answer_by)


@lifecycle_after.register
def _moved(event: Referral.Moved, lifecycle: Lifecycle | None) -> Lifecycle | None:
    if lifecycle is None:
        return None
    return lifecycle.entered(_STATUSES[event.to_status], event.timestamp)


@lifecycle_after.register
def _suspended(event: Referral.Suspended, lifecycle: Lifecycle | None) -> Lifecycle | None:
    return None if lifecycle is None else lifecycle.entered(S.SUSPENDED, event.timestamp)


@lifecycle_after.register
def _escalated(event: Referral.Escalated, lifecycle: Lifecycle | None) -> Lifecycle | None:
    return None if lifecycle is None else lifecycle.escalated(Deadline(event.deadline))
