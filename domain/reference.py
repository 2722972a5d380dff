"""Reference codes: ``CB-2026-0042``, one sequence per network and year, no personal data."""

from __future__ import annotations

from datetime import datetime
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from domain.events import NetworkEvent, SystemEvent

SEQUENCE_NAMESPACE = uuid5(NAMESPACE_URL, "urn:rete:reference-sequence")


class ReferenceSequence(Aggregate):
    """Hands out the next number of a year. Saved with the case it numbers, so
    two cases opened at once conflict on it instead of sharing a number."""

    # Numbering is the network's own bookkeeping: the case it numbers says who opened it.

    class Event(NetworkEvent):
        aggregate = "reference_sequence"

    class Started(SystemEvent, Aggregate.Created):
        prefix: str

    class Issued(SystemEvent):
        number: int

        def apply(self, sequence: ReferenceSequence) -> None:
            sequence.last = self.number

    @staticmethod
    def create_id(prefix: str) -> UUID:
        return sequence_id_for(prefix)

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.last = 0

    # Both take the application's clock, as every other event does: the log's times
    # are the network's, and a replay "as of" a moment places the numbering right.

    @classmethod
    def start(cls, prefix: str, at: datetime) -> ReferenceSequence:
        return cls._create(cls.Started, timestamp=at, prefix=prefix)

    def issue(self, at: datetime) -> str:
        self.trigger_event(self.Issued, timestamp=at, number=self.last + 1)
        return f"{self.prefix}-{self.last:04d}"


def sequence_id_for(prefix: str) -> UUID:
    return uuid5(SEQUENCE_NAMESPACE, prefix)
