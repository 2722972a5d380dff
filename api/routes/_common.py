"""What every route module shares: the prefix, the security requirement, the ETag,
and the route decorators with the options every use-case route takes.

``api_get``, ``api_post`` and ``api_delete`` are Litestar's ``get``, ``post`` and
``delete`` run in a worker thread (the use cases block on the database) and
documenting the problems a use case may answer (``API_PROBLEMS``). Handlers take
the application as ``rete: App`` and the caller as ``actor: Me``.
"""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from litestar import Request, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromQuery
from litestar.response import Response
from msgspec import Meta

from api.problems import API_PROBLEMS
from application.rete import Rete
from application.views import CaseSummary, CaseView, ReferralSummary, ReferralView
from domain.network import Actor

V = TypeVar("V", CaseView, CaseSummary, ReferralView, ReferralSummary)

API_PREFIX = "/api/v1"
# The OpenAPI security requirement of every route but /health.
BEARER: list[dict[str, list[str]]] = [{"BearerToken": []}]

App = NamedDependency[Rete]
Me = NamedDependency[Actor]
Cursor = FromQuery[Annotated[str, Meta(max_length=200)] | None]
Limit = FromQuery[int]


def api_get(path: str, **options: Any) -> get:
    return get(path, sync_to_thread=True, responses=API_PROBLEMS, **options)


def api_post(path: str, **options: Any) -> post:
    return post(path, sync_to_thread=True, responses=API_PROBLEMS, **options)


def api_delete(path: str, **options: Any) -> delete:
    return delete(path, sync_to_thread=True, responses=API_PROBLEMS, **options)


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
