"""The ports the application needs; the infrastructure implements them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
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

    def history_of(self, aggregate_id: UUID) -> Sequence[Aggregate.Event]:
        """Every stored event of one aggregate, oldest first (never a snapshot)."""
        ...

    def logged(self, after: int, limit: int) -> Sequence[Logged]:
        """At most ``limit`` events of the whole log after position ``after``, in log order."""
        ...


@dataclass(frozen=True, slots=True)
class Logged:
    """One event of the ordered log, at its position (the notification id)."""

    position: int
    event: Aggregate.Event


SYSTEM_SCOPE = "system"
"""The key scope of the non-personal rest of every event. Never destroyed."""


def case_scope(case_id: UUID) -> str:
    """The key scope of one case's personal data (and of its referrals')."""
    return f"case:{case_id}"


class KeyStore(Protocol):
    """Data keys, kept only wrapped under a key-encryption key outside the database.

    A *scope* names what a key protects: ``"system"`` for the non-personal rest of
    every event, ``"case:<uuid>"`` for one case's personal data. A scope may have
    several key versions; the newest seals, all of them open.
    """

    def sealing_key(self, scope: str) -> tuple[bytes, bytes]:
        """The current ``(key_id, key)`` of a scope, created on first use.
        Raises ``KeyDestroyed`` for a scope that was destroyed (an erased case)."""
        ...

    def opening_key(self, key_id: bytes) -> bytes | None:
        """The key with that id, or ``None`` when it was destroyed (crypto-shredded).
        Raises ``UnknownKey`` for an id never issued: tampering, not erasure."""
        ...

    def prefetch_opening(self, key_ids: Iterable[bytes]) -> None:
        """Make ``opening_key`` answer these ids without a read each, where the store
        reads them from elsewhere (a rebuild opens parts under thousands of case
        keys). Nothing changes in what ``opening_key`` answers; ids not found are
        left to it."""
        ...

    def destroy(self, scope: str) -> int:
        """Delete every wrapped copy of every key of a scope; returns how many.
        From then on nothing sealed under them can be opened, in any process."""
        ...


class KeyDestroyed(Exception):
    """The keys of this scope were destroyed: it can never seal again."""


class UnknownKey(LookupError):
    """A key id the store never issued (nor destroyed): a tampered header, or a
    key store that does not belong to this event store. Not an erasure."""


class EndedConsents(Protocol):
    """Where the consent-expiry run looks: the referrals still active that rely on
    a consent which no longer stands (read from the views, which only say where to
    look; each referral's aggregate and its case's decide)."""

    def relying_on_ended(self, at: datetime) -> list[UUID]:
        """Ids of active referrals, of cases not erased, whose consent expired (or
        was withdrawn) at or before ``at``, the oldest referral first."""
        ...
