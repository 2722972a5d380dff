"""How domain values are written into stored events and snapshots.

The library's JSON transcoder knows only a few types; each value object of the
domain is registered here, encoded as its fields and rebuilt with its types
(enums, datetimes, frozensets) from its annotations.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import msgspec
from eventsourcing.persistence import JSONTranscoder, Transcoding

from domain.consent import Consent
from domain.entries import Entry, Erasure, LegalHold, ReferralLink
from domain.risk import RiskAssessment

VALUE_OBJECTS: tuple[type[Any], ...] = (
    Entry,
    Consent,
    RiskAssessment,
    LegalHold,
    ReferralLink,
    Erasure,
)


class DataclassTranscoding(Transcoding):
    def __init__(self, cls: type[Any]) -> None:
        assert dataclasses.is_dataclass(cls)
        self.type = cls
        self.name = f"rete.{cls.__name__}"

    def encode(self, obj: Any) -> Any:
        return msgspec.to_builtins(obj)

    def decode(self, data: Any) -> Any:
        return msgspec.convert(data, type=self.type, strict=False)


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
