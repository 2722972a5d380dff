"""The views' tables, as data: one definition gives both backends' DDL and statements.

Column kinds: ``text``, ``int``, ``bool``, ``time`` (a moment, UTC), ``blob``; a
trailing ``?`` allows null. Every table has a primary key; the projections insert
rows with plain ``INSERT`` (a row applied twice fails the batch instead of passing
silently) and rewrite updated rows by key.

A sealed part is stored as four columns: the blob as the event store holds it,
and the place it is bound to (stream id, version, topic).

Every table ends with ``mac``: the row's MAC over its table and its other columns
(``row_mac``), written with the row and checked before the row is used.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Final

SEALED: Final = (
    ("sealed", "blob"),
    ("sealed_stream", "text"),
    ("sealed_version", "int"),
    ("sealed_topic", "text"),
)


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    kind: str
    nullable: bool


@dataclass(frozen=True, eq=False)  # each table is one object: hashed by identity, cheaply
class Table:
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    indexes: tuple[tuple[str, ...], ...] = ()

    def key_of(self, row: Mapping[str, Any]) -> tuple[Any, ...]:
        return tuple(row[k] for k in self.key) if len(self.key) > 1 else (row[self.key[0]],)

    # Cached: every row read from the views is decoded and named by these.
    @cached_property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @cached_property
    def kinds(self) -> tuple[str, ...]:
        return tuple(c.kind for c in self.columns)

    def fingerprint(self) -> str:
        """Changes whenever the table's shape does: a view whose stored fingerprint
        differs is rebuilt from the log."""
        text = repr((self.name, self.columns, self.key, self.indexes))
        return hashlib.sha256(text.encode()).hexdigest()[:16]


MAC: Final = "mac"


def table(
    name: str,
    columns: tuple[tuple[str, str], ...],
    key: tuple[str, ...],
    indexes: tuple[tuple[str, ...], ...] = (),
) -> Table:
    """A view table; its last column is the row's MAC (``row_mac``)."""
    cols = tuple(Column(n, k.rstrip("?"), k.endswith("?")) for n, k in columns)
    return Table(name, (*cols, Column(MAC, "blob", False)), key, indexes)


TRACKING: Final = "rete_view_tracking"

CASES: Final = table(
    "rete_view_cases",
    (
        ("id", "text"),
        ("reference_code", "text"),
        ("owner_service", "text"),
        ("status", "text"),
        # Derived from her risk assessments: null once the case is erased.
        ("high_risk", "bool?"),
        # The assessments that turned the flag (each service sees that it turned,
        # so it counts in every reader's version): null once erased.
        ("high_risk_turns", "text?"),
        ("legal_hold", "bool"),
        ("opened_at", "time"),
        ("opened_position", "int"),
        ("version", "int"),
    ),
    key=("id",),
    indexes=(("reference_code",), ("opened_position",)),
)

PARTICIPANTS: Final = table(
    "rete_view_case_participants",
    (("case_id", "text"), ("service_id", "text"), ("role", "text"), ("source_id", "text")),
    # source_id: the case (for its owner) or the referral that made the service take part.
    key=("case_id", "service_id", "role", "source_id"),
    indexes=(("service_id", "case_id"),),
)

REFERRALS: Final = table(
    "rete_view_referrals",
    (
        ("id", "text"),
        ("case_id", "text"),
        ("position", "int"),
        ("sender_service", "text"),
        ("recipient_service", "text"),
        ("kind", "text"),
        ("urgency", "text"),
        ("urgency_rank", "int"),
        ("scope", "text"),
        ("legal_basis", "text"),
        ("consent_id", "text?"),
        ("statute", "text?"),
        ("flagged", "bool"),
        ("status", "text"),
        ("active", "bool"),
        ("sent_by", "text"),
        ("sent_at", "time"),
        ("acknowledge_by", "time"),
        ("answer_by", "time"),
        ("due", "time?"),
        ("acknowledged_at", "time?"),
        ("accepted_at", "time?"),
        ("answered_at", "time?"),
        ("ended_at", "time?"),
        ("escalations", "text"),
        ("version", "int"),
        *SEALED,
    ),
    key=("id",),
    # A box's order (``ViewQueries.box``): a service's referrals by urgency, then by
    # sending; the index hands out the first page without sorting the box.
    indexes=(
        ("recipient_service", "urgency_rank", "position"),
        ("sender_service", "urgency_rank", "position"),
        ("case_id",),
    ),
)

ESCALATIONS: Final = table(
    "rete_view_escalations",
    (
        ("referral_id", "text"),
        ("deadline", "text"),
        ("case_id", "text"),
        ("due", "time"),
        ("escalated_at", "time"),
        ("position", "int"),
    ),
    key=("referral_id", "deadline"),
)

ENTRIES: Final = table(
    "rete_view_entries",
    (
        ("entry_id", "text"),
        ("case_id", "text"),
        ("category", "text"),
        ("author", "text"),
        ("service_id", "text"),
        ("recorded_at", "time"),
        *SEALED,
    ),
    key=("entry_id",),
    indexes=(("case_id", "sealed_version"),),
)

CONSENTS: Final = table(
    "rete_view_consents",
    (
        ("consent_id", "text"),
        ("case_id", "text"),
        ("version", "int"),
        ("recipient_kinds", "text"),
        ("recipient_services", "text"),
        ("purposes", "text"),
        ("categories", "text"),
        ("recorded_at", "time"),
        ("recorded_by", "text"),
        ("expires_at", "time?"),
        ("withdrawn_at", "time?"),
        ("withdrawn_by", "text?"),
    ),
    key=("consent_id",),
    indexes=(("case_id", "version"),),
)

ASSESSMENTS: Final = table(
    "rete_view_assessments",
    (
        ("assessment_id", "text"),
        ("case_id", "text"),
        ("instrument_id", "text"),
        ("service_id", "text"),
        ("assessed_by", "text"),
        ("assessed_at", "time"),
        *SEALED,
    ),
    key=("assessment_id",),
    indexes=(("case_id", "sealed_version"),),
)

ACCESS: Final = table(
    "rete_view_access",
    # One row per access record (a read of a case's personal data, a disclosure):
    # which case's log it belongs to, in log order. The record itself is read from
    # the event store, one page at a time. ``number``: its place in the case's log
    # (1, 2, ...), which ``ACCESS_COUNTS`` ends: a row deleted leaves a gap or a
    # count its rows do not reach.
    (("record_id", "text"), ("case_id", "text"), ("position", "int"), ("number", "int")),
    key=("record_id",),
    indexes=(("case_id", "position"),),
)

ACCESS_COUNTS: Final = table(
    "rete_view_access_counts",
    # One row per case, from its opening: how many access records its log holds.
    (("case_id", "text"), ("records", "int")),
    key=("case_id",),
)

ALL_TABLES: Final = (
    CASES,
    PARTICIPANTS,
    REFERRALS,
    ESCALATIONS,
    ENTRIES,
    CONSENTS,
    ASSESSMENTS,
    ACCESS,
    ACCESS_COUNTS,
)


def words(values: Iterable[str]) -> str:
    """A set of vocabulary words as stored: sorted, comma-separated (words of a
    ``StrEnum`` join as their values)."""
    if isinstance(values, str):
        raise TypeError("words() takes a collection of words, not one text")
    return ",".join(sorted(values))


def unwords(text: str) -> list[str]:
    return text.split(",") if text else []
