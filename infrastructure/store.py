"""The event store: the eventsourcing library's application on SQLite or PostgreSQL,
every record sealed by the ``SealingMapper``, its recorder built on the process's
one pool (``infrastructure.db``), the key store's.

A tampered log is an integrity failure here, never an internal error: a stored
record that does not open or decode, or a stream whose versions do not follow
one another, raises the ``integrity`` watch's alarm and ``IntegrityFailure``.
While an alarm about the log stands nothing is written. And a write that would
store a version the ledger already hashed, whose record is gone, is refused: its
event would take the place of the deleted one (docs/AUDIT.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from threading import Lock
from typing import Any, ClassVar, Protocol, TypeVar
from uuid import UUID

from eventsourcing.application import (
    AggregateNotFoundError,
    Application,
    ProcessingEvent,
    Repository,
)
from eventsourcing.domain import Aggregate, OriginatorVersionError
from eventsourcing.persistence import (
    EventStore,
    InfrastructureFactory,
    IntegrityError,
    JSONTranscoder,
    Mapper,
    Recording,
)
from eventsourcing.postgres import PostgresFactory
from eventsourcing.sqlite import SQLiteFactory
from eventsourcing.utils import Environment, TopicError, get_topic

from application.errors import Conflict, NotFound
from application.integrity import IntegrityAlarm, IntegrityFailure, IntegrityWatch
from application.ports import KeyDestroyed, KeyStore, Logged
from domain.access import AccessRecord
from domain.case import Case
from domain.errors import CaseErased
from domain.reference import ReferenceSequence
from domain.referral import Referral
from infrastructure.commit_witness import WitnessedEventStore
from infrastructure.crypto.keystore import SqlKeyStore
from infrastructure.db import build_on
from infrastructure.db.event_recorder import (
    AppendGuard,
    GuardedSqliteRecorder,
    GuardRefused,
    OneTripRecorder,
)
from infrastructure.db.storage_full import StorageFullSeen, storage_full_from
from infrastructure.sealing_mapper import RecordIntegrityError, SealingMapper, SnapshotErased
from infrastructure.transcoding import register_domain_values

A = TypeVar("A", bound=Aggregate)

_CREATION_TOPICS: dict[type[Aggregate], str] = {
    Case: get_topic(Case.Opened),
    Referral: get_topic(Referral.Sent),
    AccessRecord: get_topic(AccessRecord.Recorded),
}

# How many notifications the id index reads per round trip.
_PAGE = 1000

# What loading a stored record that was tampered with raises: a seal that does not
# open (or a record that does not decode, ``RecordIntegrityError``), a topic that
# names no event class, or a version missing from a stream's sequence.
_TAMPERED = (RecordIntegrityError, TopicError, OriginatorVersionError)


def _project(aggregate: Aggregate | None, events: Iterable[Any]) -> Aggregate | None:
    """eventsourcing's ``project_aggregate`` without its ``assert isinstance(event,
    CanMutateProtocol)``: a check against a runtime-checkable protocol walks the
    protocol's attributes on every event of every load (a third of a replay's time).
    Every event this store loads is one of our aggregates' events, with its ``mutate``."""
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate


class HashedVersions(Protocol):
    """The highest version the ledger hashed of each stream (32 hex digits each)."""

    def __call__(self, streams: list[str]) -> Mapping[str, int]: ...

    def table(self) -> str:
        """Where they are kept (qualified): an append may check them itself."""
        ...


class ClosingKeyStore(KeyStore, Protocol):
    """A key store that is not in the database (the tests' in-memory one)."""

    def close(self) -> None: ...


