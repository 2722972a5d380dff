"""``/health`` answers without a token; readiness follows the database."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

from database_pulled import without_its_database
from litestar.testing import TestClient

from api.app import create_app
from application.integrity import IntegrityAlarm
from infrastructure.bootstrap import build_rete
from infrastructure.settings import load_settings
from infrastructure.store import ReteEventStore


def test_health_is_public_and_reports_the_database(api):
    response = api.client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}
    assert uuid.UUID(response.headers["x-request-id"]).version == 4


def test_every_answer_carries_a_fresh_request_id(api):
    first = api.client.get("/health").headers["x-request-id"]
    second = api.client.get("/health", headers={"X-Request-ID": "client-chosen"})
    assert second.headers["x-request-id"] not in (first, "client-chosen")


def test_health_answers_503_when_the_database_does_not(sqlite_env, problem):
    with without_its_database(sqlite_env) as client:
        problem(client.get("/health"), 503, "database-unreachable")


def test_health_answers_503_once_stored_data_failed_an_integrity_check(api, problem):
    api.rete.integrity.raise_alarm(
        IntegrityAlarm("view-row-altered", "rete_view_cases row of one case", datetime.now(UTC))
    )
    answer = problem(api.client.get("/health"), 503, "integrity-in-doubt")
    assert "view-row-altered" in answer["detail"]


def test_the_openapi_document_describes_the_api(api):
    doc = api.client.get("/schema/openapi.json").json()
    assert doc["info"]["title"] == "Rete"
    assert "/api/v1/cases/{case_ref}/referrals" in doc["paths"]
    notes = doc["paths"]["/api/v1/cases/{case_ref}/notes"]["post"]
    assert notes["security"] == [{"BearerToken": []}]
    assert "application/problem+json" in notes["responses"]["422"]["content"]
    assert doc["components"]["securitySchemes"]["BearerToken"]["scheme"] == "bearer"


def test_an_app_closes_the_store_it_built_and_only_that(sqlite_env, monkeypatch):
    closed = []
    close = ReteEventStore.close

    def spy(store):
        # Stores of earlier tests may be garbage-collected (and closed) meanwhile:
        # count only this test's database.
        if store.env.get("SQLITE_DBNAME") == ours:
            closed.append(store)
        close(store)

    settings = load_settings(sqlite_env)
    ours = settings.eventsourcing_env()["SQLITE_DBNAME"]
    monkeypatch.setattr(ReteEventStore, "close", spy)
    with TestClient(create_app(settings)) as client:
        assert client.get("/health").status_code == 200
    assert len(closed) == 1

    rete = build_rete(settings)
    with TestClient(create_app(settings, rete)) as client:
        assert client.get("/health").status_code == 200
    assert len(closed) == 1
    anna = rete.ctx.identify("anna", "cav-scirocco", ["caseworker"])
    assert rete.cases.open(anna).reference_code
    rete.close()


def test_the_schema_page_loads_nothing_from_another_host(api):
    page = api.client.get("/schema")
    assert page.status_code == 200
    assert "SwaggerUIBundle" in page.text
    references = re.findall(r'(?:src|href)=["\']([^"\']*)["\']', page.text)
    assert references, "the page references its scripts and styles"
    for reference in references:
        assert not re.match(r"^(?:[a-z]+:)?//", reference), reference
        asset = api.client.get(reference)
        assert asset.status_code == 200, reference
        assert len(asset.content) > 1000, reference
