"""One redacted log line per request: never bodies, query strings, tokens or personal data."""

from __future__ import annotations

import io
import json
import logging

import pytest

from infrastructure.logging import configure_logging, get_logger

CASES = "/api/v1/cases"
NOTE = "Maria R. told us he hit her on 3 March at via Roma 12"
QUERY_SECRET = "QSECRET-4711"


@pytest.fixture
def log_lines(api):
    """JSON lines logged from now on (the app configured logging when it was built)."""
    stream = io.StringIO()
    configure_logging("json", stream)

    def lines():
        return [json.loads(line) for line in stream.getvalue().splitlines()]

    lines.text = stream.getvalue  # type: ignore[attr-defined]
    yield lines
    configure_logging("console")


def test_a_request_logs_one_line_with_the_route_template(api, log_lines):
    ref = api.post("anna", CASES).json()["reference_code"]
    response = api.post("anna", f"{CASES}/{ref}/notes", json={"category": "violence", "text": NOTE})
    (line,) = [r for r in log_lines() if r["event"] == "request" and r["method"] == "POST"][1:]
    assert line == {
        "event": "request",
        "level": "info",
        "logger": "api.requests",
        "timestamp": line["timestamp"],
        "request_id": response.headers["x-request-id"],
        "method": "POST",
        "route": "/api/v1/cases/{case_ref}/notes",
        "status": 201,
        "duration_ms": line["duration_ms"],
        "user_id": "anna",
        "service_id": "cav-scirocco",
    }


def test_nothing_personal_reaches_the_logs(api, log_lines, monkeypatch):
    token = api.headers("anna")["Authorization"].removeprefix("Bearer ")
    ref = api.post("anna", CASES).json()["reference_code"]
    api.post("anna", f"{CASES}/{ref}/notes", json={"category": "violence", "text": NOTE})
    api.post("anna", f"{CASES}/{ref}/notes", json={"category": "gossip", "text": NOTE})
    api.post("anna", f"{CASES}/{ref}/notes", json={"category": "x", "text": NOTE, "x": NOTE})
    api.get("anna", CASES, params={"cursor": QUERY_SECRET})
    api.get("anna", f"/api/v1/nowhere?q={QUERY_SECRET}")
    api.client.get(CASES, headers={"Authorization": f"Bearer {token}x"})

    def fail(*_args, **_kwargs):
        raise RuntimeError(NOTE)

    monkeypatch.setattr(api.rete.cases, "get", fail)
    api.get("anna", f"{CASES}/{ref}")

    text = log_lines.text()
    for secret in (NOTE, "Maria", QUERY_SECRET, token, ref):
        assert secret not in text
    statuses = [(r["route"], r["status"]) for r in log_lines() if r["event"] == "request"]
    assert ("<unmatched>", 404) in statuses
    assert ("/api/v1/cases/{case_ref}", 500) in statuses
    failure = next(r for r in log_lines() if r["event"] == "unhandled exception")
    assert failure["exception_type"] == "builtins.RuntimeError"
    assert failure["request_id"]
    assert any("test_http_logging.py" in frame for frame in failure["frames"])


def test_denials_are_logged_with_their_code(api, log_lines):
    ref = api.post("anna", CASES).json()["reference_code"]
    api.get("marta", f"{CASES}/{ref}")
    api.client.get(CASES)
    denials = [(r["status"], r.get("error_code")) for r in log_lines() if r.get("status", 0) >= 400]
    assert denials == [(404, "not-found"), (401, "missing-token")]


def test_keys_off_the_allow_list_are_dropped():
    stream = io.StringIO()
    configure_logging("json", stream)
    try:
        get_logger("test").info(
            "something", user_id="anna", body=NOTE, headers={"a": "b"}, query=QUERY_SECRET
        )
        logging.getLogger("some.library").warning("connecting as %s", QUERY_SECRET)
        logging.getLogger("uvicorn.access").info('"GET /x?q=%s" 200', QUERY_SECRET)
    finally:
        configure_logging("console")
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [sorted(line) for line in lines] == [
        ["event", "level", "logger", "timestamp", "user_id"],
        ["event", "level", "logger", "timestamp"],
    ]
    assert lines[1]["event"] == "connecting as %s"
    assert QUERY_SECRET not in stream.getvalue()
