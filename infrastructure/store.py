"""The event store: the eventsourcing library's application on SQLite or PostgreSQL."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from threading import Lock
from typing import Any, ClassVar, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, JSONTranscoder
from eventsourcing.utils import get_topic

from application.errors import Conflict, NotFound
from domain.case import Case
from domain.reference import ReferenceSequence
from domain.referral import Referral
from infrastructure.transcoding import register_domain_values

A = TypeVar("A", bound=Aggregate)

_CREATION_TOPICS: dict[type[Aggregate], str] = {
    Case: get_topic(Case.Opened),
    Referral: get_topic(Referral.Sent),
}

# How many notifications the id index reads per round trip.
_PAGE = 1000


class ReteEventStore(Application[UUID]):
    """Implements the application's ``EventStore`` port."""

    name = "Rete"
    snapshotting_intervals: ClassVar[dict[type[Any], int]] = {Case: 50, Referral: 50}

    def __init__(self, env: Mapping[str, str], snapshot_interval: int = 50) -> None:
        super().__init__(env)
        # The library reads the intervals through the instance, so one set per
        # instance lets the interval come from settings.
        self.snapshotting_intervals = {  # type: ignore[misc]
            Case: snapshot_interval,
            Referral: snapshot_interval,
            ReferenceSequence: snapshot_interval,
        }
        self._ids: dict[str, list[UUID]] = {}
        self._indexed_up_to = 0
        self._index_lock = Lock()

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        register_domain_values(transcoder)

    # -- the port -----------------------------------------------------------

    def get(self, kind: type[A], aggregate_id: UUID, version: int | None = None) -> A:
        try:
            aggregate: Aggregate = self.repository.get(aggregate_id, version=version)
        except AggregateNotFoundError:
            raise NotFound(f"no {kind.__name__.lower()} with that id") from None
        if not isinstance(aggregate, kind):
            raise NotFound(f"no {kind.__name__.lower()} with that id")
        return aggregate

    def save(self, *aggregates: Aggregate, **kwargs: Any) -> Any:  # type: ignore[override]
        try:
            return super().save(*aggregates, **kwargs)
        except IntegrityError:
            raise Conflict(
                "someone else changed this first; nothing was written, reload and retry"
            ) from None

    def ids_of(self, kind: type[Aggregate]) -> Sequence[UUID]:
        """Ids of a kind of aggregate, from their creation events in the log.

        An interim index for the lists until the views arrive: it reads only the
        notifications it has not read before (creation topics are stored in clear).
        """
        with self._index_lock:
            topics = list(_CREATION_TOPICS.values())
            while True:
                batch = self.recorder.select_notifications(
                    start=self._indexed_up_to + 1, limit=_PAGE, topics=topics
                )
                for n in batch:
                    self._ids.setdefault(n.topic, []).append(UUID(str(n.originator_id)))
                    self._indexed_up_to = n.id
                if len(batch) < _PAGE:
                    break
            return list(self._ids.get(_CREATION_TOPICS[kind], []))
