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
