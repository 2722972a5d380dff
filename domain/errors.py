"""Domain errors: every refusal of a rule carries a stable, documented code.

The code is what clients program against (it becomes the problem ``type`` over
HTTP); the message is for people. Messages never contain personal data.
The base class says what kind of refusal it is, so the API can map a whole
family to one status without knowing every code.
"""

from __future__ import annotations

from typing import ClassVar


class DomainError(Exception):
    """A rule of the network refused a command."""

    code: ClassVar[str] = "domain-error"
    title: ClassVar[str] = "The command breaks a rule of the network"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class InvalidValue(DomainError):
    """A value is malformed or out of its range (a client error, 400)."""

    code = "invalid-value"


class NotPermitted(DomainError):
    """The actor may not do this (403)."""

    code = "not-permitted"


class InvalidState(DomainError):
    """The command does not fit the current state of the aggregate (409)."""

    code = "invalid-state"


class RuleViolation(DomainError):
    """Well-formed, permitted in principle, but a rule of DOMAIN.md refuses it (422)."""

    code = "rule-violation"


# Values


class UnknownCategory(InvalidValue):
    code = "unknown-category"
    title = "Unknown data category"


class UnknownService(InvalidValue):
    code = "unknown-service"
    title = "Unknown service"


class UnknownReferralKind(InvalidValue):
    code = "unknown-referral-kind"
    title = "Unknown referral kind"


class UnknownUrgency(InvalidValue):
    code = "unknown-urgency"
    title = "Unknown urgency"


class UnknownLegalBasis(InvalidValue):
    code = "unknown-legal-basis"
    title = "Unknown legal basis"


class UnknownServiceKind(InvalidValue):
    code = "unknown-service-kind"
    title = "Unknown kind of service"


class UnknownRiskLevel(InvalidValue):
    code = "unknown-risk-level"
    title = "Unknown risk level"


class NaiveDatetime(InvalidValue):
    code = "naive-datetime"
    title = "A date and time must carry its time zone"


class UnknownRole(InvalidValue):
    code = "unknown-role"
    title = "Unknown role"


class EmptyText(InvalidValue):
    code = "empty-text"
    title = "A required text is empty"


class EmptyScope(InvalidValue):
    code = "empty-scope"
    title = "A referral must share at least one category"


class UnknownInstrument(InvalidValue):
    code = "unknown-risk-instrument"
    title = "Unknown risk instrument"


class InvalidAnswers(InvalidValue):
    code = "invalid-risk-answers"
    title = "Risk answers do not match the instrument"


class InvalidConsentTerms(InvalidValue):
    code = "invalid-consent-terms"
    title = "A consent must name recipients, purposes, categories"


# Permission


class RoleNotAllowed(NotPermitted):
    code = "role-not-allowed"
    title = "This role cannot do this"


class NotOwnerService(NotPermitted):
    code = "not-owner-service"
    title = "Only the service that owns the case may do this"


class NotRecipient(NotPermitted):
    code = "not-recipient"
    title = "Only the recipient service may do this to a referral"


class NotSender(NotPermitted):
    code = "not-sender"
    title = "Only the sending service may do this"


class CategoryNotPermitted(NotPermitted):
    code = "category-not-permitted"
    title = "Your service's kind may not hold data in this category"


class NotParticipant(NotPermitted):
    code = "not-participant"
    title = "Only the sender's or the recipient's coordinators may do this"


class CoordinatorRequired(RoleNotAllowed):
    code = "coordinator-required"
    title = "Only a coordinator may do this"


# State


class InvalidTransition(InvalidState):
    code = "invalid-transition"
    title = "The referral cannot make this move from its state"


class CaseNotOpen(InvalidState):
    code = "case-not-open"
    title = "The case is closed or erased"


class CaseErased(InvalidState):
    code = "case-erased"
    title = "The case has been erased"


class ConsentNotActive(InvalidState):
    code = "consent-not-active"
    title = "The consent is already withdrawn or expired"


class UnknownConsent(InvalidState):
    code = "unknown-consent"
    title = "No such consent on this case"


class LegalHoldActive(InvalidState):
    code = "legal-hold"
    title = "The case is under legal hold and cannot be erased"


class NoLegalHold(InvalidState):
    code = "no-legal-hold"
    title = "The case is not under legal hold"


class DeadlineNotPassed(InvalidState):
    code = "deadline-not-passed"
    title = "A referral can only expire once its deadline has passed"


# Rules of the network


class SelfReferral(RuleViolation):
    code = "self-referral"
    title = "A service cannot refer to itself"


class MediationForbidden(RuleViolation):
    code = "mediation-forbidden"
    title = "Mediation is never a referral (Istanbul Convention, art. 48)"


class ScopeNotVisibleToRecipient(RuleViolation):
    code = "scope-not-visible-to-recipient"
    title = "The recipient's kind may not see a category in the referral's scope"


class ScopeNotVisibleToSender(RuleViolation):
    code = "scope-not-visible-to-sender"
    title = "A referral can only share categories the sender itself may see on the case"


class RecipientCannotWorkCases(RuleViolation):
    code = "recipient-cannot-work-cases"
    title = "Cases can only be referred to services that work cases"


class NoCoveringConsent(RuleViolation):
    code = "no-covering-consent"
    title = "No active consent covers this recipient, kind and every category in scope"


class LegalObligationNotAllowed(RuleViolation):
    code = "legal-obligation-not-allowed"
    title = (
        "Only public-official services (school, health, police, social services)"
        " make mandatory reports"
    )


class StatuteRequired(RuleViolation):
    code = "statute-required"
    title = "A referral under legal obligation must cite the statute"


class JustificationRequired(RuleViolation):
    code = "justification-required"
    title = "This legal basis needs a written justification"


class VitalInterestNeedsCoordinator(RuleViolation):
    code = "vital-interest-needs-coordinator"
    title = "Only a coordinator may refer on vital interest"


class RiskLevelLowered(RuleViolation):
    code = "risk-level-lowered"
    title = "Professional judgement may raise the computed risk level, never lower it"
