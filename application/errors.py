"""Application errors: what is not a rule of the domain but of using it."""

from __future__ import annotations

from domain.errors import DomainError, InvalidState, NotPermitted


class NotFound(DomainError):
    """No such thing, or not one the actor's service may know exists (404 either way)."""

    code = "not-found"
    title = "Not found"


class Conflict(InvalidState):
    """Someone else changed the same thing first; nothing was written. Retry on fresh state."""

    code = "conflict"
    title = "Changed by someone else first"


class NotWorkingOnCase(NotPermitted):
    code = "not-working-on-case"
    title = "Your service no longer works on this case (its referral ended)"


class StorageFull(Exception):
    """The database, or the disk under it, has no space left: nothing could be
    written (a read that records who read is a write too). Nothing half-written
    stays; the same request succeeds once an operator frees space, with no restart.
    Not a rule of the network, so not a ``DomainError``: the infrastructure raises
    it for the driver's own error (``infrastructure.db.storage_full``)."""

    code = "storage-full"
    title = "Storage full"
    detail = (
        "the server's storage is full: nothing was written; retry later "
        "(an operator has been told by the log)"
    )
