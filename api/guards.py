"""Route-level role guards, for the routes the API answers itself.

Most routes call a use case of ``Rete``, which authorises the actor itself. The
few that answer from infrastructure directly (the ledger's proofs) declare here
the kind of work they do; whether the actor may do it is decided in one place,
``application.authorisation``. A refusal answers as the use cases' do (403 with
the role it needs).
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.types import Guard

from api.auth import actor_of
from application.authorisation import Action, authorise


def may(action: Action) -> Guard:
    """A guard that lets through only the actors who may do ``action``."""

    def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        authorise(actor_of(connection), action)

    return guard


AUDITORS_PROVE = may(Action.LEDGER_PROOFS)
