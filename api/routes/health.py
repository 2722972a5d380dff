"""``GET /health``: the process answers (liveness), its database does and its disk
takes a write (readiness, ``infrastructure.disk_check``), and nothing it stored was
found altered (integrity, ``application.integrity``)."""

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
    if not rete.disk_writable():
        raise Problem(503, "storage-full", "Service unavailable", "the disk cannot take a write")
    if rete.integrity.in_doubt:
        kinds = sorted({alarm.kind for alarm in rete.integrity.alarms()})
        raise Problem(
            503,
            "integrity-in-doubt",
            "Service degraded",
            f"stored data failed an integrity check ({', '.join(kinds)}); see the server log",
        )
    return Health(status="ok", database="ok")
