"""Idempotent writes: a write sent again with the same ``Idempotency-Key`` has one
effect, and its retry gets the first answer (API.md).

A key belongs to the caller that sent it (its service and user): another caller's
same key is another key, so nobody replays somebody else's answer. The first
request *reserves* the key (``IdempotencyStore.reserve``) before any work; just
before its events are appended, the events it is about to write are *announced*
on the reservation (their stream, version and a digest of their stored bytes);
its answer is *recorded* once it has one. So a later request with that key finds:

* nothing: it is the first, and does the work;
* the same key with another request (method, path or body): 422
  ``idempotency-key-reused``;
* a recorded answer: that answer, replayed, and nothing done;
* a reservation whose request is still running: 409 ``idempotency-in-progress``
  (retry after ``Retry-After``);
* a reservation whose request ended without an answer (its process died, or its
  commit could not be confirmed): the announced events decide. Found in the log:
  the write was applied and its answer lost (409 ``already-applied``: read the
  resource); not found, or nothing announced: nothing was written, and this
  request does the work; the log unreadable: 503 ``outcome-unknown``.

Keys are kept ``RETE_IDEMPOTENCY_HOURS`` (24 h by default), then forgotten.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import ClassVar, Protocol
from uuid import UUID

from domain.errors import DomainError, InvalidState, RuleViolation


@dataclass(frozen=True)
class Answer:
    """An answer as it was sent: status, the headers that matter, the body's bytes."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes


@dataclass(frozen=True)
class Announced:
    """One event a write is about to append: its stream, version and the digest
    of its stored bytes (which no other write can produce)."""

    stream: UUID
    version: int
    digest: str


class Reserved:
    """The key is this request's: do the work, then ``record`` or ``release``."""

    def __init__(self, token: str) -> None:
        self.token = token


Reservation = Reserved | Answer


class IdempotencyKeyReused(RuleViolation):
    code = "idempotency-key-reused"
    title = "This Idempotency-Key was used for another request"


class IdempotencyInProgress(InvalidState):
    code = "idempotency-in-progress"
    title = "A request with this Idempotency-Key is still running"
    retry_after: ClassVar[int] = 1


class AlreadyApplied(InvalidState):
    code = "already-applied"
    title = "This write was applied; its answer was lost"


class OutcomeUnknown(DomainError):
    """The server could not confirm whether a write was stored (503): the client
    retries with the same ``Idempotency-Key``, which then finds out. Never a claim
    that nothing was written."""

    code = "outcome-unknown"
    title = "Whether this write was stored is not known yet"
    retry_after: ClassVar[int] = 2


class IdempotencyStore(Protocol):
    """The reservations and answers of idempotency keys (the port)."""

    def reserve(self, owner: str, key: str, fingerprint: str) -> Reservation:
        """Reserve ``key`` of ``owner`` for the request whose ``fingerprint`` is given,
        or the answer to give instead (raises the errors above)."""
        ...

    def announce(self, owner: str, key: str, token: str, events: Sequence[Announced]) -> None:
        """The events the reserving request is about to append."""
        ...

    def record(self, owner: str, key: str, token: str, answer: Answer) -> None:
        """The answer of the reserving request: replayed from now on."""
        ...

    def release(self, owner: str, key: str, token: str, *, unknown: bool = False) -> None:
        """The reserving request ended without an answer to keep: nothing was
        written (the key is free again), or, ``unknown``, it cannot tell (the next
        request with the key finds out from what was announced)."""
        ...


@dataclass
class Write:
    """What the event store is told about the write running on this thread."""

    announce: Callable[[Sequence[Announced]], None]
    saved: bool = False
    announced: list[Announced] = field(default_factory=list)


_current: ContextVar[Write | None] = ContextVar("rete_idempotent_write", default=None)


@contextmanager
def idempotent_write(announce: Callable[[Sequence[Announced]], None]) -> Iterator[Write]:
    """Run a write whose appends are announced to ``announce`` before they are made."""
    write = Write(announce)
    token = _current.set(write)
    try:
        yield write
    finally:
        _current.reset(token)


def before_append(events: Sequence[Announced]) -> None:
    """Called by the event store just before it appends ``events``."""
    write = _current.get()
    if write is not None:
        write.announce(events)
        write.announced.extend(events)


def appended() -> None:
    """Called by the event store once an append is stored (confirmed)."""
    write = _current.get()
    if write is not None:
        write.saved = True
