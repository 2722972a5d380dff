"""Error answers of the API: RFC 9457 problem documents with our stable codes."""

from __future__ import annotations

from typing import Any

import httpx


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """An RFC 9457 answer with our stable type and code; returns the body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["code"] == code, body
    assert body["type"] == f"urn:rete:problem:{code}"
    assert body["title"] and isinstance(body["detail"], str)
    assert body["instance"] == f"urn:uuid:{response.headers['x-request-id']}"
    return body
