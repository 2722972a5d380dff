"""The README walkthrough over HTTP: the CAV refers a case to the police, who take it on.

Runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from http_stories import POLICE_CONSENT, police_referral

CASES = "/api/v1/cases"
REFERRALS = "/api/v1/referrals"


def test_the_cav_refers_a_case_and_the_police_accept_it(any_backend_api):
    api = any_backend_api

    opened = api.post("anna", CASES)
    assert opened.status_code == 201
    case = opened.json()
    assert case["owner_service"] == "cav-scirocco"
    assert case["reference_code"].startswith("CB-2026-")
    assert opened.headers["etag"] == f'"{case["version"]}"'
    ref = case["reference_code"]

    note = api.post(
        "anna", f"{CASES}/{ref}/notes", json={"category": "violence", "text": "what she told us"}
    )
    assert note.status_code == 201
    assert note.json()["category"] == "violence"

    consent = api.post("anna", f"{CASES}/{ref}/consents", json=POLICE_CONSENT)
    assert consent.status_code == 201
    assert consent.json()["active"] is True

    terms = police_referral("he threatened her again yesterday")
    sent = api.post("anna", f"{CASES}/{ref}/referrals", json=terms)
    assert sent.status_code == 201, sent.text
    referral = sent.json()
    assert referral["status"] == "sent"
    assert referral["consent_id"] == consent.json()["id"]
    assert sent.headers["etag"] == '"1"'
    rid = referral["id"]

    inbox = api.get("paolo", REFERRALS, params={"box": "inbox"})
    assert inbox.status_code == 200
    assert [r["id"] for r in inbox.json()["items"]] == [rid]

    acknowledged = api.post("paolo", f"{REFERRALS}/{rid}/acknowledge")
    assert acknowledged.status_code == 200
    assert acknowledged.json()["status"] == "acknowledged"
    assert acknowledged.headers["etag"] == '"2"'

    accepted = api.post("paolo", f"{REFERRALS}/{rid}/accept")
    assert accepted.status_code == 200
    assert accepted.json()["status"] == "accepted"
    assert accepted.headers["etag"] == '"3"'

    # The police see the case, and only the category the referral shares.
    seen = api.get("paolo", f"{CASES}/{ref}")
    assert seen.status_code == 200
    assert seen.json()["visible_categories"] == ["violence"]
    assert [e["text"] for e in seen.json()["entries"]] == ["what she told us"]
    assert seen.headers["etag"] == f'"{seen.json()["version"]}"'

    outbox = api.get("anna", REFERRALS, params={"box": "outbox", "status": "accepted"})
    assert [r["status"] for r in outbox.json()["items"]] == ["accepted"]
    assert api.get("anna", f"{REFERRALS}/{rid}").json()["status"] == "accepted"
