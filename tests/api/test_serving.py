"""An app pointed at another application (``api.app.serve``, what the tests' ``Api``
does between tests) serves that one alone: its data, its tokens, its background."""

from __future__ import annotations

from pathlib import Path

import pytest
from litestar.testing import TestClient
from support.clock import TestClock
from support.http import Api
from support.people import people_of

from api.app import create_app, serve
from infrastructure.bootstrap import build_rete
from infrastructure.settings import Settings, load_settings


def _settings(directory: Path) -> Settings:
    return load_settings(
        {
            "RETE_DATABASE_URL": f"sqlite:///{directory / 'rete.sqlite'}",
            "RETE_VAR_DIR": str(directory / "var"),
        }
    )


def test_a_re_pointed_app_serves_the_new_application_and_its_tokens_only(
    tmp_path: Path,
) -> None:
    first, second = _settings(tmp_path / "first"), _settings(tmp_path / "second")
    rete_first = build_rete(first, clock=TestClock())
    rete_second = build_rete(second, clock=TestClock())
    try:
        api = Api.open(first, rete_first, TestClock())
        code = api.ok(api.post("anna", "/api/v1/cases"), 201)["reference_code"]
        first_token = api.headers("anna")
        api.close()

        again = Api.open(second, rete_second, TestClock())
        try:
            assert again.client.app is api.client.app, "the stopped app was pointed again"
            # The first application's case is not in the second's database...
            assert again.get("anna", f"/api/v1/cases/{code}").status_code == 404
            assert again.ok(again.get("anna", "/api/v1/cases"))["items"] == []
            # ...a token of the first's development secret does not open the second...
            assert again.client.get("/api/v1/cases", headers=first_token).status_code == 401
            # ...and what is written lands in the second.
            again.ok(again.post("anna", "/api/v1/cases"), 201)
            assert len(rete_second.cases.list(people_of(rete_second).anna).items) == 1
        finally:
            again.close()
    finally:
        rete_first.close()
        rete_second.close()


def test_a_running_app_is_not_re_pointed(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    rete = build_rete(settings, clock=TestClock())
    try:
        app = create_app(settings, rete)
        with TestClient(app), pytest.raises(RuntimeError, match="while stopped"):
            serve(app, settings, rete)
    finally:
        rete.close()
