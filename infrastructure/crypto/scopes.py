"""Names of key scopes: what a data key protects (see ``application.ports.KeyStore``)."""

from __future__ import annotations

from typing import Final
from uuid import UUID

SYSTEM_SCOPE: Final = "system"
"""The non-personal rest of every event. Never destroyed."""

_CASE_PREFIX: Final = "case:"
_MAX_LENGTH: Final = 200


def case_scope(case_id: UUID) -> str:
    """The scope of one case's personal data (and of its referrals')."""
    return f"{_CASE_PREFIX}{case_id}"


def check_scope(scope: str) -> str:
    """A scope as given, or ``ValueError`` when it cannot be one."""
    if not isinstance(scope, str) or not scope or len(scope) > _MAX_LENGTH:
        raise ValueError(f"a key scope is a non-empty string of at most {_MAX_LENGTH} characters")
    if not scope.isprintable():
        raise ValueError("a key scope has printable characters only")
    return scope
