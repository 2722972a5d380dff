"""The served OpenAPI document says what the server does (issue 12, done-when 1).

schemathesis runs every check and every phase, the stateful one included,
against ``/schema/openapi.json`` of a served app (``support.conformance``):
each failure is a place where the document and the server disagree.

The default run is short and seeded, on SQLite and PostgreSQL, without the
coverage phase: one fuzzed example per operation and the stateful phase (two per
operation took 14-15 s a backend, most of it schemathesis generating them; one
takes 8). The long run (``make conformance``) sends at least 5,000 requests on
SQLite and on PostgreSQL::

    .venv/bin/pytest -n 0 -m slow tests/api/test_openapi_conformance.py
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from support.conformance import run_schemathesis
from support.http import Api

from infrastructure.settings import load_settings

SEED = 20261204
SHORT_EXAMPLES = 1
LONG_EXAMPLES = 125
LONG_REQUESTS = 5_000


@pytest.mark.long
def test_a_short_seeded_schemathesis_run_finds_nothing(
    rete_env: dict[str, str], tmp_path: Path
) -> None:
    # The coverage phase's many fixed cases are left to the long run.
    run = run_schemathesis(
        load_settings(rete_env), SHORT_EXAMPLES, SEED, tmp_path, phases="fuzzing,stateful"
    )
    assert run.returncode == 0, run.output
    assert "Stateful" in run.output


@pytest.mark.slow
def test_a_long_schemathesis_run_finds_nothing(rete_env: dict[str, str], tmp_path: Path) -> None:
    run = run_schemathesis(load_settings(rete_env), LONG_EXAMPLES, SEED, tmp_path)
    print(run.output[run.output.rfind("SUMMARY") :])  # shown by ``make conformance`` (-rP)
    assert run.returncode == 0, run.output
    assert run.generated >= LONG_REQUESTS, run.output


# Focused checks of what schemathesis found, so each stays fixed.


def test_options_names_every_method_of_the_address(api: Api) -> None:
    for path, methods in [
        ("/api/v1/cases", "GET, OPTIONS, POST"),
        ("/api/v1/cases/CB-2026-7KQ-4MW/legal-hold", "DELETE, OPTIONS, POST"),
    ]:
        response = api.client.options(path)
        assert response.headers["Allow"] == methods


def document(api: Api) -> dict:
    return json.loads(api.client.get("/schema/openapi.json").content)


def test_bodies_refuse_unknown_fields_in_the_document_as_on_the_wire(api: Api) -> None:
    schemas = document(api)["components"]["schemas"]
    for name in ("NoteBody", "ConsentBody", "ReferralBody", "ReasonBody", "OpenCaseBody"):
        assert schemas[name]["additionalProperties"] is False
    ref = api.ok(api.post("anna", "/api/v1/cases"), 201)["reference_code"]
    note = {"category": "violence", "text": "the facts", "colour": "red"}
    assert api.post("anna", f"/api/v1/cases/{ref}/notes", json=note).status_code == 400


def test_bodies_the_server_goes_without_are_not_required(api: Api) -> None:
    paths = document(api)["paths"]
    assert paths["/api/v1/cases"]["post"]["requestBody"]["required"] is False
    withdraw = paths["/api/v1/referrals/{referral_id}/withdraw"]["post"]
    assert withdraw["requestBody"]["required"] is False
    assert paths["/api/v1/cases/{case_ref}/notes"]["post"]["requestBody"]["required"] is True


def test_limits_and_words_are_in_the_document(api: Api) -> None:
    paths = document(api)["paths"]
    parameters = {p["name"]: p["schema"] for p in paths["/api/v1/referrals"]["get"]["parameters"]}
    assert (parameters["limit"]["minimum"], parameters["limit"]["maximum"]) == (1, 200)
    statuses = parameters["status"]["oneOf"][0]["items"]["enum"]
    assert "pending" in statuses or "sent" in statuses
    assert parameters["box"]["enum"] == ["inbox", "outbox"]
    assert api.get("anna", "/api/v1/referrals", params={"limit": 201}).status_code == 400
    events = {p["name"]: p["schema"] for p in paths["/api/v1/audit/events"]["get"]["parameters"]}
    assert (events["limit"]["minimum"], events["limit"]["maximum"]) == (1, 500)
    assert events["after"]["minimum"] == 0
    assert api.get("ugo", "/api/v1/audit/events", params={"limit": 501}).status_code == 400


def test_a_new_case_links_to_its_note_and_its_referral(api: Api) -> None:
    paths = document(api)["paths"]
    links = paths["/api/v1/cases"]["post"]["responses"]["201"]["links"]
    for operation in ("ApiV1CasesCaseRefNotesAddNote", "ApiV1CasesCaseRefReferralsRefer"):
        assert links[operation]["parameters"] == {"case_ref": "$response.body#/reference_code"}
    referred = paths["/api/v1/cases/{case_ref}/referrals"]["post"]["responses"]["201"]["links"]
    assert referred["ApiV1ReferralsReferralIdAcceptAccept"]["parameters"] == {
        "referral_id": "$response.body#/id"
    }


def test_required_texts_need_a_visible_character_in_the_document_as_on_the_wire(
    api: Api,
) -> None:
    pattern = re.compile(
        document(api)["components"]["schemas"]["NoteBody"]["properties"]["text"]["pattern"]
    )
    ref = api.ok(api.post("anna", "/api/v1/cases"), 201)["reference_code"]
    notes = f"/api/v1/cases/{ref}/notes"
    for text in [" \u200b\t", "\u0301", "\u3164"]:
        assert pattern.search(text) is None
        response = api.post("anna", notes, json={"category": "violence", "text": text})
        assert response.status_code == 400
    for text in ["the facts", "暴力", "\U0001f600"]:
        assert pattern.search(text) is not None
        assert (
            api.post("anna", notes, json={"category": "violence", "text": text}).status_code == 201
        )


def test_status_filters_are_at_most_ten_in_the_document_as_on_the_wire(api: Api) -> None:
    parameters = document(api)["paths"]["/api/v1/referrals"]["get"]["parameters"]
    status = next(p["schema"] for p in parameters if p["name"] == "status")
    assert status["maxItems"] == 10
    assert api.get("anna", "/api/v1/referrals", params={"status": ["sent"] * 10}).status_code == 200
    assert api.get("anna", "/api/v1/referrals", params={"status": ["sent"] * 11}).status_code == 400


def test_referrals_go_to_services_that_work_cases(api: Api) -> None:
    body = document(api)["components"]["schemas"]["ReferralBody"]
    recipients = body["properties"]["recipient_service"]["enum"]
    assert "pl-cesano" in recipients
    assert "osservatorio" not in recipients
