"""The ports the application needs; the infrastructure implements them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol, TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate

A = TypeVar("A", bound=Aggregate)


class Clock(Protocol):
    """Where "now" comes from, so deadlines and expiries are testable."""

    def now(self) -> datetime: ...


class EventStore(Protocol):
    """Aggregates in, aggregates out; every save is one atomic append."""

    def get(self, kind: type[A], aggregate_id: UUID, version: int | None = None) -> A:
        """Load an aggregate (raises ``NotFound``), optionally as it was at ``version``."""
        ...

    def save(self, *aggregates: Aggregate) -> None:
        """Append every pending event of ``aggregates`` at once, or nothing (raises
        ``Conflict`` when another writer got there first)."""
        ...

    def ids_of(self, kind: type[Aggregate]) -> Sequence[UUID]:
        """Ids of every aggregate of a kind, in the order they were created."""
        ...
