"""A view: a name, its tables, and what each kind of event does to them."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from infrastructure.views.records import OpenedRecord
from infrastructure.views.rows import Row, RowSet
from infrastructure.views.schema import Table

Handler = Callable[[RowSet, OpenedRecord], None]


@dataclass(frozen=True)
class View:
    """``handlers`` maps an event topic to what it does; other events pass by.
    Bump ``revision`` when a handler's meaning changes: a view whose stored shape
    differs from its definition is rebuilt from the log when the views are opened.

    ``place_only``: topics whose handler reads nothing but the record's place
    (stream, version, position), which the log holds in clear. When no view reads
    more of such a record, its outer seal is not opened: its handler gets empty
    fields and no sealed part. (The views trust the log's place as they trust its
    order; the ledger is what detects a record altered in the store.)"""

    name: str
    revision: int
    tables: tuple[Table, ...]
    handlers: Mapping[str, Handler]
    place_only: frozenset[str] = frozenset()

    def shape(self) -> str:
        text = f"{self.name}/{self.revision}/" + "/".join(t.fingerprint() for t in self.tables)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def sealed_columns(record: OpenedRecord) -> Row:
    """The record's personal part as stored, and the place it is bound to."""
    if record.sealed is None:
        record.sealed_part()  # raises, naming the record
    return {
        "sealed": record.sealed,
        "sealed_stream": record.stream,
        "sealed_version": record.version,
        "sealed_topic": record.topic,
    }
