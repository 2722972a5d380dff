"""Over HTTP: ``If-Match`` with the ``ETag`` a writer read makes a write on a case or
a referral fail with 412 when it changed since, and write nothing (issue 11,
finding 8; done-when 4). The ETag compared is the writer's own (a case's moves only
with what that service sees of it).

Runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import pytest
from http_stories import POLICE_CONSENT, police_referral, refer_to_social_services

from application.preconditions import PreconditionFailed, expecting

CASES = "/api/v1/cases"
REFERRALS = "/api/v1/referrals"
NOTE = {"category": "violence", "text": "he came back last night"}


def texts(api, ref: str) -> list[str]:
    return [e["text"] for e in api.get("anna", f"{CASES}/{ref}").json()["entries"]]


def test_a_note_on_a_stale_etag_is_412_and_writes_nothing(any_backend_api, problem) -> None:
    api = any_backend_api
    ref = api.post("anna", CASES).json()["reference_code"]
    read = api.get("anna", f"{CASES}/{ref}").headers["etag"]
    first = api.post("anna", f"{CASES}/{ref}/notes", json=NOTE, headers={"If-Match": read})
    assert first.status_code == 201, first.text

    stale = {"category": "violence", "text": "written over a version she never saw"}
    answer = api.post("anna", f"{CASES}/{ref}/notes", json=stale, headers={"If-Match": read})
    problem(answer, 412, "precondition-failed")
    assert texts(api, ref) == [NOTE["text"]]

    fresh = api.get("anna", f"{CASES}/{ref}").headers["etag"]
    again = api.post("anna", f"{CASES}/{ref}/notes", json=stale, headers={"If-Match": fresh})
    assert again.status_code == 201, again.text
    assert texts(api, ref) == [NOTE["text"], stale["text"]]


def test_if_match_star_and_lists_match_as_http_says(any_backend_api, problem) -> None:
    api = any_backend_api
    ref = api.post("anna", CASES).json()["reference_code"]
    fresh = api.get("anna", f"{CASES}/{ref}").headers["etag"]
    notes = f"{CASES}/{ref}/notes"
    assert api.post("anna", notes, json=NOTE, headers={"If-Match": "*"}).status_code == 201
    current = api.get("anna", f"{CASES}/{ref}").headers["etag"]
    listed = {"If-Match": f'{fresh}, "999", W/{current}'}
    assert api.post("anna", notes, json=NOTE, headers=listed).status_code == 201
    problem(
        api.post("anna", notes, json=NOTE, headers={"If-Match": '"999"'}),
        412,
        "precondition-failed",
    )


def test_a_referral_move_on_a_stale_etag_is_412(any_backend_api, problem) -> None:
    api = any_backend_api
    referral = refer_to_social_services(api, urgency="urgent")
    path = f"{REFERRALS}/{referral}"
    read = api.get("bea", path).headers["etag"]
    acknowledged = api.post("bea", f"{path}/acknowledge", headers={"If-Match": read})
    assert acknowledged.status_code == 200, acknowledged.text

    problem(
        api.post("bea", f"{path}/accept", headers={"If-Match": read}), 412, "precondition-failed"
    )
    assert api.get("bea", path).json()["status"] == "acknowledged"
    fresh = api.get("bea", path).headers["etag"]
    assert api.post("bea", f"{path}/accept", headers={"If-Match": fresh}).status_code == 200


def test_the_etag_compared_is_the_writers_own(any_backend_api, problem) -> None:
    """The police's ETag does not move with a note they may not read: their write on
    it goes through; the owner's ETag did move, and hers is refused."""
    api = any_backend_api
    ref = api.post("anna", CASES).json()["reference_code"]
    api.post("anna", f"{CASES}/{ref}/consents", json=POLICE_CONSENT)
    referral = api.post("anna", f"{CASES}/{ref}/referrals", json=police_referral("threats"))
    assert referral.status_code == 201, referral.text
    for move in ("acknowledge", "accept"):
        moved = api.post("paolo", f"{REFERRALS}/{referral.json()['id']}/{move}")
        assert moved.status_code == 200, moved.text
    police = api.get("paolo", f"{CASES}/{ref}").headers["etag"]
    owner = api.get("anna", f"{CASES}/{ref}").headers["etag"]

    health = {"category": "health", "text": "what the psychologist found"}
    assert api.post("anna", f"{CASES}/{ref}/notes", json=health).status_code == 201

    theirs = api.post("paolo", f"{CASES}/{ref}/notes", json=NOTE, headers={"If-Match": police})
    assert theirs.status_code == 201, theirs.text
    hers = api.post("anna", f"{CASES}/{ref}/notes", json=NOTE, headers={"If-Match": owner})
    problem(hers, 412, "precondition-failed")


def test_a_change_between_the_check_and_the_append_is_refused_too(rete, people) -> None:
    """The version If-Match was checked against is the one the append must follow:
    a write landing in between makes it a 412, not an overwrite."""
    anna = people.anna
    ref = rete.cases.open(anna).reference_code
    checked = rete.preconditions.case(anna, ref)
    rete.cases.add_note(anna, ref, "violence", "written meanwhile")
    with expecting(checked), pytest.raises(PreconditionFailed):
        rete.cases.add_note(anna, ref, "violence", "written over it")
    assert [e.text for e in rete.cases.get(anna, ref).entries] == ["written meanwhile"]
