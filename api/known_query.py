"""Refuse query parameters a route does not take (issue 12, finding 4).

A filter misspelt (``?hight_risk=true``) or one the route never had
(``?owner=...``) would otherwise be ignored, and the client would read every
row as if it were the filtered list. ``only_declared_query`` is a route guard:
the request's query names must all be parameters of the handler, else a 400
``unknown-parameter`` naming them (names only, cut short: never their values).
"""

from __future__ import annotations

from typing import Any, Final

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.params import ParameterKwarg

from api.problems import Problem

UNKNOWN_PARAMETER: Final = "unknown-parameter"
# What a handler takes that is not a query parameter.
_NOT_QUERY: Final = frozenset({"self", "rete", "actor", "request", "data", "state", "scope"})
_SHOWN: Final = 5


def declared_query(handler: BaseRouteHandler, path_params: set[str]) -> frozenset[str]:
    """The query names a handler reads: its parameters (or their ``query=`` aliases)."""
    names = set()
    for name, field in handler.parsed_fn_signature.parameters.items():
        if name in _NOT_QUERY or name in path_params:
            continue
        kwarg = field.kwarg_definition
        alias = kwarg.query if isinstance(kwarg, ParameterKwarg) else None
        names.add(alias or name)
    return frozenset(names)


def only_declared_query(connection: ASGIConnection[Any, Any, Any, Any], handler: Any) -> None:
    declared = declared_query(handler, set(connection.path_params))
    unknown = sorted(set(connection.query_params) - declared)
    if unknown:
        shown = ", ".join(repr(name[:40]) for name in unknown[:_SHOWN])
        more = f" and {len(unknown) - _SHOWN} more" if len(unknown) > _SHOWN else ""
        raise Problem(
            400,
            UNKNOWN_PARAMETER,
            "Unknown query parameter",
            f"this route takes no query parameter {shown}{more}; "
            f"it takes: {', '.join(sorted(declared)) or 'none'}",
        )
