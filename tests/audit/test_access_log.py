"""Every read of a case's personal data lands in its access log, seen by the owner
service and by auditors only. On SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest
from audit_support import CASES, REFERRALS, Http, Story

from application.access_log import IN_PROCESS
from application.errors import NotFound

CASE_ROUTE = "GET /api/v1/cases/{case_ref}"
REFERRAL_ROUTE = "GET /api/v1/referrals/{referral_id}"


def test_each_read_adds_one_entry_with_reader_categories_and_route(
    http: Http, story: Story
) -> None:
    assert http.log_of("chiara", story.ref) == []  # writing is not reading

    http.ok(http.get("anna", f"{CASES}/{story.ref}"))
    read_at = http.clock.at
    http.clock.tick()
    http.ok(http.get("anna", f"{CASES}/{story.case_id}"))  # by id: the same case
    seen = http.ok(http.get("paolo", f"{CASES}/{story.ref}"))
    assert [e["category"] for e in seen["entries"]] == ["violence"]
    http.ok(http.get("paolo", f"{REFERRALS}/{story.referral_id}"))

    log = http.log_of("chiara", story.ref)
    assert [(e["user_id"], e["service_id"], e["route"]) for e in log] == [
        ("paolo", "pl-cesano", REFERRAL_ROUTE),  # newest first
        ("paolo", "pl-cesano", CASE_ROUTE),
        ("anna", "cav-scirocco", CASE_ROUTE),
        ("anna", "cav-scirocco", CASE_ROUTE),
    ]
    owner_read, recipient_read = log[3], log[1]
    # The owner saw her notes, the risk assessment and the referral's reason (its scope).
    assert owner_read["categories"] == ["identity", "risk", "violence"]
    assert owner_read["read_at"] == read_at.isoformat().replace("+00:00", "Z")
    assert recipient_read["categories"] == ["violence"]
    assert log[0]["categories"] == ["violence"]  # the reason speaks of what it shares
    assert {e["kind"] for e in log} == {"read"} and {e["reason"] for e in log} == {None}
    assert all(e["case_id"] == story.case_id for e in log)


def test_the_owner_service_and_auditors_see_the_log_no_one_else(
    http: Http, story: Story, problem
) -> None:
    http.ok(http.get("paolo", f"{CASES}/{story.ref}"))
    for who in ("anna", "chiara", "ugo"):
        assert len(http.log_of(who, story.ref)) == 1, who
    assert len(http.log_of("ugo", story.case_id)) == 1
    # The police see the case (a referral of theirs is on it) but not who read it;
    # the other services cannot even learn the case exists.
    for who in ("paolo", "bea", "marta"):
        problem(http.get(who, f"{CASES}/{story.ref}/access-log"), 404, "not-found")
    problem(http.get("olga", f"{CASES}/{story.ref}/access-log"), 403, "role-not-allowed")
    problem(http.get("ugo", f"{CASES}/CB-2026-9999/access-log"), 404, "not-found")
    problem(http.get("anna", f"{CASES}/CB-2026-9999/access-log"), 404, "not-found")
    assert len(http.log_of("anna", story.ref)) == 1  # listing the log is not a read


def test_lists_carry_no_personal_field_and_add_no_entry(http: Http, story: Story) -> None:
    lists = [
        http.get("paolo", REFERRALS, params={"box": "inbox"}),
        http.get("anna", REFERRALS, params={"box": "outbox"}),
        http.get("anna", CASES),
        http.get("paolo", CASES),
    ]
    for answer in lists:
        assert answer.status_code == 200, answer.text
        assert not [m for m in story.markers if m in answer.text]
    inbox = lists[0].json()["items"]
    assert [r["id"] for r in inbox] == [story.referral_id]
    assert "reason" not in inbox[0] and "justification" not in inbox[0]
    assert inbox[0]["status"] == "accepted" and inbox[0]["scope"] == ["violence"]
    assert http.log_of("anna", story.ref) == []

    opened = http.ok(http.get("paolo", f"{REFERRALS}/{story.referral_id}"))
    assert opened["reason"] in story.markers  # opening it shows the reason, and is logged
    assert len(http.log_of("anna", story.ref)) == 1


def test_the_log_pages_newest_first(http: Http, story: Story) -> None:
    for _ in range(5):
        http.ok(http.get("anna", f"{CASES}/{story.ref}"))
        http.clock.tick()
    first = http.ok(http.get("chiara", f"{CASES}/{story.ref}/access-log", params={"limit": 2}))
    times = [e["read_at"] for e in first["items"]]
    cursor, pages = first["next_cursor"], 1
    while cursor:
        more = http.get("chiara", f"{CASES}/{story.ref}/access-log", params={"cursor": cursor})
        page = http.ok(more)
        times += [e["read_at"] for e in page["items"]]
        cursor, pages = page["next_cursor"], pages + 1
    assert pages == 2 and len(times) == 5
    assert times == sorted(times, reverse=True) and len(set(times)) == 5


def test_reading_an_erased_case_is_logged_with_nothing_shown(http: Http, story: Story) -> None:
    http.erase(story.ref)
    erased = http.ok(http.get("chiara", f"{CASES}/{story.ref}"))
    assert erased["status"] == "erased"
    assert all(e["text"] is None for e in erased["entries"])
    [entry] = http.log_of("ugo", story.ref)
    assert (entry["user_id"], entry["categories"]) == ("chiara", [])


def test_a_read_through_no_route_is_logged_as_in_process(http: Http, story: Story) -> None:
    """The demo, scripts and tests read through the application directly."""
    marta = http.rete.ctx.identify("marta", "asst-rhodense", ["caseworker"])
    anna = http.rete.ctx.identify("anna", "cav-scirocco", ["caseworker"])
    with pytest.raises(NotFound):
        http.rete.cases.get(marta, story.ref)
    http.rete.cases.get(anna, story.ref)
    [entry] = http.log_of("anna", story.ref)
    assert (entry["user_id"], entry["route"]) == ("anna", IN_PROCESS)
