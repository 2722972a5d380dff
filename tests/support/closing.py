"""Fixtures that make several of a thing (applications, ledgers, views: each another
process's) and close them all when the test ends."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, ParamSpec, Protocol, TypeVar

P = ParamSpec("P")


class Closable(Protocol):
    def close(self) -> Any: ...


C = TypeVar("C", bound=Closable)


@contextmanager
def closing_all(make: Callable[P, C]) -> Iterator[Callable[P, C]]:
    """``make``, remembering what it made; on leaving, closes each, the newest first."""
    made: list[C] = []

    def remembered(*args: P.args, **kwargs: P.kwargs) -> C:
        made.append(make(*args, **kwargs))
        return made[-1]

    try:
        yield remembered
    finally:
        for thing in reversed(made):
            thing.close()
