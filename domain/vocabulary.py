"""The closed vocabularies of DOMAIN.md: categories, kinds, roles, referral terms.

They are ``StrEnum`` so that they read as the words caseworkers use, compare
equal to their stored text, and serialise as plain strings.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar

from domain import errors


class Category(StrEnum):
    """A category of personal data: what consent, referrals and visibility speak about."""

    IDENTITY = "identity"
    SAFETY = "safety"
    VIOLENCE = "violence"
    HEALTH = "health"
    CHILDREN = "children"
    LEGAL = "legal"
    EMPLOYMENT = "employment"
    RISK = "risk"


class ServiceKind(StrEnum):
    CAV = "cav"
    HEALTH = "health"
    SCHOOL = "school"
    POLICE = "police"
    SOCIAL_SERVICES = "social_services"
    EMPLOYMENT = "employment"
    OBSERVATORY = "observatory"
    OVERSIGHT = "oversight"


class Role(StrEnum):
    CASEWORKER = "caseworker"
    COORDINATOR = "coordinator"
    AUDITOR = "auditor"
    ANALYST = "analyst"


class ReferralKind(StrEnum):
    """What a referral asks of the recipient. Mediation is deliberately absent."""

    PSYCHOLOGICAL_SUPPORT = "psychological_support"
    LEGAL_ADVICE = "legal_advice"
    SHELTER = "shelter"
    HEALTH_ASSESSMENT = "health_assessment"
    CHILD_PROTECTION = "child_protection"
    PROTECTION_MEASURES = "protection_measures"
    SOCIAL_SUPPORT = "social_support"
    JOB_PLACEMENT = "job_placement"
    SCHOOL_SUPPORT = "school_support"


class Urgency(StrEnum):
    ROUTINE = "routine"
    URGENT = "urgent"
    EMERGENCY = "emergency"


class LegalBasis(StrEnum):
    CONSENT = "consent"
    LEGAL_OBLIGATION = "legal_obligation"
    VITAL_INTEREST = "vital_interest"


# The kinds of service that open, hold and answer cases.
CASE_WORKING_KINDS: frozenset[ServiceKind] = frozenset(
    {
        ServiceKind.CAV,
        ServiceKind.HEALTH,
        ServiceKind.SCHOOL,
        ServiceKind.POLICE,
        ServiceKind.SOCIAL_SERVICES,
        ServiceKind.EMPLOYMENT,
    }
)

# Public officials may make mandatory reports (art. 331 c.p.p., Codice Rosso, referto).
PUBLIC_OFFICIAL_KINDS: frozenset[ServiceKind] = frozenset(
    {ServiceKind.SCHOOL, ServiceKind.HEALTH, ServiceKind.POLICE, ServiceKind.SOCIAL_SERVICES}
)

_ALL = frozenset(Category)

# DOMAIN.md "Visibility": the most each kind of service may ever see.
VISIBILITY: dict[ServiceKind, frozenset[Category]] = {
    ServiceKind.CAV: _ALL,
    ServiceKind.HEALTH: _ALL - {Category.LEGAL, Category.EMPLOYMENT},
    ServiceKind.POLICE: _ALL - {Category.HEALTH, Category.EMPLOYMENT},
    ServiceKind.SOCIAL_SERVICES: _ALL - {Category.HEALTH},
    ServiceKind.SCHOOL: frozenset({Category.CHILDREN}),
    ServiceKind.EMPLOYMENT: frozenset({Category.IDENTITY, Category.SAFETY, Category.EMPLOYMENT}),
    # Aggregates only / non-personal facts only: never a category of a single case.
    ServiceKind.OBSERVATORY: frozenset(),
    ServiceKind.OVERSIGHT: frozenset(),
}

ROLES_BY_KIND: dict[ServiceKind, frozenset[Role]] = {
    **{kind: frozenset({Role.CASEWORKER, Role.COORDINATOR}) for kind in CASE_WORKING_KINDS},
    ServiceKind.OBSERVATORY: frozenset({Role.ANALYST}),
    ServiceKind.OVERSIGHT: frozenset({Role.AUDITOR}),
}

E = TypeVar("E", bound=StrEnum)


def parse(enum: type[E], value: str, error: type[errors.DomainError]) -> E:
    """Turn client text into a vocabulary word, or refuse it with the given error."""
    try:
        return enum(value)
    except ValueError:
        raise error(f"{value!r} is not one of: {', '.join(m.value for m in enum)}") from None


def categories(values: object) -> frozenset[Category]:
    """Parse a collection of category names."""
    if not isinstance(values, list | tuple | set | frozenset):
        raise errors.UnknownCategory("categories must be a list of category names")
    return frozenset(parse(Category, str(v), errors.UnknownCategory) for v in values)
