"""What every route module shares: the prefix, the security requirement, the ETag,
and the route decorators with the options every use-case route takes.

``api_get``, ``api_post`` and ``api_delete`` are Litestar's ``get``, ``post`` and
``delete`` run in a worker thread (the use cases block on the database) and
documenting the problems a use case may answer (``API_PROBLEMS``, and
``BODY_PROBLEMS`` for a handler that takes a body as ``data``). Handlers take
the application as ``rete: App`` and the caller as ``actor: Me``.

Bounds on query parameters are given to Litestar's ``QueryParameter``: a
``msgspec.Meta`` around an optional type (``Annotated[X, Meta(...)] | None``)
is dropped by Litestar's signature model, so it would be documented nowhere and
enforced never.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from litestar import Litestar, Request, delete, get, post
from litestar.di import NamedDependency
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromQuery, QueryParameter
from litestar.response import Response
from litestar.routes import HTTPRoute

from api.problems import API_PROBLEMS, BODY_PROBLEMS, WRITE_PROBLEMS
from api.write_guard import guard
from application.rete import Rete
from application.views import CaseSummary, CaseView, ReferralSummary, ReferralView
from domain.network import Actor

V = TypeVar("V", CaseView, CaseSummary, ReferralView, ReferralSummary)

API_PREFIX = "/api/v1"
# The OpenAPI security requirement of every route but /health.
BEARER: list[dict[str, list[str]]] = [{"BearerToken": []}]

App = NamedDependency[Rete]
Me = NamedDependency[Actor]
Cursor = Annotated[str | None, QueryParameter(max_length=200)]
Limit = FromQuery[int]

Handler = Callable[..., Any]


def _problems(fn: Handler) -> dict[int, Any]:
    problems = BODY_PROBLEMS if "data" in inspect.signature(fn).parameters else API_PROBLEMS
    return {**problems, **WRITE_PROBLEMS}  # 412 where If-Match is taken (write_guard)


def api_get(path: str, **options: Any) -> get:
    return get(path, sync_to_thread=True, responses=API_PROBLEMS, **options)


def api_post(path: str, **options: Any) -> Callable[[Handler], HTTPRouteHandler]:
    """A write: with ``Idempotency-Key`` and ``If-Match`` (``api.write_guard``)."""

    def route(fn: Handler) -> HTTPRouteHandler:
        guarded = guard(fn, options.get("status_code", 201), etag)
        return post(path, sync_to_thread=True, responses=_problems(fn), **options)(guarded)

    return route


def api_delete(path: str, **options: Any) -> Callable[[Handler], HTTPRouteHandler]:
    """A write: with ``Idempotency-Key`` and ``If-Match`` (``api.write_guard``)."""

    def route(fn: Handler) -> HTTPRouteHandler:
        guarded = guard(fn, options.get("status_code", 204), etag)
        return delete(path, sync_to_thread=True, responses=_problems(fn), **options)(guarded)

    return route


def etag(version: int) -> str:
    """A strong entity tag: the version the reader was answered with. A referral's is
    its own version; a case's is the reader's (``application.visible_version``),
    which moves only when what that service sees of the case changes."""
    return f'"{version}"'


def versioned(view: V, status_code: int = 200) -> Response[V]:
    """Answer a case or referral with its ``version`` as ``ETag``."""
    return Response(view, status_code=status_code, headers={"ETag": etag(view.version)})


def route_of(request: Request[Any, Any, Any]) -> str:
    """The route a request matched, as a template (``GET /api/v1/cases/{case_ref}``):
    what the access log records, never the raw path."""
    return f"{request.method} {request.scope['path_template']}"


def allow_every_method(app: Litestar) -> None:
    """``OPTIONS`` answers every method of its address in ``Allow``.

    Litestar registers a controller's handlers one by one; the ``OPTIONS``
    handler it makes for an address reads the methods of the route it was made
    with, the first handler's alone (``OPTIONS /api/v1/cases`` said ``GET``, not
    ``POST``). Each such handler is pointed at the route that serves it."""
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            fn = getattr(handler.fn, "__wrapped__", handler.fn)
            code = getattr(fn, "__code__", None)
            closure = getattr(fn, "__closure__", None)
            if code is None or closure is None or code.co_name != "options_handler":
                continue
            if "self" not in code.co_freevars:
                continue
            cell = closure[code.co_freevars.index("self")]
            if isinstance(cell.cell_contents, HTTPRoute):
                cell.cell_contents = route
