"""Auditors replay the history: the whole log in order, and one case to a moment,
non-personal facts only. On SQLite and on PostgreSQL."""

from __future__ import annotations

from typing import Any

from audit_support import AUDIT, CASES, REFERRALS, Http, Story

from domain.access import AccessRecord
from domain.case import Case
from domain.referral import Referral


def every_event(http: Http, limit: int = 500) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    after: int | None = 0
    while after is not None:
        page = http.ok(http.get("ugo", f"{AUDIT}/events", params={"after": after, "limit": limit}))
        events += page["items"]
        after = page["next_after"]
    return events


def test_the_log_in_order_with_every_personal_field_sealed(http: Http, story: Story) -> None:
    http.ok(http.get("paolo", f"{REFERRALS}/{story.referral_id}"))  # an access record too
    stored = http.rete.ctx.store.recorder.select_notifications(start=1, limit=1000)  # type: ignore[attr-defined]

    events = every_event(http, limit=3)
    assert events == every_event(http)  # pages of 3 or one page: the same history
    assert [(e["position"], e["stream_id"], e["version"]) for e in events] == [
        (n.id, str(n.originator_id), n.originator_version) for n in stored
    ]
    assert [e["type"] for e in events] == [n.topic.split(":")[1] for n in stored]
    assert {e["aggregate"] for e in events} == {
        "case",
        "referral",
        "access_record",
    }
    answer = http.get("ugo", f"{AUDIT}/events", params={"limit": 500}).text
    assert not [m for m in story.markers if m in answer]

    by_type = {e["type"]: e for e in events}
    note = by_type["Case.NoteAdded"]
    assert note["fields"]["text"] == "sealed"
    assert (note["fields"]["category"], note["user_id"], note["service_id"]) == (
        "identity",
        "anna",
        "cav-scirocco",
    )
    sent = by_type["Referral.Sent"]["fields"]
    assert (sent["reason"], sent["justification"]) == ("sealed", "sealed")  # even when empty
    assert (sent["kind"], sent["scope"], sent["case_id"]) == (
        "protection_measures",
        ["violence"],
        story.case_id,
    )
    risk = by_type["Case.RiskAssessed"]["fields"]
    # Her answers and level, and the high-risk flag derived from them (issue 10,
    # finding 2): an auditor sees non-personal facts only.
    withheld = Case.RiskAssessed.PERSONAL_FIELDS | Case.RiskAssessed.DERIVED_FIELDS
    assert {k for k, v in risk.items() if v == "sealed"} == withheld
    assert risk["high_risk"] == "sealed"
    assert by_type["Case.LegalHoldPlaced"]["fields"]["reason"] == "sealed"
    read = by_type["AccessRecord.Recorded"]
    assert (read["user_id"], read["fields"]["categories"]) == ("paolo", ["violence"])
    assert AccessRecord.Recorded.__qualname__ in by_type and Referral.Moved.__qualname__ in by_type


def test_the_log_is_for_auditors_and_refuses_bad_pages(http: Http, story: Story, problem) -> None:
    for who in ("anna", "chiara", "olga"):
        problem(http.get(who, f"{AUDIT}/events"), 403, "role-not-allowed")
    for params, code in [
        ({"limit": 0}, "invalid-limit"),
        ({"limit": 501}, "invalid-limit"),
        ({"after": -1}, "invalid-position"),
        ({"after": "x"}, "invalid-parameter"),
    ]:
        problem(http.get("ugo", f"{AUDIT}/events", params=params), 400, code)
    head = http.ok(http.get("ugo", f"{AUDIT}/events", params={"after": 10_000}))
    assert head == {"items": [], "next_after": None}


def history(http: Http, story: Story, **params: Any) -> dict[str, Any]:
    path = f"{AUDIT}/cases/{story.ref}/history"
    return http.ok(http.get("ugo", path, params={k: v.isoformat() for k, v in params.items()}))


def test_a_case_replayed_to_a_moment_shows_what_had_happened_then(http: Http, story: Story) -> None:
    http.ok(http.get("paolo", f"{CASES}/{story.ref}"))
    everything = history(http, story)
    assert everything["state"]["legal_hold"] is True
    assert [e["type"] for e in everything["events"]][-1] == "AccessRecord.Recorded"

    then = history(http, story, as_of=story.moments["referred"])
    types = [e["type"] for e in then["events"]]
    assert types == [
        "Case.Opened",
        "Case.NoteAdded",
        "Case.NoteAdded",
        "Case.RiskAssessed",
        "Case.ConsentRecorded",
        "Referral.Sent",  # sent, and recorded on the case, in the same write
        "Case.Referred",
    ]
    assert then["events"] == everything["events"][: len(types)]
    state = then["state"]
    assert (state["status"], state["owner_service"], state["legal_hold"]) == (
        "open",
        "cav-scirocco",
        False,
    )
    assert "high_risk" not in state  # derived from her risk assessments
    assert [(r["id"], r["recipient_service"], r["status"]) for r in state["referrals"]] == [
        (story.referral_id, "pl-cesano", "sent")
    ]
    accepted = history(http, story, as_of=story.moments["accepted"])
    assert [r["status"] for r in accepted["state"]["referrals"]] == ["accepted"]
    moved = [e for e in accepted["events"] if e["type"] == "Referral.Moved"]
    assert [(e["user_id"], e["service_id"], e["fields"]["to_status"]) for e in moved] == [
        ("paolo", "pl-cesano", "acknowledged"),
        ("paolo", "pl-cesano", "accepted"),
    ]
    consent = next(e for e in then["events"] if e["type"] == "Case.ConsentRecorded")
    assert (consent["user_id"], consent["service_id"]) == ("anna", "cav-scirocco")  # the owner
    text = str(everything)
    assert "sealed" in text and not [m for m in story.markers if m in text]


def test_before_the_case_was_opened_there_is_nothing(http: Http, story: Story, problem) -> None:
    from support.clock import MONDAY

    empty = history(http, story, as_of=MONDAY.replace(hour=8))
    assert (empty["events"], empty["state"]) == ([], None)
    assert empty["reference_code"] == story.ref

    path = f"{AUDIT}/cases/{story.ref}/history"
    problem(http.get("ugo", path, params={"as_of": "2026-03-02T10:00:00"}), 400, "naive-datetime")
    problem(http.get("ugo", path, params={"as_of": "yesterday"}), 400, "invalid-parameter")
    problem(http.get("ugo", f"{AUDIT}/cases/CB-2026-9999/history"), 404, "not-found")
    problem(http.get("chiara", path), 403, "role-not-allowed")
