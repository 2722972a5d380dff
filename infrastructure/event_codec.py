"""Event payloads encoded with msgspec (MessagePack), decoded back to their types.

The stdlib JSON transcoder needs a registered transcoding per type and loses
enums, tuples and frozensets. Here an event's state is packed as a map, and read
back through a msgspec structure built once per event class from its
annotations, which restores datetimes, UUIDs and the rest, and refuses a payload
whose shape does not match its class.
"""

from __future__ import annotations

import functools
import operator
import typing
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

import msgspec

from domain.erased import Erased

_BASE_FIELDS = frozenset({"originator_id", "originator_version"})

_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder()


def pack(value: Any) -> bytes:
    return _encoder.encode(value)


def unpack(data: bytes) -> Any:
    return _decoder.decode(data)


def _stored_type(hint: Any) -> Any:
    """What a field is stored as: never the erased marker, which is only ever read."""
    args = typing.get_args(hint)
    if Erased in args:
        return functools.reduce(operator.or_, (a for a in args if a is not Erased))
    return hint


_field_types_cache: dict[type[Any], dict[str, Any]] = {}
_shape_cache: dict[tuple[type[Any], frozenset[str]], type[msgspec.Struct]] = {}


def _field_types(event_class: type[Any]) -> dict[str, Any]:
    types = _field_types_cache.get(event_class)
    if types is None:
        hints = typing.get_type_hints(event_class)
        types = {
            name: _stored_type(hint)
            for name, hint in hints.items()
            if name not in _BASE_FIELDS and typing.get_origin(hint) is not ClassVar
        }
        _field_types_cache[event_class] = types
    return types


def _shape(event_class: type[Any], fields: frozenset[str]) -> type[msgspec.Struct]:
    shape = _shape_cache.get((event_class, fields))
    if shape is None:
        types = _field_types(event_class)
        shape = msgspec.defstruct(
            f"{event_class.__qualname__}Stored",
            [(name, types[name]) for name in sorted(fields)],
            forbid_unknown_fields=True,
        )
        _shape_cache[(event_class, fields)] = shape
    return shape


def typed(event_class: type[Any], raw: Mapping[str, Any], fields: Iterable[str]) -> dict[str, Any]:
    """``raw`` (as unpacked) converted field by field to the types ``event_class`` declares."""
    shape = _shape(event_class, frozenset(fields))
    converted = msgspec.convert(dict(raw), type=shape, strict=False)
    return msgspec.structs.asdict(converted)


def field_types(event_class: type[Any]) -> Mapping[str, Any]:
    """Each field the class declares (its id and version aside), with the type it is
    stored as."""
    return _field_types(event_class)


def declared_fields(event_class: type[Any]) -> frozenset[str]:
    return frozenset(_field_types(event_class))
