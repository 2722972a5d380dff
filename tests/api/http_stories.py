"""Stories the HTTP tests share."""

from __future__ import annotations

from typing import Any

# She consented to the police receiving her identity and the violence, for protection.
POLICE_CONSENT = {
    "recipient_kinds": ["police"],
    "purposes": ["protection_measures"],
    "categories": ["identity", "violence"],
}


def police_referral(reason: str, **overrides: Any) -> dict[str, Any]:
    """The terms of an urgent referral to the police on that consent."""
    terms = {
        "recipient_service": "pl-cesano",
        "kind": "protection_measures",
        "urgency": "urgent",
        "reason": reason,
        "scope": ["violence"],
        "legal_basis": "consent",
    }
    return {**terms, **overrides}


# She consented to social services receiving her identity, for shelter.
SHELTER_CONSENT = {
    "recipient_kinds": ["social_services"],
    "purposes": ["shelter"],
    "categories": ["identity"],
}


def shelter_referral(urgency: str) -> dict[str, Any]:
    """The terms of a referral to social services for shelter, on that consent."""
    return {
        "recipient_service": "ss-cesano",
        "kind": "shelter",
        "urgency": urgency,
        "reason": "she needs a safe place tonight",
        "scope": ["identity"],
        "legal_basis": "consent",
    }


def refer_to_social_services(api, urgency: str) -> str:
    """Anna at the CAV opens a case, records consent and refers it to social services."""
    case = api.post("anna", "/api/v1/cases").json()["reference_code"]
    api.post("anna", f"/api/v1/cases/{case}/consents", json=SHELTER_CONSENT)
    referral = api.post("anna", f"/api/v1/cases/{case}/referrals", json=shelter_referral(urgency))
    assert referral.status_code == 201, referral.text
    return str(referral.json()["id"])
