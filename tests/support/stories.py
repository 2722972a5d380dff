"""Short ways to tell what many stories tell: a consent, a referral on consent, a risk
assessment's answers. Each takes the ordinary terms unless the story says otherwise."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from application.rete import Rete
from domain.network import Actor

# The items of the screening instrument "rete-screening-v1", in its order.
RISK_ITEMS = (
    "escalation",
    "strangulation",
    "weapon",
    "death_threats",
    "separation",
    "stalking",
    "pregnancy",
    "children_threatened",
    "substance_abuse",
    "protection_order_breach",
    "her_fear",
)


def record_consent(
    rete: Rete,
    actor: Actor,
    case_ref: str,
    *,
    kinds: Sequence[str] = ("social_services",),
    purposes: Sequence[str] = ("social_support",),
    categories: Sequence[str] = ("identity", "violence"),
    services: Sequence[str] = (),
    expires_at: datetime | None = None,
) -> Any:
    """What she agreed to: by default, social services may receive her identity and
    what happened, for social support; returns the consent as the application does."""
    terms = {"recipient_kinds": kinds, "recipient_services": services, "purposes": purposes}
    terms = {name: list(values) for name, values in terms.items()}
    return rete.cases.record_consent(
        actor, case_ref, **terms, categories_=list(categories), expires_at=expires_at
    )


# A referral on consent, as most stories send one.
ORDINARY_TERMS: dict[str, Any] = {
    "kind": "social_support",
    "urgency": "routine",
    "reason": "she needs a safe place to live",
    "scope": ["identity", "violence"],
    "legal_basis": "consent",
}


def refer(rete: Rete, actor: Actor, case_ref: str, to: str = "ss-cesano", **overrides: Any) -> Any:
    """A referral with ``ORDINARY_TERMS``; each story changes what it needs."""
    terms = {**ORDINARY_TERMS, **overrides}
    return rete.referrals.refer(actor, case_ref, recipient_service=to, **terms)


def refer_to_protect(
    rete: Rete, actor: Actor, case_ref: str, reason: str, justification: str, **overrides: Any
) -> Any:
    """A referral without her consent, on her vital interest: to the police, for
    protection measures, in an emergency; each story changes what it needs."""
    terms: dict[str, Any] = dict(
        kind="protection_measures",
        urgency="emergency",
        reason=reason,
        scope=["safety", "violence"],
        legal_basis="vital_interest",
        justification=justification,
    )
    return refer(rete, actor, case_ref, "pl-cesano", **{**terms, **overrides})


def referral_to_the_police_on_its_own_consent(
    rete: Rete, actor: Actor, case_ref: str, send: Callable[..., Any]
) -> Any:
    """A consent to tell the police of the violence, and a referral to them that
    relies on it alone (``send`` is the tests' fixture of that name)."""
    consent = record_consent(
        rete,
        actor,
        case_ref,
        kinds=["police"],
        purposes=["protection_measures"],
        categories=["violence"],
    )
    return send(
        rete,
        actor,
        case_ref,
        to="pl-cesano",
        kind="protection_measures",
        scope=["violence"],
        consent_id=consent.id,
    )
