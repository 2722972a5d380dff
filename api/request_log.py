"""One log line per request, and a request id that ties the line to the answer.

The line carries the request id, method, route *template*, status, duration,
and the user and service when authenticated; never the raw path, the query
string, headers or bodies. The id is fresh for every request (a client's own
``X-Request-ID`` is not trusted into the logs), is echoed in the
``X-Request-ID`` response header and is the ``instance`` of problem answers.

It wraps the whole application rather than being a Litestar middleware, because
Litestar runs middleware only after routing: requests for unknown routes, or
with a wrong method, would go unlogged.
"""

from __future__ import annotations

import time
from typing import Any, cast
from uuid import uuid4

import structlog
from litestar import Litestar
from litestar.enums import ScopeType
from litestar.types import (
    HTTPScope,
    LifeSpanReceive,
    LifeSpanScope,
    LifeSpanSend,
    Message,
    Receive,
    Scope,
    Send,
)

from domain.network import Actor
from infrastructure.logging import get_logger

REQUEST_ID_HEADER = "X-Request-ID"
_REQUEST_ID = "rete.request_id"
_ERROR_CODE = "rete.error_code"

log = get_logger("api.requests")


def request_id_of(scope: Scope | HTTPScope) -> str | None:
    value = scope.get("state", {}).get(_REQUEST_ID)
    return value if isinstance(value, str) else None


def note_error_code(scope: Scope | HTTPScope, code: str) -> None:
    """Remember the problem code of this request's answer, for its log line."""
    scope.setdefault("state", {})[_ERROR_CODE] = code


class ReteApp(Litestar):
    """Litestar, with the request id and the request log line around every request."""

    async def __call__(
        self,
        scope: Scope | LifeSpanScope,
        receive: Receive | LifeSpanReceive,
        send: Send | LifeSpanSend,
    ) -> None:
        if scope["type"] != ScopeType.HTTP:
            await super().__call__(scope, receive, send)
            return
        http_scope = cast("HTTPScope", scope)
        request_id = str(uuid4())
        http_scope.setdefault("state", {})[_REQUEST_ID] = request_id
        started = time.perf_counter()
        status: list[int] = []
        plain_send = cast("Send", send)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
                headers = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
                message = {**message, "headers": headers}
            await plain_send(message)

        with structlog.contextvars.bound_contextvars(request_id=request_id):
            try:
                await super().__call__(scope, receive, send_with_id)
            finally:
                _log_request(http_scope, status[0] if status else 500, started)


def _log_request(scope: HTTPScope, status: int, started: float) -> None:
    line: dict[str, Any] = {
        "method": scope.get("method"),
        "route": scope.get("path_template") or "<unmatched>",
        "status": status,
        "duration_ms": round((time.perf_counter() - started) * 1000, 1),
    }
    user = scope.get("user")
    if isinstance(user, Actor):
        line["user_id"] = user.user_id
        line["service_id"] = user.service.id
    error_code = scope.get("state", {}).get(_ERROR_CODE)
    if error_code:
        line["error_code"] = error_code
    if status >= 500:
        log.error("request", **line)
    else:
        log.info("request", **line)
