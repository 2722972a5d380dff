"""An auditor sees personal data only through a disclosure: one case, a written
reason, recorded in that case's access log. On SQLite and on PostgreSQL."""

from __future__ import annotations

from audit_support import AUDIT, CASES, Http, Story

DISCLOSURE_ROUTE = "POST /api/v1/audit/cases/{case_ref}/disclosure"
WHY = "complaint 2026/17 to the DPO: check who was told what"


def disclosure(story: Story) -> str:
    return f"{AUDIT}/cases/{story.ref}/disclosure"


def test_a_disclosure_gives_the_case_as_its_owner_sees_it_and_is_logged(
    http: Http, story: Story
) -> None:
    owner_view = http.ok(http.get("chiara", f"{CASES}/{story.ref}"))
    http.clock.tick()
    disclosed = http.ok(http.post("ugo", disclosure(story), json={"reason": f"  {WHY} "}))

    assert disclosed == owner_view
    shown = {e["text"] for e in disclosed["entries"]} | {disclosed["referrals"][0]["reason"]}
    shown.add(disclosed["risk_assessments"][0]["justification"])
    assert set(story.markers) - shown == {story.markers[-1]}  # all but the legal hold's reason
    assert [c["categories"] for c in disclosed["consents"]] == [["identity", "violence"]]

    newest, owner_read = http.log_of("anna", story.ref)
    assert newest == {
        **newest,
        "user_id": "ugo",
        "service_id": "garanzia-cesano",
        "kind": "disclosure",
        "reason": WHY,
        "route": DISCLOSURE_ROUTE,
        "categories": ["identity", "risk", "violence"],
    }
    assert owner_read["kind"] == "read"
    assert http.log_of("ugo", story.ref)[0] == newest


def test_a_disclosure_needs_a_reason_and_records_nothing_without(
    http: Http, story: Story, problem
) -> None:
    problem(http.post("ugo", disclosure(story), json={}), 400, "invalid-body")
    problem(http.post("ugo", disclosure(story)), 400, "invalid-body")
    problem(http.post("ugo", disclosure(story), json={"reason": "  "}), 400, "empty-text")
    too_long = {"reason": "x" * 4001}
    problem(http.post("ugo", disclosure(story), json=too_long), 400, "invalid-body")
    assert http.log_of("ugo", story.ref) == []


def test_only_auditors_ask_for_a_disclosure(http: Http, story: Story, problem) -> None:
    body = {"reason": WHY}
    for who in ("anna", "chiara", "paolo", "bea", "olga"):
        problem(http.post(who, disclosure(story), json=body), 403, "role-not-allowed")
    problem(http.post("ugo", f"{AUDIT}/cases/CB-2026-9999/disclosure", json=body), 404, "not-found")
    # Without a disclosure an auditor reads no case directly.
    problem(http.get("ugo", f"{CASES}/{story.ref}"), 403, "role-not-allowed")
    assert http.log_of("ugo", story.ref) == []


def test_disclosing_an_erased_case_discloses_nothing_and_is_logged(
    http: Http, story: Story
) -> None:
    http.erase(story.ref)
    disclosed = http.ok(http.post("ugo", disclosure(story), json={"reason": WHY}))
    assert disclosed["status"] == "erased"
    assert not [m for m in story.markers if m in str(disclosed)]
    [entry] = http.log_of("chiara", story.ref)
    assert (entry["kind"], entry["reason"], entry["categories"]) == ("disclosure", WHY, [])
