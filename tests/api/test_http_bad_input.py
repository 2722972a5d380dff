"""Bad input answers a 4xx problem, never a 500, and loses nothing (issue 10, finding 6).

Each case runs on SQLite and on PostgreSQL: the overflows in particular come from
the database driver, and each driver fails its own way.
"""

from __future__ import annotations

import base64

import pytest

CASES = "/api/v1/cases"
REFERRALS = "/api/v1/referrals"
JSON = {"content-type": "application/json"}


def cursor_for(offset: int) -> str:
    """A cursor built the way the server builds them, but for any offset."""
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode().rstrip("=")


@pytest.fixture
def case_ref(any_backend_api):
    api = any_backend_api
    ref = api.post("anna", CASES).json()["reference_code"]
    api.post("anna", f"{CASES}/{ref}/notes", json={"category": "violence", "text": "the facts"})
    return ref


def notes_of(api, ref):
    return [n["text"] for n in api.get("anna", f"{CASES}/{ref}").json()["entries"]]


def test_json_nested_thousands_of_levels_deep_is_a_bad_body(any_backend_api, case_ref, problem):
    api = any_backend_api
    for body in (b"[" * 5_000 + b"]" * 5_000, b'{"text":' + b"[" * 100_000 + b"]" * 100_000 + b"}"):
        response = api.post("anna", f"{CASES}/{case_ref}/notes", content=body, headers=JSON)
        problem(response, 400, "invalid-body")
    assert notes_of(api, case_ref) == ["the facts"]


def test_json_a_little_deeper_than_any_body_needs_is_refused(any_backend_api, case_ref, problem):
    api = any_backend_api
    body = b'{"category": "violence", "text": "x", "extra": ' + b"[" * 40 + b"]" * 40 + b"}"
    response = api.post("anna", f"{CASES}/{case_ref}/notes", content=body, headers=JSON)
    assert "deeper" in problem(response, 400, "invalid-body")["detail"]


def test_brackets_inside_strings_do_not_count_as_depth(any_backend_api, case_ref):
    api = any_backend_api
    text = '[[[[{{{{"\\"' * 100
    response = api.post(
        "anna", f"{CASES}/{case_ref}/notes", json={"category": "violence", "text": text}
    )
    assert response.status_code == 201, response.text
    assert notes_of(api, case_ref) == ["the facts", text]


def test_invalid_utf8_in_a_string_is_a_bad_body(any_backend_api, case_ref, problem):
    api = any_backend_api
    for raw in (b"\xff\xfe", b"\xc3", b"\xed\xa0\x80", b"ok \x80 SECRET"):
        body = b'{"category": "violence", "text": "' + raw + b'"}'
        response = api.post("anna", f"{CASES}/{case_ref}/notes", content=body, headers=JSON)
        problem(response, 400, "invalid-body")
        assert "SECRET" not in response.text
    assert notes_of(api, case_ref) == ["the facts"]


@pytest.mark.parametrize(
    "path", [CASES, REFERRALS, f"{CASES}/{{ref}}/access-log"], ids=["cases", "referrals", "log"]
)
def test_a_cursor_for_an_absurd_offset_is_refused(any_backend_api, case_ref, problem, path):
    api = any_backend_api
    for offset in (10**26, 2**63, 2**63 - 1):
        response = api.get("anna", path.format(ref=case_ref), params={"cursor": cursor_for(offset)})
        problem(response, 400, "invalid-cursor")


def test_an_audit_position_past_any_database_integer_is_refused(any_backend_api, problem):
    api = any_backend_api
    for after in ("9223372036854775807", "9223372036854775808", str(10**30)):
        response = api.get("ugo", "/api/v1/audit/events", params={"after": after})
        body = problem(response, 400, "invalid-parameter")
        assert body["errors"][0]["field"] == "after"
    assert api.get("ugo", "/api/v1/audit/events").status_code == 200


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
def test_a_body_that_is_not_json_is_unsupported(any_backend_api, case_ref, problem, content_type):
    api = any_backend_api
    headers = {"content-type": content_type} if content_type else {}
    response = api.post(
        "anna",
        f"{CASES}/{case_ref}/notes",
        content=b'{"category": "violence", "text": "sent as text"}',
        headers=headers,
    )
    problem(response, 415, "unsupported-media-type")
    assert notes_of(api, case_ref) == ["the facts"]


def test_json_media_types_with_parameters_are_json(any_backend_api, case_ref):
    api = any_backend_api
    for content_type in ("application/json; charset=utf-8", "Application/JSON"):
        response = api.post(
            "anna",
            f"{CASES}/{case_ref}/notes",
            content=b'{"category": "violence", "text": "more"}',
            headers={"content-type": content_type},
        )
        assert response.status_code == 201, response.text


def test_a_status_filter_longer_than_declared_is_refused(any_backend_api, problem):
    api = any_backend_api
    response = api.get("anna", REFERRALS, params=[("status", "sent")] * 11)
    assert problem(response, 400, "invalid-parameter")["errors"][0]["field"] == "status"
    assert api.get("anna", REFERRALS, params=[("status", "sent")] * 10).status_code == 200


def test_a_cursor_longer_than_declared_is_refused(any_backend_api, problem):
    api = any_backend_api
    response = api.get("anna", CASES, params={"cursor": "A" * 201})
    assert problem(response, 400, "invalid-parameter")["errors"][0]["field"] == "cursor"


def test_the_api_document_says_which_routes_may_refuse_a_body(api):
    paths = api.client.get("/schema/openapi.json").json()["paths"]
    notes = paths["/api/v1/cases/{case_ref}/notes"]["post"]["responses"]
    assert {"413", "415"} <= set(notes)
    assert notes["415"]["content"].keys() == {"application/problem+json"}
    closure = paths["/api/v1/cases/{case_ref}/closure"]["post"]["responses"]
    assert not {"413", "415"} & set(closure)


def test_an_unknown_schema_page_is_a_problem_too(api, problem):
    problem(api.client.get("/schema/swagger"), 404, "not-found")
    assert api.client.get("/schema").status_code == 200
