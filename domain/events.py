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

from dataclasses import dataclass
from typing import Any, ClassVar, Final, TypedDict

from eventsourcing.domain import Aggregate

from domain.network import Actor

# Events stored before every event named its actor in full (class version 1)
# did not always say both: what only the owner service may do named its user,
# not the service; a case's note of a referral named the sender service, not
# its user. Their upcasters put this in the part that was never recorded.
NOT_RECORDED: Final = ""


class NetworkEvent(Aggregate.Event):
    """An event of one of the network's aggregates.

    What of it is her data is declared on the event's class, once, in two kinds
    (DOMAIN.md "Categories of personal data" and "Erasure"):

    * ``PERSONAL_FIELDS``: her data itself (a note's text, the risk answers and
      level, a referral's reason). Sealed under the case key: unreadable at rest
      without it, and gone with it when the case is erased.
    * ``DERIVED_FIELDS``: a value computed from a personal category that the
      network shows beyond that category's readers while the case lives (the
      high-risk flag, which every service taking part sees in its inbox even where
      it may not read the risk category). Sealed under the case key with her data,
      so it goes with her key: the views, which hold the keys, open it when they
      place the case's row, and null it there once the case is erased; no answer
      shows it then, and an auditor (who sees non-personal facts only) never
      reads it. What sets it apart from a personal field is who reads it, not
      where it is kept. (Events stored before a class sealed it keep it under the
      system key: docs/ENCRYPTION.md, "Derived fields in records stored before
      they were sealed".)

    Everything else is non-personal by DOMAIN.md and stays after erasure: who
    acted, when, statuses, referral kinds and urgency, and the terms that decide
    who may read what (a note's category, a referral's scope and legal basis, a
    consent's terms, which categories a read showed). Those say that something
    was written or shared in a category, never what; the access log and the
    audit of every referral need them (DOMAIN.md "Access log", "Consent").
    ``personal_fields``, ``derived_fields`` and ``withheld_fields`` read the
    declaration; nothing else lists these fields again.
    """

    # Set once per aggregate, on its base ``Event``: "case", "referral", ...
    aggregate: ClassVar[str]
    # Each event class that holds a derived field says which (see above).
    DERIVED_FIELDS: ClassVar[frozenset[str]] = frozenset()


@dataclass(frozen=True)
class OldActor:
    """Where an event's version 1 named its actor (see ``rename_actor``)."""

    user: str | None = None
    service: str | None = None
    service_from: str | None = None


class ActedEvent(NetworkEvent):
    """Someone on the staff acted: ``by_user`` for ``by_service``."""

    by_user: str
    by_service: str
    # Where the event's version 1 named its actor, for an event whose ``class_version``
    # is 2 or more; every acted event upcasts from version 1 the same way.
    V1_ACTOR: ClassVar[OldActor | None] = None

    @classmethod
    def upcast_v1_v2(cls, state: dict[str, Any]) -> None:
        if cls.V1_ACTOR is None:  # a new version with no word on its version 1
            raise TypeError(f"{cls.__qualname__} says nothing of its version 1's actor")
        old = cls.V1_ACTOR
        rename_actor(state, user=old.user, service=old.service, service_from=old.service_from)


def personal_fields(event_class: type[Any]) -> frozenset[str]:
    """Her data in the event: sealed under the case key, gone with it."""
    return frozenset(getattr(event_class, "PERSONAL_FIELDS", ()))


def derived_fields(event_class: type[Any]) -> frozenset[str]:
    """Values derived from her data that the network reads while the case lives:
    dropped from every view and answer once the case is erased."""
    return frozenset(getattr(event_class, "DERIVED_FIELDS", ()))


def withheld_fields(event_class: type[Any]) -> frozenset[str]:
    """Everything of the event that is hers, of either kind: what is sealed under
    her case key (and erased with it), what an auditor never reads and what
    nothing shows of an erased case."""
    return personal_fields(event_class) | derived_fields(event_class)


def network_event_classes() -> list[type[NetworkEvent]]:
    """Every event class of the network's aggregates defined so far (those of every
    module imported), each once."""
    found: list[type[NetworkEvent]] = []
    pending: list[type[NetworkEvent]] = [NetworkEvent]
    while pending:
        cls = pending.pop()
        for sub in cls.__subclasses__():
            if sub not in found:
                found.append(sub)
                pending.append(sub)
    return found


def derived_names() -> frozenset[str]:
    """The name of every derived field of every event of the network."""
    return frozenset(name for cls in network_event_classes() for name in derived_fields(cls))


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
