"""Over HTTP: a case's ETag is the reader's (it moves only with what that service
sees), and a mistyped reference code is refused before anything is read.

Runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from http_stories import POLICE_CONSENT, police_referral

CASES = "/api/v1/cases"


def test_the_police_etag_stays_put_through_a_note_they_may_not_read(any_backend_api, problem):
    api = any_backend_api
    ref = api.post("anna", CASES).json()["reference_code"]
    api.post("anna", f"{CASES}/{ref}/notes", json={"category": "violence", "text": "she told us"})
    api.post("anna", f"{CASES}/{ref}/consents", json=POLICE_CONSENT)
    sent = api.post("anna", f"{CASES}/{ref}/referrals", json=police_referral("threats"))
    assert sent.status_code == 201, sent.text

    first = api.get("paolo", f"{CASES}/{ref}")
    assert first.status_code == 200
    owner_first = api.get("anna", f"{CASES}/{ref}").headers["etag"]
    psychological = {"category": "health", "text": "what the psychologist found"}
    assert api.post("anna", f"{CASES}/{ref}/notes", json=psychological).status_code == 201

    again = api.get("paolo", f"{CASES}/{ref}")
    assert again.headers["etag"] == first.headers["etag"]
    assert again.json()["version"] == first.json()["version"]
    assert api.get("anna", f"{CASES}/{ref}").headers["etag"] != owner_first

    note = {"category": "violence", "text": "he came back"}
    assert api.post("anna", f"{CASES}/{ref}/notes", json=note).status_code == 201
    later = api.get("paolo", f"{CASES}/{ref}")
    assert later.headers["etag"] != first.headers["etag"]
    assert later.headers["etag"] == f'"{later.json()["version"]}"'


def test_a_mistyped_reference_code_is_a_404_that_says_so(any_backend_api, problem):
    api = any_backend_api
    ref = api.post("anna", CASES).json()["reference_code"]
    last = ref[-1]
    typo = ref[:-1] + ("7" if last != "7" else "8")
    swapped = ref[:-2] + ref[-1] + ref[-2]
    assert problem(api.get("anna", f"{CASES}/{typo}"), 404, "invalid-reference")
    if swapped != ref:
        assert problem(api.get("anna", f"{CASES}/{swapped}"), 404, "invalid-reference")
    note = {"category": "violence", "text": "x"}
    problem(api.post("anna", f"{CASES}/{typo}/notes", json=note), 404, "invalid-reference")
    assert api.get("anna", f"{CASES}/{ref.lower()}").json()["reference_code"] == ref
