"""A caseworker narrows her lists to what she works on (issue 12, finding 4).

``GET /api/v1/cases`` and the boxes filter by status, high risk, overdue,
urgency, kind and counterpart; each filter word is checked, an unknown query
parameter is refused rather than ignored, and the OpenAPI document states them.
Runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from typing import Any

import pytest
from http_stories import POLICE_CONSENT, SHELTER_CONSENT, police_referral, shelter_referral

CASES = "/api/v1/cases"
REFERRALS = "/api/v1/referrals"


@pytest.fixture
def story(any_backend_api) -> dict[str, str]:
    """The CAV's cases by nickname (reference codes), and their referrals' ids:
    ``shelter`` (an emergency to social services, two hours unanswered: overdue),
    ``police`` (urgent, to the police, high risk, not overdue yet), ``closed``,
    ``erased`` (high risk before it was erased), ``quiet`` (nothing but open)."""
    api = any_backend_api
    refs = {}
    for name in ("shelter", "police", "closed", "erased", "quiet"):
        refs[name] = api.ok(api.post("anna", CASES), 201)["reference_code"]
    api.ok(api.post("anna", f"{CASES}/{refs['shelter']}/consents", json=SHELTER_CONSENT), 201)
    sent = api.post(
        "anna", f"{CASES}/{refs['shelter']}/referrals", json=shelter_referral("emergency")
    )
    refs["shelter-referral"] = api.ok(sent, 201)["id"]
    api.ok(api.post("anna", f"{CASES}/{refs['police']}/consents", json=POLICE_CONSENT), 201)
    sent = api.post("anna", f"{CASES}/{refs['police']}/referrals", json=police_referral("again"))
    refs["police-referral"] = api.ok(sent, 201)["id"]
    for name in ("police", "erased"):
        assess_high_risk(api, refs[name])
    api.ok(api.post("anna", f"{CASES}/{refs['closed']}/closure"))
    erased = api.post("chiara", f"{CASES}/{refs['erased']}/erasure", json={"reason": "her wish"})
    api.ok(erased)
    api.clock.advance(hours=2)  # the emergency was to be acknowledged within 1 h
    return refs


def assess_high_risk(api, case_ref: str) -> None:
    instrument_id, instrument = next(iter(api.rete.ctx.instruments.items()))
    answers = {item.id: True for item in instrument.items}
    body = {"instrument_id": instrument_id, "answers": answers}
    assessed = api.ok(api.post("anna", f"{CASES}/{case_ref}/risk-assessments", json=body), 201)
    assert assessed["level"] == "high"


def listed(api, who: str, path: str, **params: Any) -> list[str]:
    """Every item of the list, page by page (what names it: reference code or id)."""
    found: list[str] = []
    cursor = None
    while True:
        page = api.ok(api.get(who, path, params={**params, "limit": 2, "cursor": cursor}))
        found += [item.get("reference_code", item["id"]) for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return found


def cases(api, story: dict[str, str], **params: Any) -> set[str]:
    by_ref = {ref: name for name, ref in story.items()}
    return {by_ref[ref] for ref in listed(api, "anna", CASES, **params)}


def test_the_case_list_filters_by_status_and_high_risk(any_backend_api, story) -> None:
    api = any_backend_api
    assert cases(api, story) == {"shelter", "police", "closed", "erased", "quiet"}
    assert cases(api, story, status="closed") == {"closed"}
    assert cases(api, story, status=["open", "erased"]) == {"shelter", "police", "quiet", "erased"}
    assert cases(api, story, high_risk="true") == {"police"}
    # An erased case keeps no flag: it is neither high risk nor not.
    assert cases(api, story, high_risk="false") == {"shelter", "closed", "quiet"}
    assert cases(api, story, status="open", high_risk="false") == {"shelter", "quiet"}


def test_the_case_list_filters_by_its_referrals(any_backend_api, story) -> None:
    api = any_backend_api
    assert cases(api, story, urgency="emergency") == {"shelter"}
    assert cases(api, story, urgency=["emergency", "urgent"]) == {"shelter", "police"}
    assert cases(api, story, kind="protection_measures") == {"police"}
    assert cases(api, story, counterpart="ss-cesano") == {"shelter"}
    assert cases(api, story, counterpart="ic-leonardo") == set()
    assert cases(api, story, overdue="true") == {"shelter"}
    assert cases(api, story, overdue="false") == {"police", "closed", "erased", "quiet"}
    assert cases(api, story, overdue="false", urgency="urgent") == {"police"}
    assert cases(api, story, overdue="true", counterpart="pl-cesano") == set()
    # The recipient lists the case by what it shares with the sender.
    assert listed(api, "bea", CASES, counterpart="cav-scirocco") == [story["shelter"]]
    assert listed(api, "bea", CASES, counterpart="pl-cesano") == []


def test_the_boxes_filter_by_every_word(any_backend_api, story) -> None:
    api = any_backend_api
    shelter, police = story["shelter-referral"], story["police-referral"]

    def outbox(**params: Any) -> list[str]:
        return listed(api, "anna", REFERRALS, box="outbox", **params)

    assert outbox() == [shelter, police]  # the emergency first
    assert outbox(urgency="urgent") == [police]
    assert outbox(kind="shelter") == [shelter]
    assert outbox(counterpart="pl-cesano") == [police]
    assert outbox(counterpart=["pl-cesano", "ss-cesano"]) == [shelter, police]
    assert outbox(high_risk="true") == [police]
    assert outbox(high_risk="false") == [shelter]
    assert outbox(overdue="true") == [shelter]
    assert outbox(overdue="false") == [police]
    assert outbox(status="sent", overdue="true", urgency="emergency") == [shelter]
    assert outbox(status="accepted") == []
    assert listed(api, "bea", REFERRALS, counterpart="cav-scirocco") == [shelter]
    assert listed(api, "bea", REFERRALS, counterpart="pl-cesano") == []
    api.ok(api.post("bea", f"{REFERRALS}/{shelter}/acknowledge"))
    # Acknowledged: the answer is owed within 4 h of sending, not yet passed.
    assert outbox(overdue="true") == []
    assert outbox(status="acknowledged") == [shelter]


# Words both lists refuse alike, then what only one of them is asked.
REFUSED_BY_BOTH: list[tuple[dict[str, Any], str]] = [
    ({"urgency": "asap"}, "unknown-urgency"),
    ({"kind": "mediation"}, "unknown-referral-kind"),
    ({"counterpart": "nowhere"}, "unknown-service"),
    ({"high_risk": "maybe"}, "invalid-parameter"),
]


@pytest.mark.parametrize(
    ("path", "params", "code"),
    [
        (CASES, {"status": "lost"}, "unknown-case-status"),
        (CASES, {"overdue": "soon"}, "invalid-parameter"),
        (CASES, {"status": ["open"] * 11}, "invalid-parameter"),
        (REFERRALS, {"status": "lost"}, "unknown-status"),
        (REFERRALS, {"box": "spam"}, "unknown-box"),
        *[(path, params, code) for path in (CASES, REFERRALS) for params, code in REFUSED_BY_BOTH],
    ],
)
def test_a_filter_word_the_server_does_not_know_is_refused(
    api, problem, path: str, params: dict[str, Any], code: str
) -> None:
    problem(api.get("anna", path, params=params), 400, code)


@pytest.mark.parametrize("path", [CASES, REFERRALS, f"{CASES}/CB-2026-0001/access-log"])
def test_an_unknown_query_parameter_is_refused_by_name(api, problem, path: str) -> None:
    body = problem(
        api.get("anna", path, params={"hight_risk": "true", "limit": 5}),
        400,
        "unknown-parameter",
    )
    unknown, _, taken = body["detail"].partition(";")
    assert "'hight_risk'" in unknown and "limit" not in unknown
    assert "limit" in taken


def test_a_cursor_holds_for_the_list_and_filters_it_was_given_for(api, problem) -> None:
    for _ in range(3):
        api.ok(api.post("anna", CASES), 201)
    first = api.ok(api.get("anna", CASES, params={"limit": 1}))
    cursor = first["next_cursor"]
    assert api.ok(api.get("anna", CASES, params={"limit": 1, "cursor": cursor}))["items"]
    refused = [
        api.get("anna", CASES, params={"limit": 1, "cursor": cursor, "status": "open"}),
        api.get("chiara", REFERRALS, params={"cursor": cursor}),
        api.get("bea", CASES, params={"cursor": cursor}),  # another service's walk
        api.get(
            "anna", CASES, params={"cursor": cursor[:-2] + ("AA" if cursor[-2:] != "AA" else "BB")}
        ),
    ]
    for response in refused:
        problem(response, 400, "invalid-cursor")


def test_the_document_states_every_filter_and_its_words(api) -> None:
    document = api.ok(api.get(None, "/schema/openapi.json"))
    services = sorted(s.id for s in api.rete.ctx.directory)
    for path in (CASES, REFERRALS):
        parameters = {p["name"]: p for p in document["paths"][path]["get"]["parameters"]}
        assert {"status", "high_risk", "overdue", "urgency", "kind", "counterpart"} <= set(
            parameters
        )
        for flag in ("high_risk", "overdue"):
            assert {"type": "boolean"} in parameters[flag]["schema"]["oneOf"]

        def words(name: str, parameters=parameters) -> list[str]:
            (array,) = [s for s in parameters[name]["schema"]["oneOf"] if s["type"] == "array"]
            return list(array["items"]["enum"])

        assert words("urgency") == ["emergency", "routine", "urgent"]
        assert "shelter" in words("kind") and "mediation" not in words("kind")
        assert words("counterpart") == services
        assert parameters["limit"]["schema"]["maximum"] == 200
    cases_status = {p["name"]: p for p in document["paths"][CASES]["get"]["parameters"]}["status"]
    assert {"type": "array", "items": {"type": "string", "enum": ["closed", "erased", "open"]}} in (
        cases_status["schema"]["oneOf"]
    )
