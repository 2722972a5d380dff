"""The explicit marker a personal field reads as once its case was erased.

Erasure destroys the case key, so the personal fields of every event of the
case can no longer be opened. They are not missing and not an error: they read
as ``ERASED``, and everything non-personal around them stays as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final, TypeVar


class Erased:
    """The one value of an erased personal field (compare with ``is ERASED``)."""

    _instance: Erased | None = None

    def __new__(cls) -> Erased:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "ERASED"

    def __reduce__(self) -> str:
        return "ERASED"


ERASED: Final = Erased()

T = TypeVar("T")
R = TypeVar("R")


def unless_erased(value: T | Erased, convert: Callable[[T], R]) -> R | Erased:
    """Convert a personal value, passing the erased marker through untouched."""
    return ERASED if isinstance(value, Erased) else convert(value)
