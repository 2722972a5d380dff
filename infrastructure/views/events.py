"""Records of the log as the projections read them: a typed event and its place.

A projection's handler is keyed by event class and reads the event's fields as
its class declares them (``Referral.Sent.flagged_for_review``, not a key of a
dict), so that renaming a field fails the type check in every projection that
reads it. The event is built from the fields the outer seal holds, without the
work of the event store's mapper:

* only the fields whose declared type the unpacked record does not already have
  are converted (ids, which are stored as text); the rest are taken as unpacked;
* the personal fields are absent: they stay sealed, and a projection copies the
  sealed part (``Place.sealed``) instead of reading them;
* the derived fields (``DERIVED_FIELDS``, ``domain.events``), sealed with them
  under the case key, are the exception: the views show them beyond the
  category they come from (a case's high-risk flag), so ``decoded`` opens the
  part with the case key (``PersonalParts``) and keeps those fields only, as
  ``ERASED`` once the key is gone. A record stored before its class sealed them
  holds them in its outer part, and they are read there while the key lives;
* the event's id and version are not set on it: they are the place's
  (``Place.stream``, ``Place.version``), in clear in the log; the place is the
  opened record itself, read through the ``Place`` protocol.

A record that no view reads beyond its place is neither opened nor decoded: its
handlers (``View.place_only``) get its place, with no sealed part, and ``None``
for the event.
"""

from __future__ import annotations

import typing
from datetime import datetime
from typing import Any, NamedTuple, Protocol

import msgspec

from application.view_ports import PersonalParts, SealedPart
from domain.erased import Erased
from domain.events import derived_fields
from infrastructure import event_codec
from infrastructure.sealing_mapper import RecordIntegrityError
from infrastructure.views.records import OpenedRecord, event_class

# What an unpacked record already holds as its class declares it (moments are
# unpacked as datetimes); a field of any other type is converted.
_AS_UNPACKED = frozenset({str, int, float, bool, bytes, datetime, type(None)})


class Place(Protocol):
    """Where a record stands in the log, and its personal part still sealed under its
    case key (None for a record with no personal part, or not opened). An
    ``OpenedRecord`` is one: a handler reads its place and nothing else of it."""

    @property
    def position(self) -> int: ...

    @property
    def stream(self) -> str: ...  # the stream id, as text

    @property
    def version(self) -> int: ...

    @property
    def topic(self) -> str: ...

    @property
    def sealed(self) -> bytes | None: ...

    def sealed_part(self) -> SealedPart: ...


def _as_unpacked(hint: Any) -> bool:
    origin = typing.get_origin(hint)
    if origin is None:
        return hint in _AS_UNPACKED
    if origin in (list, dict) or origin is typing.Union or origin is type(int | None):
        return all(_as_unpacked(arg) for arg in typing.get_args(hint))
    return False


class _Kind(NamedTuple):
    cls: type[Any]
    converted: tuple[tuple[str, Any], ...]  # (field, declared type) to convert
    derived: frozenset[str]  # sealed with the personal part, read by the views


_kinds: dict[str, _Kind] = {}


def _kind(topic: str) -> _Kind:
    kind = _kinds.get(topic)
    if kind is None:
        cls = event_class(topic)
        declared = event_codec.field_types(cls)
        converted = tuple(
            (name, hint) for name, hint in sorted(declared.items()) if not _as_unpacked(hint)
        )
        kind = _kinds[topic] = _Kind(cls, converted, derived_fields(cls))
    return kind


def decoded(record: OpenedRecord, parts: PersonalParts) -> Any:
    """The record's event: its non-personal fields, typed as its class declares them,
    and its derived fields opened from its sealed part with ``parts``."""
    fields = record.state
    cls, converted, derived = _kind(record.topic)
    try:
        for name, hint in converted:
            if name in fields:
                fields[name] = msgspec.convert(fields[name], hint, strict=False)
    except msgspec.ValidationError as e:
        raise RecordIntegrityError(f"{record.describe()}: {e}") from None
    if derived:
        # As the mapper reads them: the sealed part's value wins over the outer
        # part's (which only a record stored before its class sealed it has), and
        # once her key is gone the field is erased wherever it was stored.
        opened = parts.open(record.sealed_part())
        for name in derived:
            if isinstance(opened, Erased):
                fields[name] = opened
            elif name in opened:
                fields[name] = opened[name]
            elif name not in fields:
                raise RecordIntegrityError(f"{record.describe()}: {name} is in neither part")
    event = object.__new__(cls)
    object.__setattr__(event, "__dict__", fields)
    return event


def place_of(position: int, stream: str, version: int, topic: str) -> Place:
    """The place of a record that is not opened: no event, no sealed part."""
    return OpenedRecord(position, stream, version, topic, {}, None)
