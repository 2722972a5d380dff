"""Names of key scopes: what a data key protects (see ``application.ports.KeyStore``)."""

from __future__ import annotations

from typing import Final

from application.ports import SYSTEM_SCOPE, case_scope

__all__ = ["SYSTEM_SCOPE", "case_scope", "check_scope"]

_MAX_LENGTH: Final = 200


def check_scope(scope: str) -> str:
    """A scope as given, or ``ValueError`` when it cannot be one."""
    if not isinstance(scope, str) or not scope or len(scope) > _MAX_LENGTH:
        raise ValueError(f"a key scope is a non-empty string of at most {_MAX_LENGTH} characters")
    if not scope.isprintable():
        raise ValueError("a key scope has printable characters only")
    return scope
