"""A view: a name, its tables, and its projection (what each kind of event does to them)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from eventsourcing.utils import get_topic

from infrastructure.views.events import Place
from infrastructure.views.rows import Row, RowSet
from infrastructure.views.schema import Table

Handler = Callable[[Any, Place, RowSet], None]
"""One event class's handler: the typed event, its place, the batch's rows."""

PlaceHandler = Callable[[object, Place, RowSet], None]
"""A handler that reads nothing of the event but its place: the event is ``None``
when no view read it, and ``object`` to the type checker in any case."""


class Projection(Protocol):
    """Handlers keyed by event class: a ``functools.singledispatch`` function
    ``(event, place, rows) -> None`` whose fallback (for ``object``) does nothing,
    and one ``register``-ed function per event class it reads, annotated with that
    class, so that the type checker checks every field it reads."""

    @property
    def registry(self) -> Mapping[Any, Callable[..., None]]: ...


@dataclass(frozen=True)
class View:
    """``projection`` holds what each event class does; other events pass by.
    Bump ``revision`` when a handler's meaning changes: a view whose stored shape
    differs from its definition is rebuilt from the log when the views are opened.

    ``place_only``: event classes whose handler reads nothing but the record's place
    (stream, version, position), which the log holds in clear. When no view reads
    more of such a record, its outer seal is not opened: it is not decoded, and
    its place has no sealed part. (The views trust the log's place as they trust
    its order; the ledger is what detects a record altered in the store.)"""

    name: str
    revision: int
    tables: tuple[Table, ...]
    projection: Projection
    place_only: Mapping[type[Any], PlaceHandler] = field(default_factory=dict)

    def handlers(self) -> dict[str, Handler]:
        """Each topic this view reads, and what it does with a record of it."""
        found: dict[str, Handler] = {
            get_topic(cls): handler
            for cls, handler in self.projection.registry.items()
            if cls is not object
        }
        for cls, by_place in self.place_only.items():
            if get_topic(cls) in found:
                raise ValueError(f"{self.name}: {cls.__qualname__} both read and place-only")
            found[get_topic(cls)] = by_place
        return found

    def place_only_topics(self) -> frozenset[str]:
        return frozenset(get_topic(cls) for cls in self.place_only)

    def shape(self) -> str:
        text = f"{self.name}/{self.revision}/" + "/".join(t.fingerprint() for t in self.tables)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def sealed_columns(place: Place) -> Row:
    """The record's personal part as stored, and the place it is bound to."""
    if place.sealed is None:
        place.sealed_part()  # raises, naming the record
    return {
        "sealed": place.sealed,
        "sealed_stream": place.stream,
        "sealed_version": place.version,
        "sealed_topic": place.topic,
    }
