"""The one base of every event of the network's aggregates, and how an event names who acted.

Each aggregate (case, referral, access record, reference sequence) declares its
own base ``Event`` with the ``aggregate`` kind it belongs to; the library makes
every event defined on the aggregate a subclass of that base, so an event's
aggregate is a fact of its class.

Every event is one of two sorts, and says which by its class:

* an ``ActedEvent``: a person on the staff acted, for a service. Who is always
  ``by_user`` and ``by_service``, whatever the event, so the audit reads them
  the same way for every event (DOMAIN.md: the ids of the staff who acted are
  not personal data and stay readable after erasure). Facts that happen to name
  a service too (a case's ``owner_service``, a referral's ``sender_service``)
  keep their own fields and meaning.
* a ``SystemEvent``: nobody on the staff acted; the network did (a deadline
  passed, a withdrawn consent reached the referrals relying on it, a number
  was issued).
"""

from __future__ import annotations

from typing import Any, ClassVar, Final, TypedDict

from eventsourcing.domain import Aggregate

from domain.network import Actor

# Events stored before every event named its actor in full (class version 1)
# did not always say both: what only the owner service may do named its user,
# not the service; a case's note of a referral named the sender service, not
# its user. Their upcasters put this in the part that was never recorded.
NOT_RECORDED: Final = ""


class NetworkEvent(Aggregate.Event):
    """An event of one of the network's aggregates."""

    # Set once per aggregate, on its base ``Event``: "case", "referral", ...
    aggregate: ClassVar[str]


class ActedEvent(NetworkEvent):
    """Someone on the staff acted: ``by_user`` for ``by_service``."""

    by_user: str
    by_service: str


class SystemEvent(NetworkEvent):
    """Nobody on the staff acted: the network itself did."""


class Acting(TypedDict):
    """The fields of an ``ActedEvent`` that say who acted."""

    by_user: str
    by_service: str


def acted_by(by: Actor) -> Acting:
    """Who acted, from the acting person, as the keywords of an ``ActedEvent``."""
    return Acting(by_user=by.user_id, by_service=by.service.id)


def rename_actor(
    state: dict[str, Any], *, user: str | None, service: str | None, service_from: str | None
) -> None:
    """Upcast a stored version-1 event to name its actor as every event now does.

    ``user`` and ``service`` are the old names of the actor's fields (moved);
    ``service_from`` is a fact field that also named the acting service (copied,
    it keeps its own meaning). A part the old event did not record becomes
    ``NOT_RECORDED``."""
    state["by_user"] = state.pop(user) if user else NOT_RECORDED
    if service:
        state["by_service"] = state.pop(service)
    elif service_from:
        state["by_service"] = state[service_from]
    else:
        state["by_service"] = NOT_RECORDED
