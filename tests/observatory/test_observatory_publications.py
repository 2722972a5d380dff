"""Publications: one per month that has ended, in order, never changed; late facts
go into the next one; each is an event of the verified history."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from support.clock import TestClock as Clock
from support.http import Api

from api import cli
from api.demo import load_demo
from application.rete import Rete
from domain import errors
from domain.events import ActedEvent, SystemEvent
from domain.network import Actor
from domain.publication import Month, PeriodNotClosed, PeriodOutOfOrder, Publications
from domain.vocabulary import Role

STATS = "/api/v1/observatory/stats"
FEBRUARY, MARCH = Month(2026, 2), Month(2026, 3)


def analyst(rete: Rete) -> Actor:
    return Actor("oli", rete.ctx.directory.service("osservatorio"), frozenset({Role.ANALYST}))


def test_a_month_is_published_once_it_ended_in_order_and_by_an_analyst(api: Api) -> None:
    oli = analyst(api.rete)
    chiara = Actor(
        "chiara", api.rete.ctx.directory.service("cav-scirocco"), frozenset({Role.COORDINATOR})
    )
    at = datetime(2026, 3, 2, tzinfo=UTC)
    publications = Publications.start(at)
    with pytest.raises(PeriodNotClosed):
        publications.publish(MARCH, 0, {}, oli, at)
    with pytest.raises(errors.RoleNotAllowed):
        publications.publish(FEBRUARY, 0, {}, chiara, at)
    publications.publish(FEBRUARY, 7, {}, oli, at)
    for again in (FEBRUARY, Month(2026, 1), Month(2026, 4)):
        with pytest.raises(PeriodOutOfOrder):
            publications.publish(again, 7, {}, oli, datetime(2026, 6, 1, tzinfo=UTC))
    with pytest.raises(PeriodOutOfOrder):  # (reading less of the log than the last one)
        publications.publish(MARCH, 6, {}, oli, datetime(2026, 6, 1, tzinfo=UTC))
    assert [i.month for i in publications.issues] == [FEBRUARY]
    assert Month(2026, 12).next() == Month(2027, 1) and Month(2026, 12).end.year == 2027


def test_a_publication_names_who_asked_for_it_and_starting_the_stream_names_no_one() -> None:
    assert Publications.Event.aggregate == "publications"
    assert issubclass(Publications.Published, ActedEvent)
    assert issubclass(Publications.Started, SystemEvent)
    assert not issubclass(Publications.Started, ActedEvent)


def open_cases(rete: Rete, service: str, n: int) -> None:
    school = Actor("preside", rete.ctx.directory.service(service), frozenset({Role.COORDINATOR}))
    for _ in range(n):
        rete.cases.open(school)


def test_late_facts_go_into_the_next_publication(any_backend_api: Api) -> None:
    """Five cases recorded after February was published, with February's time (a
    clock behind): February stays as published, March counts them."""
    api = any_backend_api
    load_demo(api.rete)
    first = api.get("oli", STATS, params={"year": 2026}).json()
    assert first["published"] == ["2026-02"]
    behind = Rete(replace(api.rete.ctx, clock=Clock(datetime(2026, 2, 20, 10, tzinfo=UTC))))
    open_cases(behind, "ic-leonardo", 5)

    assert api.get("oli", STATS, params={"year": 2026}).json() == first
    api.rete.ctx.clock.at = MARCH.end + timedelta(hours=2)  # type: ignore[attr-defined]
    body = api.get("oli", STATS, params={"year": 2026}).json()
    assert body["published"] == ["2026-02", "2026-03"]
    school = row_of(body, "cases_by_owner_kind", "school")
    assert school["cells"][0] == row_of(first, "cases_by_owner_kind", "school")["cells"][0]
    assert school["cells"][1] == {"value": 5, "suppressed": False}


def row_of(body: dict[str, Any], table: str, key: str) -> dict[str, Any]:
    found = next(t for t in body["tables"] if t["name"] == table)
    row: dict[str, Any] = next(r for r in found["rows"] if r["key"] == key)
    return row


def test_a_publication_is_an_event_an_auditor_reads(api: Api) -> None:
    load_demo(api.rete)
    body = api.get("oli", STATS).json()
    events, after = [], 0
    while after is not None:
        page = api.get("ugo", "/api/v1/audit/events", params={"after": after, "limit": 500}).json()
        events += page["items"]
        after = page["next_after"]
    published = [e for e in events if e["type"] == "Publications.Published"]
    assert len(published) == 1
    event = published[0]
    assert (event["aggregate"], event["user_id"], event["service_id"]) == (
        "publications",
        "oli",
        "osservatorio",
    )
    assert event["fields"]["period"] == "2026-02"
    assert event["fields"]["period_end"].startswith("2026-03-01T00:00:00")
    assert event["fields"]["up_to"] < event["position"]
    cases = next(
        t for t in event["fields"]["tables"]["counts"] if t["name"] == "cases_by_owner_kind"
    )
    assert cases["total"] == 7 == body["tables"][0]["total"]["total"]["value"]


def test_rete_observatory_publish_publishes_the_months_that_ended(
    tmp_path: Path,
) -> None:
    env = {
        "RETE_DATABASE_URL": f"sqlite:///{tmp_path / 'rete.sqlite'}",
        "RETE_VAR_DIR": str(tmp_path / "var"),
    }
    runner = CliRunner()
    assert runner.invoke(cli.main, ["demo"], env=env).exit_code == 0
    result = runner.invoke(cli.main, ["observatory", "publish"], env=env)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Published: ")
    again = runner.invoke(cli.main, ["observatory", "publish"], env=env)
    assert again.exit_code == 0, again.output
    assert again.stdout.startswith("Nothing to publish")
    # The publications are in the verified history, as every event is.
    for command in ("checkpoint", "verify"):
        ledger = runner.invoke(cli.main, ["ledger", command], env=env)
        assert ledger.exit_code == 0, ledger.output
    assert ledger.stdout.startswith("OK: ")
