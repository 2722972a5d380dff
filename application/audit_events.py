"""One stored event as an auditor sees it: every non-personal fact, never a personal one.

Personal fields (each event class names them in ``PERSONAL_FIELDS``) read as
``"sealed"`` whatever they hold, even nothing: an auditor learns that the field
exists, not its value nor whether it was filled. Their values reach an auditor
only through a disclosure.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import Enum
from typing import Any
from uuid import UUID

import msgspec
from eventsourcing.domain import Aggregate

SEALED = "sealed"

# The aggregate an event belongs to, by the outer name of its class.
_AGGREGATES: Mapping[str, str] = {
    "Case": "case",
    "Referral": "referral",
    "AccessRecord": "access_record",
    "ReferenceSequence": "reference_sequence",
}
# Who acted, and for which service, as each kind of event names them.
_ACTOR_FIELDS = (
    "user_id",
    "by_user",
    "author",
    "sent_by",
    "opened_by",
    "recorded_by",
    "withdrawn_by",
    "assessed_by",
    "placed_by",
    "lifted_by",
    "closed_by",
    "erased_by",
)
_SERVICE_FIELDS = ("service_id", "by_service", "sender_service", "owner_service")
# Said once, outside ``fields``: the stream, the version, the time, the aggregate's topic.
_FRAME = frozenset({"originator_id", "originator_version", "timestamp", "originator_topic"})


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
    outer = type(event).__qualname__.split(".")[0]
    return _AGGREGATES.get(outer, outer.lower())


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


def _first(state: Mapping[str, Any], names: tuple[str, ...]) -> str | None:
    for name in names:
        value = state.get(name)
        if isinstance(value, str):
            return value
    return None


def audit_event(event: Aggregate.Event, position: int | None = None) -> AuditEvent:
    personal = frozenset(getattr(type(event), "PERSONAL_FIELDS", ()))
    facts = {k: plain(v) for k, v in vars(event).items() if k not in _FRAME | personal}
    fields = dict(sorted({**facts, **dict.fromkeys(personal, SEALED)}.items()))
    return AuditEvent(
        position=position,
        stream_id=str(event.originator_id),
        aggregate=aggregate_of(event),
        type=type(event).__qualname__,
        version=event.originator_version,
        timestamp=event.timestamp,
        user_id=_first(facts, _ACTOR_FIELDS),
        service_id=_first(facts, _SERVICE_FIELDS),
        fields=fields,
    )
