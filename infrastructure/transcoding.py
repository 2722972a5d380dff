"""How domain values are written into stored events and snapshots.

The library's JSON transcoder knows only a few types; each value object of the
domain is registered here, encoded as its fields and rebuilt with its types
(enums, datetimes, frozensets) from its annotations.
"""

from __future__ import annotations

import dataclasses
import functools
import operator
import typing
from typing import Any

import msgspec
from eventsourcing.persistence import JSONTranscoder, Transcoding

from domain.consent import Consent
from domain.entries import Entry, Erasure, LegalHold, ReferralLink
from domain.erased import ERASED, Erased
from domain.referral_lifecycle import Lifecycle
from domain.risk import RiskAssessment

VALUE_OBJECTS: tuple[type[Any], ...] = (
    Entry,
    Consent,
    RiskAssessment,
    LegalHold,
    ReferralLink,
    Erasure,
    Lifecycle,
)


def _without_erased(hint: Any) -> Any:
    """``str | Erased`` → ``str``: a snapshot never holds the erased marker (an
    erased case is never snapshotted again, and its old snapshots are not read)."""
    args = typing.get_args(hint)
    if Erased in args:
        kept = tuple(a for a in args if a is not Erased)
        return functools.reduce(operator.or_, kept)
    return hint


class DataclassTranscoding(Transcoding):
    def __init__(self, cls: type[Any]) -> None:
        assert dataclasses.is_dataclass(cls)
        self.type = cls
        self.name = f"rete.{cls.__name__}"
        hints = typing.get_type_hints(cls)
        self._mirror = msgspec.defstruct(
            f"{cls.__name__}Mirror",
            [(f.name, _without_erased(hints[f.name])) for f in dataclasses.fields(cls)],
        )

    def encode(self, obj: Any) -> Any:
        if any(getattr(obj, f.name) is ERASED for f in dataclasses.fields(obj)):
            raise ValueError(f"an erased {type(obj).__name__} is never written to a snapshot")
        return msgspec.to_builtins(obj)

    def decode(self, data: Any) -> Any:
        mirrored = msgspec.convert(data, type=self._mirror, strict=False)
        return self.type(**msgspec.structs.asdict(mirrored))


class FrozensetAsList(Transcoding):
    type = frozenset
    name = "frozenset"

    def encode(self, obj: frozenset[Any]) -> list[Any]:
        return sorted(obj)

    def decode(self, data: list[Any]) -> frozenset[Any]:
        return frozenset(data)


def register_domain_values(transcoder: JSONTranscoder) -> None:
    transcoder.register(FrozensetAsList())
    for cls in VALUE_OBJECTS:
        transcoder.register(DataclassTranscoding(cls))
