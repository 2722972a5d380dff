"""Health, without a token.

``GET /health/live``: the process answers (a supervisor restarts it when not).
``GET /health/ready``: it can take a write now: its database takes a write
transaction, every other readiness check passes (``infrastructure.health``), and
nothing it stored was found altered (integrity, ``application.integrity``); a
load balancer sends it no traffic while it answers 503.
``GET /health``: the database answers, the disk takes a write
(``infrastructure.disk_check``) and integrity is not in doubt (kept for the
monitors that use it).
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import get

from api.problems import Problem, database_unreachable, documented
from api.routes._common import App


class Health(msgspec.Struct, frozen=True):
    status: str
    database: str


class Live(msgspec.Struct, frozen=True):
    status: str


def _integrity(rete: App) -> None:
    if rete.integrity.in_doubt:
        kinds = sorted({alarm.kind for alarm in rete.integrity.alarms()})
        raise Problem(
            503,
            "integrity-in-doubt",
            "Service degraded",
            f"stored data failed an integrity check ({', '.join(kinds)}); see the server log",
        )


# Public, and answered off the event loop: each asks the database.
_CHECKED: dict[str, Any] = {
    "sync_to_thread": True,
    "exclude_from_auth": True,
    "tags": ["health"],
    "responses": documented(503),
}


@get("/health", **_CHECKED)
def health(rete: App) -> Health:
    if not rete.database_reachable():
        raise database_unreachable()
    if not rete.disk_writable():
        raise Problem(503, "storage-full", "Service unavailable", "the disk cannot take a write")
    _integrity(rete)
    return Health(status="ok", database="ok")


@get("/health/live", sync_to_thread=False, exclude_from_auth=True, tags=["health"])
def live() -> Live:
    return Live(status="ok")


@get("/health/ready", **_CHECKED)
def ready(rete: App) -> Health:
    failing = rete.readiness()
    if failing is not None:
        code, detail = failing
        if code == "database-unreachable":
            raise database_unreachable()
        raise Problem(503, code, "Service unavailable", detail, headers={"Retry-After": "5"})
    _integrity(rete)
    return Health(status="ok", database="ok")
