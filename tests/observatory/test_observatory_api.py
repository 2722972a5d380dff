"""``GET /api/v1/observatory/stats``: analysts only, aggregates only, small counts hidden."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from observatory_support import true_tables
from support.http import Api

from api.demo import load_demo
from application.observatory.facts import StoreFacts
from application.observatory.periods import TOTAL, year_label
from application.observatory.suppression import THRESHOLD

STATS = "/api/v1/observatory/stats"
OPENED = re.compile(r"\b(CB-\d{4}-[0-9A-Z]{3}-[0-9A-Z]{3})  opened by (\S+)")


def cells(body: dict[str, Any]) -> list[tuple[str, str, str, dict[str, Any]]]:
    found = []
    for table in [*body["tables"], *body["times"]]:
        columns = [*table["columns"], TOTAL]
        for row in [*table["rows"], table["total"]]:
            for column, cell in zip(columns, [*row["cells"], row["total"]], strict=True):
                found.append((table["name"], row["key"], column, cell))
    return found


def count(cell: dict[str, Any]) -> int | None:
    return cell["value"] if "value" in cell else cell["count"]


def check_against_the_truth(api: Api, body: dict[str, Any]) -> int:
    """Every shown count is true and none is 1 to 4; every true 1 to 4 is hidden.
    Returns how many cells are hidden."""
    facts = StoreFacts(api.rete.ctx)
    tables = true_tables(facts.referrals(), facts.cases()).by_name()
    hidden = 0
    for name, row, column, cell in cells(body):
        if column == TOTAL and body["year"] is not None:
            column = year_label(body["year"])
        true = tables[name].counts.get((row, column), 0)
        if cell["suppressed"]:
            hidden += 1
            assert count(cell) is None
        else:
            assert count(cell) == true
            assert not 0 < true < THRESHOLD
    return hidden


def test_only_analysts_get_the_statistics(api: Api, problem) -> None:
    for who in ("anna", "chiara", "ugo"):
        for path in (STATS, f"{STATS}.csv", f"{STATS}?format=csv"):
            problem(api.get(who, path), 403, "role-not-allowed")
    assert api.client.get(STATS).status_code == 401
    assert api.get("oli", STATS).status_code == 200


def test_the_demo_story_shows_its_totals_and_hides_its_small_counts(any_backend_api: Api) -> None:
    api = any_backend_api
    lines = load_demo(api.rete)
    for year in (None, 2026):
        body = api.get("oli", STATS, params={} if year is None else {"year": year}).json()
        assert check_against_the_truth(api, body) > 0
        by_name = {t["name"]: t for t in body["tables"]}
        # Seven cases and eighteen referrals: enough to be shown, not to be detailed.
        assert by_name["cases_by_owner_kind"]["total"]["total"] == {"value": 7, "suppressed": False}
        assert by_name["referrals_by_kind"]["total"]["total"] == {"value": 18, "suppressed": False}
        # One emergency referral, one expired, one withdrawn: all hidden.
        assert by_name["referrals_by_urgency"]["rows"][0]["total"]["suppressed"]
        outcome = {r["key"]: r["total"] for r in by_name["referrals_by_outcome"]["rows"]}
        assert outcome["expired"]["suppressed"] and outcome["withdrawn"]["suppressed"]
    # Nothing of a single case: no reference, no text of the story.
    text = api.get("oli", STATS).text + api.get("oli", f"{STATS}.csv").text
    assert not re.search(r"CB-\d{4}", text)
    assert "Utente" not in text and "demo." not in text
    assert len(lines) > 0


def test_erasing_a_case_changes_no_count(any_backend_api: Api) -> None:
    api = any_backend_api
    lines = load_demo(api.rete)
    before = {
        "all": api.get("oli", STATS).json(),
        "year": api.get("oli", STATS, params={"year": 2026}).json(),
        "csv": api.get("oli", f"{STATS}.csv").text,
    }
    erased = [ref for ref, owner in OPENED.findall("\n".join(lines)) if owner == "cav-scirocco"]
    response = api.post(
        "chiara", f"/api/v1/cases/{erased[0]}/erasure", json={"reason": "her request"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "erased"
    after = {
        "all": api.get("oli", STATS).json(),
        "year": api.get("oli", STATS, params={"year": 2026}).json(),
        "csv": api.get("oli", f"{STATS}.csv").text,
    }
    assert after == before


def sections(text: str) -> list[list[list[str]]]:
    rows = list(csv.reader(io.StringIO(text)))
    found: list[list[list[str]]] = [[]]
    for row in rows:
        if row:
            found[-1].append(row)
        else:
            found.append([])
    return found


def test_the_csv_export_holds_the_same_tables(api: Api) -> None:
    load_demo(api.rete)
    body = api.get("oli", STATS, params={"year": 2026}).json()
    response = api.get("oli", f"{STATS}.csv", params={"year": 2026})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert 'filename="rete-observatory-2026.csv"' in response.headers["content-disposition"]
    assert api.get("oli", STATS, params={"year": 2026, "format": "csv"}).text == response.text
    found = sections(response.text)
    names = [t["name"] for t in [*body["tables"], *body["times"]]]
    assert [s[0][:2] for s in found] == [["table", n] for n in names]
    urgency = next(s for s in found if s[0][1] == "referrals_by_urgency")
    assert urgency[1][0] == "urgency" and urgency[1][-1] == "total"
    # The months published: February, the demo's month (March has not ended).
    assert urgency[1][1:-1] == ["2026-02"]
    table = next(t for t in body["tables"] if t["name"] == "referrals_by_urgency")
    for line, row in zip(urgency[2:], [*table["rows"], table["total"]], strict=True):
        expected = [
            "x" if c["suppressed"] else str(c["value"]) for c in [*row["cells"], row["total"]]
        ]
        assert line == [row["key"], *expected]


def test_a_year_shows_its_months_published_and_a_year_without_referrals_only_zeros(
    api: Api, problem
) -> None:
    load_demo(api.rete)
    body = api.get("oli", STATS, params={"year": 2026}).json()
    # The months of 2026 published: February, the demo's month (March has not ended).
    assert body["published"] == ["2026-02"]
    assert all(t["columns"] == ["2026-02"] for t in [*body["tables"], *body["times"]])
    empty = api.get("oli", STATS, params={"year": 2024}).json()
    assert {count(c) for _, _, _, c in cells(empty)} == {0}
    every = api.get("oli", STATS).json()
    assert all(t["columns"] == ["2026"] for t in [*every["tables"], *every["times"]])
    problem(api.get("oli", STATS, params={"year": 26}), 400, "unknown-year")
