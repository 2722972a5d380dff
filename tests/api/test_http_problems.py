"""Every error is an RFC 9457 problem with its own stable code, and says no more than it should."""

from __future__ import annotations

import pytest
from http_stories import POLICE_CONSENT, police_referral

CASES = "/api/v1/cases"
REFERRALS = "/api/v1/referrals"


@pytest.fixture
def case_ref(api):
    """Anna at the CAV opens a case, writes what happened; she consented to the police
    receiving the violence and her identity, for protection measures."""
    ref = api.post("anna", CASES).json()["reference_code"]
    api.post("anna", f"{CASES}/{ref}/notes", json={"category": "violence", "text": "the facts"})
    api.post("anna", f"{CASES}/{ref}/notes", json={"category": "health", "text": "injuries"})
    api.post("anna", f"{CASES}/{ref}/consents", json=POLICE_CONSENT)
    return ref


def referral_terms(**overrides):
    return police_referral("he threatened her again", **overrides)


@pytest.fixture
def referral_id(api, case_ref):
    return api.post("anna", f"{CASES}/{case_ref}/referrals", json=referral_terms()).json()["id"]


# -- 400 -------------------------------------------------------------------------


def test_an_unknown_field_is_refused_without_echoing_values(api, case_ref, problem):
    response = api.post(
        "anna",
        f"{CASES}/{case_ref}/notes",
        json={"category": "violence", "text": "ok", "victim_name": "SECRET-VALUE-123"},
    )
    body = problem(response, 400, "invalid-body")
    assert "victim_name" in body["detail"]
    assert "SECRET-VALUE-123" not in response.text


def test_a_wrong_type_names_the_field(api, case_ref, problem):
    response = api.post("anna", f"{CASES}/{case_ref}/notes", json={"category": 7, "text": "ok"})
    body = problem(response, 400, "invalid-body")
    assert body["errors"] == [{"field": "category", "message": "Expected `str`, got `int`"}]


def test_an_oversized_text_is_refused_without_echoing_it(api, case_ref, problem):
    text = "SECRET" + "x" * 20_000
    response = api.post(
        "anna", f"{CASES}/{case_ref}/notes", json={"category": "violence", "text": text}
    )
    body = problem(response, 400, "invalid-body")
    assert body["errors"][0]["field"] == "text"
    assert "SECRET" not in response.text


def test_too_many_items_are_refused(api, case_ref, problem):
    response = api.post(
        "anna",
        f"{CASES}/{case_ref}/referrals",
        json=referral_terms(scope=["violence"] * 21),
    )
    assert problem(response, 400, "invalid-body")["errors"][0]["field"] == "scope"


def test_a_consent_expiry_needs_a_time_zone(api, case_ref, problem):
    response = api.post(
        "anna",
        f"{CASES}/{case_ref}/consents",
        json={
            "recipient_kinds": ["police"],
            "purposes": ["protection_measures"],
            "categories": ["violence"],
            "expires_at": "2027-01-01T00:00:00",
        },
    )
    problem(response, 400, "invalid-body")


def test_malformed_json_is_refused(api, case_ref, problem):
    response = api.post(
        "anna",
        f"{CASES}/{case_ref}/notes",
        content=b'{"category": "violence", "text": "SECRET',
        headers={"content-type": "application/json"},
    )
    body = problem(response, 400, "invalid-body")
    assert "SECRET" not in response.text
    assert body["detail"] == "the body is not valid JSON"


def test_a_body_over_the_limit_is_refused(api, case_ref, problem):
    response = api.post(
        "anna",
        f"{CASES}/{case_ref}/notes",
        content=b"x" * (1024 * 1024 + 1),
        headers={"content-type": "application/json"},
    )
    problem(response, 413, "body-too-large")


def test_a_bad_query_parameter_is_refused_without_echoing_it(api, problem):
    response = api.get("anna", CASES, params={"limit": "SECRET"})
    body = problem(response, 400, "invalid-parameter")
    assert body["errors"][0]["field"] == "limit"
    assert "SECRET" not in response.text


