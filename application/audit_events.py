"""One stored event as an auditor sees it: every non-personal fact, never a personal one.

Who acted and which aggregate an event belongs to are read from its class
(``domain/events.py``): every event of the network names its actor as
``by_user``/``by_service`` or is the network's own doing, and says its aggregate.

Her data (each event class declares it: ``PERSONAL_FIELDS``, and the values
derived from it, ``DERIVED_FIELDS``; ``domain.events.withheld_fields`` reads
both) reads as ``"sealed"`` whatever it holds, even nothing: an auditor learns
that the field exists, not its value nor whether it was filled. An auditor sees
non-personal facts only (DOMAIN.md, the visibility table's oversight row), so a
derived value such as the high-risk flag is withheld whether or not the case is
erased; her data reach an auditor only through a disclosure.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime
from enum import Enum
from typing import Any
from uuid import UUID

import msgspec
from eventsourcing.domain import Aggregate

from domain.events import ActedEvent, NetworkEvent, withheld_fields

SEALED = "sealed"

# Said once, outside ``fields``: the stream, the version, the time, the aggregate's topic,
# and who acted (the fields ``ActedEvent`` adds: ``user_id`` and ``service_id`` below).
_ACTOR = frozenset(f.name for f in dataclasses.fields(ActedEvent)) - frozenset(
    f.name for f in dataclasses.fields(NetworkEvent)
)
_FRAME = _ACTOR | {"originator_id", "originator_version", "timestamp", "originator_topic"}


class AuditEvent(msgspec.Struct, frozen=True):
    """One event: where it is, what it is, who acted, and its non-personal fields."""

    position: int | None  # in the whole log; not known in a case's replayed history
    stream_id: str
    aggregate: str
    type: str
    version: int
    timestamp: datetime
    user_id: str | None
    service_id: str | None
    fields: dict[str, Any]


def aggregate_of(event: Aggregate.Event) -> str:
    """The kind of aggregate the event belongs to, as its class declares it."""
    if not isinstance(event, NetworkEvent):
        raise TypeError(f"{type(event).__qualname__} is not an event of the network")
    return event.aggregate


def actor_of(event: Aggregate.Event) -> tuple[str | None, str | None]:
    """Who acted and for which service; none for what the network did itself.
    A part an old stored event did not record (``NOT_RECORDED``) reads as none."""
    if isinstance(event, ActedEvent):
        return event.by_user or None, event.by_service or None
    return None, None


def plain(value: Any) -> Any:
    """A value as JSON and a terminal show it."""
    if isinstance(value, Enum):
        return plain(value.value)
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [plain(v) for v in value]
        return sorted(items) if isinstance(value, set | frozenset) else items
    return value


def audit_event(event: Aggregate.Event, position: int | None = None) -> AuditEvent:
    personal = withheld_fields(type(event))
    facts = {k: plain(v) for k, v in vars(event).items() if k not in _FRAME | personal}
    fields = dict(sorted({**facts, **dict.fromkeys(personal, SEALED)}.items()))
    user_id, service_id = actor_of(event)
    return AuditEvent(
        position=position,
        stream_id=str(event.originator_id),
        aggregate=aggregate_of(event),
        type=type(event).__qualname__,
        version=event.originator_version,
        timestamp=event.timestamp,
        user_id=user_id,
        service_id=service_id,
        fields=fields,
    )
