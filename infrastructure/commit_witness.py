"""Appends whose commit could not be confirmed, settled by reading the log.

When the connection drops while a commit is under way, the database may have
stored the events or not. The eventsourcing library then inserts them again
(``insert_events`` retries on ``OperationalError``), and if the first commit had
gone through, that retry meets its own rows and fails as a conflict: the write
would be reported as "someone else changed this first; nothing was written"
while it was stored (issue 11, finding 3).

So an append that fails with a conflict or a lost connection is checked against
the log: the first record it tried to write, at its stream and version, with the
same stored bytes (sealed with a fresh nonce: no other write has them) means the
append is stored, and the write goes on as written. Other bytes there, or no
record at all, mean nothing was written, and the error stands. When the log
cannot be read either, the answer is ``OutcomeUnknown`` (503): never "nothing
was written".

Each append is also announced before it is made (``application.idempotency``),
and refused when it does not follow the version an ``If-Match`` expected
(``application.preconditions``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import (
    AggregateRecorder,
    EventStore,
    IntegrityError,
    InterfaceError,
    Notification,
    OperationalError,
    PersistenceError,
    Recording,
    StoredEvent,
)

from application.idempotency import Announced, OutcomeUnknown, appended, before_append
from application.preconditions import check_expected


def digest_of(record: StoredEvent) -> str:
    return hashlib.sha256(record.topic.encode() + b"\x00" + record.state).hexdigest()


def announced_of(record: StoredEvent) -> Announced:
    return Announced(UUID(str(record.originator_id)), record.originator_version, digest_of(record))


def is_stored(recorder: AggregateRecorder, announced: Announced) -> bool:
    """Whether the log holds ``announced`` with its bytes (raises when unreadable)."""
    found = recorder.select_events(
        announced.stream, gt=announced.version - 1, lte=announced.version
    )
    return any(digest_of(r) == announced.digest for r in found)


class WitnessedEventStore(EventStore[UUID]):
    """The library's event store, settling an unconfirmed append by reading the log."""

    def put(
        self, domain_events: Sequence[DomainEventProtocol[UUID]], **kwargs: Any
    ) -> list[Recording[UUID]]:
        first_versions: dict[UUID, int] = {}
        for event in domain_events:
            first_versions.setdefault(event.originator_id, event.originator_version)
        check_expected(first_versions)
        stored = [self.mapper.to_stored_event(e) for e in domain_events]
        if not stored:
            return []
        # One record is enough: the records of one append are stored all or none.
        witness = announced_of(stored[0])
        before_append([witness])
        try:
            ids = self.recorder.insert_events(stored, **kwargs)
        except (IntegrityError, OperationalError, InterfaceError):
            if not self._stored(witness):
                raise
            ids = None  # stored by an attempt whose commit was not confirmed
        appended()
        if not ids:
            return []
        return [
            Recording(
                d,
                Notification(
                    originator_id=s.originator_id,
                    originator_version=s.originator_version,
                    topic=s.topic,
                    state=s.state,
                    id=n,
                ),
            )
            for d, s, n in zip(domain_events, stored, ids, strict=True)
        ]

    def _stored(self, witness: Announced) -> bool:
        try:
            return is_stored(self.recorder, witness)
        except PersistenceError:
            raise OutcomeUnknown(
                "the database did not confirm this write and cannot be read now: it may "
                "have been stored; retry with the same Idempotency-Key"
            ) from None
