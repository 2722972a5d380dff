"""What every route module shares: the prefix, the security requirement, the ETag."""

from __future__ import annotations

from typing import Any, TypeVar

from litestar import Request
from litestar.response import Response

from application.views import CaseSummary, CaseView, ReferralSummary, ReferralView

V = TypeVar("V", CaseView, CaseSummary, ReferralView, ReferralSummary)

API_PREFIX = "/api/v1"
# The OpenAPI security requirement of every route but /health.
BEARER: list[dict[str, list[str]]] = [{"BearerToken": []}]


def etag(version: int) -> str:
    """A strong entity tag: the aggregate's version (what ``If-Match`` will compare)."""
    return f'"{version}"'


def versioned(view: V, status_code: int = 200) -> Response[V]:
    """Answer a case or referral with its version as ``ETag``."""
    return Response(view, status_code=status_code, headers={"ETag": etag(view.version)})


def route_of(request: Request[Any, Any, Any]) -> str:
    """The route a request matched, as a template (``GET /api/v1/cases/{case_ref}``):
    what the access log records, never the raw path."""
    return f"{request.method} {request.scope['path_template']}"
