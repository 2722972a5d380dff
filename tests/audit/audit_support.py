"""What the audit tests share: the API on a backend, and one case story.

``Http`` is the shared API client (``support.http``) on the ``backend`` fixture's
database with the tests' own clock (it moves only when a test moves it), calling
people of the network by nickname: ``http.get("ugo", path)``.
``story`` is a case of the CAV with personal text in every place a personal
field can be, each a unique marker that must never show where it should not.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import uuid4

from support.http import Api
from support.stories import RISK_ITEMS

CASES = "/api/v1/cases"
REFERRALS = "/api/v1/referrals"
AUDIT = "/api/v1/audit"


class Http(Api):
    """The shared API client, with the audit stories' two errands."""

    def erase(self, ref: str) -> Any:
        """Chiara, the CAV's coordinator, lifts the legal hold and erases the case."""
        self.ok(self.delete("chiara", f"{CASES}/{ref}/legal-hold"))
        return self.ok(
            self.post("chiara", f"{CASES}/{ref}/erasure", json={"reason": "her request"})
        )

    def log_of(self, who: str, ref: str, **params: Any) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = self.ok(
            self.get(who, f"{CASES}/{ref}/access-log", params=params)
        )["items"]
        return items


@dataclass
class Story:
    ref: str
    case_id: str
    referral_id: str
    markers: list[str]
    # The moment between each step and the next, by the name of the step before it.
    moments: dict[str, datetime]


def tell_story(http: Http) -> Story:
    """Anna (CAV) opens a case, writes what happened, records her consent and refers
    the case to the police, who take it on; then the case goes under legal hold."""
    tag = uuid4().hex[:8]
    marker = {k: f"MARK-{k}-{tag}" for k in ("note", "identity", "risk", "reason", "hold")}
    moments: dict[str, datetime] = {}
    case = http.ok(http.post("anna", CASES), 201)
    ref = case["reference_code"]
    moments["opened"] = http.clock.tick()
    for category, text in (("violence", marker["note"]), ("identity", marker["identity"])):
        body = {"category": category, "text": text}
        http.ok(http.post("anna", f"{CASES}/{ref}/notes", json=body), 201)
    moments["noted"] = http.clock.tick()
    answers = dict.fromkeys(RISK_ITEMS, False) | {"death_threats": True}
    risk = {"instrument_id": "rete-screening-v1", "answers": answers, "judgement": "high"}
    risk["justification"] = marker["risk"]
    http.ok(http.post("anna", f"{CASES}/{ref}/risk-assessments", json=risk), 201)
    consent = {
        "recipient_kinds": ["police"],
        "purposes": ["protection_measures"],
        "categories": ["identity", "violence"],
    }
    http.ok(http.post("anna", f"{CASES}/{ref}/consents", json=consent), 201)
    moments["consented"] = http.clock.tick()
    referral = {
        "recipient_service": "pl-cesano",
        "kind": "protection_measures",
        "urgency": "urgent",
        "reason": marker["reason"],
        "scope": ["violence"],
        "legal_basis": "consent",
    }
    referral_id = http.ok(http.post("anna", f"{CASES}/{ref}/referrals", json=referral), 201)["id"]
    moments["referred"] = http.clock.tick()
    http.ok(http.post("paolo", f"{REFERRALS}/{referral_id}/acknowledge"))
    http.ok(http.post("paolo", f"{REFERRALS}/{referral_id}/accept"))
    moments["accepted"] = http.clock.tick()
    hold = {"reason": marker["hold"]}
    http.ok(http.post("chiara", f"{CASES}/{ref}/legal-hold", json=hold))
    http.clock.tick()
    return Story(ref, case["id"], referral_id, list(marker.values()), moments)
