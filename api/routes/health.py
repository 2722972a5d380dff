"""``GET /health``: the process answers (liveness) and its database does (readiness)."""

from __future__ import annotations

import msgspec
from litestar import get

from api.problems import Problem, documented
from api.routes._common import App


class Health(msgspec.Struct, frozen=True):
    status: str
    database: str


@get(
    "/health",
    sync_to_thread=True,
    exclude_from_auth=True,
    tags=["health"],
    responses=documented(503),
)
def health(rete: App) -> Health:
    if not rete.database_reachable():
        raise Problem(
            503, "database-unreachable", "Service unavailable", "the database does not answer"
        )
    return Health(status="ok", database="ok")