class ReteEventStore(Application[UUID]):
    """Implements the application's ``EventStore`` port."""

    name = "Rete"
    snapshotting_intervals: ClassVar[dict[type[Any], int]] = {Case: 50, Referral: 50}

    def __init__(
        self,
        env: Mapping[str, str],
        keys: SqlKeyStore | ClosingKeyStore,
        snapshot_interval: int = 50,
    ) -> None:
        self.keys = keys  # before the library constructs the mapper, which needs them
        super().__init__(env)
        # The library reads the intervals through the instance, so one set per
        # instance lets the interval come from settings.
        self.snapshotting_intervals = {  # type: ignore[misc]
            Case: snapshot_interval,
            Referral: snapshot_interval,
            # Read and replayed at every opening of a case: keep its replay short.
            ReferenceSequence: min(snapshot_interval, 10),
        }
        self._events_only: Repository[UUID] = Repository(event_store=self.events)
        # The application's watch, and what the ledger hashed: set by the
        # composition root (``bootstrap.build_rete``).
        self.integrity = IntegrityWatch()
        self.hashed_versions: HashedVersions | None = None
        # Told the position of the last record of each append committed here
        # (``on_append``): the views' runner of this process (``ViewRunner.appended``).
        self._append_listeners: list[Callable[[int], None]] = []
        self._ids: dict[str, list[UUID]] = {}
        self._indexed_up_to = 0
        self._index_lock = Lock()

    def construct_factory(self, env: Environment) -> InfrastructureFactory:
        # The recorder is built on the key store's pool: one pool for the process. A
        # key store kept in memory (over the library's in-memory recorder) has none.
        factory = super().construct_factory(env)
        if isinstance(factory, PostgresFactory | SQLiteFactory):
            # Appends that check their guard themselves (``AppendGuard``), on
            # PostgreSQL in one round trip each (``OneTripRecorder``). Under the
            # application's own name, which wins over a plain key from the shell.
            key = factory.env.create_keys(factory.APPLICATION_RECORDER_TOPIC)[0]
            postgres = isinstance(factory, PostgresFactory)
            factory.env[key] = get_topic(OneTripRecorder if postgres else GuardedSqliteRecorder)
        if isinstance(self.keys, SqlKeyStore):
            return build_on(factory, self.keys.database)
        return factory

    def construct_event_store(self) -> EventStore[UUID]:
        # An append whose commit was not confirmed is settled by reading the log
        # (``commit_witness``), never reported as "nothing was written".
        return WitnessedEventStore(mapper=self.mapper, recorder=self.recorder)

    def close(self) -> None:
        super().close()
        self.keys.close()

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        register_domain_values(transcoder)

    def construct_mapper(self) -> Mapper[UUID]:
        transcoder = self.construct_transcoder()
        assert isinstance(transcoder, JSONTranscoder)
        return SealingMapper(self.keys, transcoder)

    # -- the port -----------------------------------------------------------

    def get(self, kind: type[A], aggregate_id: UUID, version: int | None = None) -> A:
        try:
            try:
                aggregate: Aggregate = self.repository.get(
                    aggregate_id, version=version, projector_func=_project
                )
            except SnapshotErased:
                # The case was erased after this snapshot was taken: its events,
                # with their personal fields read as erased, are the truth.
                aggregate = self._events_only.get(
                    aggregate_id, version=version, projector_func=_project
                )
        except AggregateNotFoundError:
            raise NotFound(f"no {kind.__name__.lower()} with that id") from None
        except _TAMPERED as e:
            gap = isinstance(e, OriginatorVersionError)  # a version missing in the stream
            raise self._tampered(
                e,
                "log-record-vanished" if gap else "log-record-altered",
                f"stream {aggregate_id}: a stored record failed to load ({type(e).__name__})",
            ) from None
        if not isinstance(aggregate, kind):
            raise NotFound(f"no {kind.__name__.lower()} with that id")
        return aggregate

    def save(self, *aggregates: Aggregate, **kwargs: Any) -> Any:  # type: ignore[override]
        self.integrity.require_trusted_log()
        # Read now: saving collects the pending events, failed or not.
        first = self._first_versions(aggregates)
        guard = self._guard(first)
        if guard is None:
            self._refuse_reused_versions(first)
        else:
            kwargs["guard"] = guard
        try:
            saved = self._save(aggregates, kwargs)
        except KeyDestroyed:
            raise CaseErased("the case was erased meanwhile; nothing was written") from None
        except GuardRefused:
            # Nothing was written: a version the ledger hashed is gone (the alarm),
            # or else a key the records were sealed with was destroyed meanwhile.
            self._refuse_reused_versions(first)
            raise CaseErased("the case was erased meanwhile; nothing was written") from None
        except IntegrityError:
            raise Conflict(
                "someone else changed this first; nothing was written, reload and retry"
            ) from None
        except Exception as e:
            # A full disk is the application's ``StorageFull``, not a driver's error.
            full = storage_full_from(e)
            if full is None:
                raise
            self._storage_full_seen(saw=True)
            if full is e:
                raise
            raise full from e
        self._storage_full_seen(saw=False)
        if saved and self._append_listeners:
            last = max(r.notification.id for r in saved)
            for listener in self._append_listeners:
                listener(last)
        return saved

    def _save(
        self, aggregates: Sequence[Aggregate], kwargs: dict[str, Any]
    ) -> list[Recording[UUID]]:
        """eventsourcing's ``Application.save``, for aggregates only: without its two
        checks of each object against runtime-checkable protocols (is it an event?
        can it collect events?), each of which walks every attribute of the protocol
        (measured: about 3 % of a story's CPU on SQLite)."""
        processing_event: ProcessingEvent[UUID] = ProcessingEvent()
        for aggregate in aggregates:
            processing_event.events.extend(aggregate.collect_events())
            processing_event.aggregates[aggregate.id] = aggregate
        processing_event.saved_kwargs.update(kwargs)
        recordings = self._record(processing_event)
        self._take_snapshots(processing_event)
        self._notify(recordings)
        return recordings

    def _guard(self, first: Mapping[UUID, int]) -> AppendGuard | None:
        """The checks before a write, made by the append itself in its own
        transaction (``OneTripRecorder``, ``GuardedSqliteRecorder``): the ledger's
        hashed versions, and the case keys its records are sealed with
        (``SqlKeyStore.checked_by``). None for a store in memory: it reads them
        first (``_refuse_reused_versions``, and the key store before each seal)."""
        guarding = isinstance(self.recorder, OneTripRecorder | GuardedSqliteRecorder)
        if not guarding or not isinstance(self.keys, SqlKeyStore):
            return None
        guard = AppendGuard(self.keys.data_keys_table)
        if self.hashed_versions is not None:
            guard.ledger_streams = self.hashed_versions.table()
            guard.first_versions = {i.hex: version for i, version in first.items()}
        return guard

    def _record(self, processing_event: ProcessingEvent[UUID]) -> list[Recording[UUID]]:
        # The records of a guarded append are sealed with case keys it checks itself.
        guard = processing_event.saved_kwargs.get("guard")
        if not isinstance(guard, AppendGuard) or not isinstance(self.keys, SqlKeyStore):
            return super()._record(processing_event)
        with self.keys.checked_by(guard.key_ids):
            return super()._record(processing_event)

    def on_append(self, listener: Callable[[int], None]) -> None:
        """Call ``listener`` with the position of the last record of each append
        this store commits, once committed."""
        self._append_listeners.append(listener)

    @property
    def storage_full(self) -> StorageFullSeen | None:
        """When the database this store writes to (none in memory) last found its
        storage full: readiness reads it."""
        seen = getattr(getattr(self.keys, "database", None), "storage_full", None)
        return seen if isinstance(seen, StorageFullSeen) else None

    def _storage_full_seen(self, *, saw: bool) -> None:
        seen = self.storage_full
        if seen is None:
            return
        if saw:
            seen.saw()
        else:
            seen.cleared()

    @staticmethod
    def _first_versions(aggregates: Sequence[Aggregate]) -> dict[UUID, int]:
        """The first version each aggregate is to append."""
        return {
            UUID(str(a.id)): a.pending_events[0].originator_version
            for a in aggregates
            if a.pending_events
        }

    def _refuse_reused_versions(self, first: Mapping[UUID, int]) -> None:
        """Refuse to store a version the ledger hashed already, whose record is gone.

        The ledger's versions lag the log (it follows it), so they only bound it from
        below: a first pending version at or under the hashed one is either a
        concurrent writer's (its record is there: the insert conflicts as usual) or
        one whose record was deleted (refused here). One primary-key read a save."""
        if self.hashed_versions is None or not first:
            return
        hashed = self.hashed_versions([i.hex for i in first])
        for aggregate_id, version in first.items():
            known = hashed.get(aggregate_id.hex, 0)
            if version <= known and not self.recorder.select_events(
                aggregate_id, gt=known - 1, lte=known, limit=1
            ):
                raise self._alarm(
                    "log-record-vanished",
                    f"stream {aggregate_id}: version {known}, hashed by the ledger, is gone "
                    f"from the log; version {version} would take its place",
                )

    def _tampered(self, error: Exception, kind: str, detail: str) -> IntegrityFailure:
        """The alarm raised, and what to raise: the record's own error when it is one
        (it names the record, and is an ``IntegrityFailure``), else an
        ``IntegrityFailure``."""
        failure = self._alarm(kind, detail)
        return error if isinstance(error, RecordIntegrityError) else failure

    def _alarm(self, kind: str, detail: str) -> IntegrityFailure:
        self.integrity.raise_alarm(IntegrityAlarm(kind, detail, datetime.now(UTC)))
        return IntegrityFailure(
            "a stored record of this case failed its integrity check; nothing was served or written"
        )

    def history_of(self, aggregate_id: UUID) -> Sequence[Aggregate.Event]:
        try:
            return [e for e in self.events.get(aggregate_id) if isinstance(e, Aggregate.Event)]
        except _TAMPERED as e:
            raise self._tampered(
                e,
                "log-record-altered",
                f"stream {aggregate_id}: a stored record failed to load ({type(e).__name__})",
            ) from None

    def logged(self, after: int, limit: int) -> Sequence[Logged]:
        notifications = self.recorder.select_notifications(start=after + 1, limit=limit)
        decoded = []
        for n in notifications:
            try:
                decoded.append((n.id, self.mapper.to_domain_event(n)))
            except _TAMPERED as e:
                raise self._tampered(
                    e,
                    "log-record-altered",
                    f"the record at position {n.id} failed to load ({type(e).__name__})",
                ) from None
        return [Logged(at, e) for at, e in decoded if isinstance(e, Aggregate.Event)]

    def ids_of(self, kind: type[Aggregate]) -> Sequence[UUID]:
        """Ids of a kind of aggregate, from their creation events in the log (the
        creation topics are stored in clear). Kept in memory; each call reads only
        the notifications it has not read before."""
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