def test_a_domain_value_error_keeps_its_code(api, case_ref, problem):
    response = api.post(
        "anna", f"{CASES}/{case_ref}/notes", json={"category": "gossip", "text": "x"}
    )
    problem(response, 400, "unknown-category")
    problem(api.get("anna", CASES, params={"limit": "0"}), 400, "invalid-limit")


# -- 403 -------------------------------------------------------------------------


def test_the_sender_cannot_accept_its_own_referral(api, referral_id, problem):
    api.post("paolo", f"{REFERRALS}/{referral_id}/acknowledge")
    problem(api.post("anna", f"{REFERRALS}/{referral_id}/accept"), 403, "not-recipient")


def test_an_auditor_cannot_open_a_case(api, problem):
    problem(api.post("ugo", CASES), 403, "role-not-allowed")


# -- 404 -------------------------------------------------------------------------


def test_an_unrelated_service_cannot_learn_that_a_case_exists(api, case_ref, problem):
    problem(api.get("marta", f"{CASES}/{case_ref}"), 404, "not-found")
    problem(api.get("marta", f"{CASES}/CB-2026-9999"), 404, "not-found")
    assert api.get("marta", CASES).json()["items"] == []


def test_unknown_referrals_and_routes_are_not_found(api, referral_id, problem):
    problem(api.get("anna", f"{REFERRALS}/not-a-uuid"), 404, "not-found")
    problem(api.get("anna", f"{REFERRALS}/00000000-0000-0000-0000-000000000000"), 404, "not-found")
    problem(api.get("marta", f"{REFERRALS}/{referral_id}"), 404, "not-found")
    problem(api.get("anna", "/api/v1/nothing-here?q=SECRET"), 404, "not-found")


def test_a_wrong_method_is_refused_with_allow(api, case_ref, problem):
    response = api.delete("anna", f"{CASES}/{case_ref}")
    problem(response, 405, "method-not-allowed")
    assert "GET" in response.headers["allow"]


# -- 409 -------------------------------------------------------------------------


def test_accepting_without_acknowledging_is_an_invalid_transition(api, referral_id, problem):
    problem(api.post("paolo", f"{REFERRALS}/{referral_id}/accept"), 409, "invalid-transition")


def test_lifting_a_hold_that_is_not_there_conflicts(api, case_ref, problem):
    problem(api.delete("chiara", f"{CASES}/{case_ref}/legal-hold"), 409, "no-legal-hold")


# -- 422 -------------------------------------------------------------------------


def test_the_police_may_not_receive_health_data(api, case_ref, problem):
    response = api.post(
        "anna", f"{CASES}/{case_ref}/referrals", json=referral_terms(scope=["health"])
    )
    problem(response, 422, "scope-not-visible-to-recipient")


def test_a_referral_on_consent_needs_a_covering_consent(api, case_ref, problem):
    response = api.post(
        "anna",
        f"{CASES}/{case_ref}/referrals",
        json=referral_terms(recipient_service="ss-cesano", kind="social_support"),
    )
    problem(response, 422, "no-covering-consent")


def test_a_mandatory_report_must_cite_its_statute(api, problem):
    ref = api.post("lia", CASES).json()["reference_code"]
    api.post("lia", f"{CASES}/{ref}/notes", json={"category": "children", "text": "bruises"})
    response = api.post(
        "lia",
        f"{CASES}/{ref}/referrals",
        json=referral_terms(
            recipient_service="ss-cesano",
            kind="child_protection",
            scope=["children"],
            legal_basis="legal_obligation",
            justification="a child at risk",
        ),
    )
    problem(response, 422, "statute-required")


# -- 500 -------------------------------------------------------------------------


def test_an_unexpected_failure_says_nothing_of_itself(api, case_ref, problem, monkeypatch):
    def fail(*_args, **_kwargs):
        raise RuntimeError("SECRET internal detail")

    monkeypatch.setattr(api.rete.cases, "get", fail)
    response = api.get("anna", f"{CASES}/{case_ref}")
    problem(response, 500, "internal-error")
    assert "SECRET" not in response.text
    assert "RuntimeError" not in response.text
