"""From stored records to leaves, and the event log opened without its keys.

A record's leaf is ``merkle.encode_leaf(position, stream id, version, topic,
SHA-256(stored bytes))``: the stored bytes are the ciphertext exactly as the
events table holds it, so the ledger never needs (nor gets) a decryption key.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import ApplicationRecorder, InfrastructureFactory
from eventsourcing.utils import Environment

from infrastructure.db import build_on, events_table_name, open_from_settings
from infrastructure.ledger import merkle
from infrastructure.ledger.db import RawRecord, RecordRow
from infrastructure.ledger.merkle import encode_leaf, leaf_hash
from infrastructure.settings import Settings
from infrastructure.store import ReteEventStore


def leaf_data(position: int, stream_id: UUID, version: int, topic: str, state: bytes) -> bytes:
    """The leaf of one stored record (layout ``rete-leaf-v1``, see ``merkle``)."""
    return encode_leaf(position, stream_id, version, topic, hashlib.sha256(state).digest())


UNENCODABLE = b""
"""The "hash" of a record that cannot be a leaf (only tampering makes one): it
equals no leaf hash, so verification reports the record's index."""

_Packer = Callable[..., bytes]


class LeafHasher:
    """Leaf hashes of records, many at a time, for verification.

    Verification hashes every record of the log, so the cost per record matters:
    ``hashes`` packs ``0x00 || leaf`` in one call of a struct made per topic
    (``merkle.leaf_hash_input``), keeping the parsed stream ids and the topics'
    structs (they repeat across a stream's events), and falls back to
    ``merkle.encode_leaf``, record by record, whenever anything is out of the
    ordinary. A test holds the two to the same bytes.
    """

    _CACHE_LIMIT = 1 << 16

    def __init__(self) -> None:
        self._ids: dict[Any, bytes] = {}
        self._topics: dict[str, tuple[_Packer, int, bytes]] = {}

    @staticmethod
    def stream_id(value: Any) -> UUID:
        # SQLite keeps the id as 32 hex digits; PostgreSQL and exports as a UUID.
        return value if isinstance(value, UUID) else UUID(hex=str(value))

    def leaf(self, record: RawRecord) -> bytes:
        return leaf_data(
            record.position,
            self.stream_id(record.stream_id),
            record.version,
            record.topic,
            record.state,
        )

    def hashes(self, records: Sequence[RecordRow]) -> list[bytes]:
        try:
            return self._fast(records)
        except (ValueError, TypeError, struct.error, AttributeError):
            return [self._checked(RawRecord._make(record)) for record in records]

    def _fast(self, records: Sequence[RecordRow]) -> list[bytes]:
        ids, topics = self._ids, self._topics
        if len(ids) > self._CACHE_LIMIT or len(topics) > self._CACHE_LIMIT:
            ids.clear()
            topics.clear()
        zero, tag, sha = b"\x00", merkle.LEAF_TAG, hashlib.sha256
        out: list[bytes] = []
        append = out.append
        # The loop body is the verifier's hot path: locals only, one pack, two hashes.
        for position, stream, version, topic, state in records:
            sid = ids.get(stream)
            if sid is None:
                sid = ids[stream] = self.stream_id(stream).bytes
            known = topics.get(topic)
            if known is None:
                known = topics[topic] = _topic_packer(topic)
            pack, length, name = known
            data = pack(zero, tag, position, sid, version, length, name, sha(state).digest())
            append(sha(data).digest())
        return out

    def _checked(self, record: RawRecord) -> bytes:
        try:
            return leaf_hash(self.leaf(record))
        except (ValueError, TypeError, AttributeError):
            return UNENCODABLE


def _topic_packer(topic: str) -> tuple[_Packer, int, bytes]:
    encoded = topic.encode("utf-8")
    if not 1 <= len(encoded) <= 0xFFFF:
        raise ValueError("a topic is 1 to 65535 bytes of UTF-8")
    return merkle.leaf_hash_input(len(encoded)).pack, len(encoded), encoded


class _EventLog(Application[UUID]):
    """The event store's tables under the event store's own name (so the same
    tables on PostgreSQL), without its mapper's keys: reading stored records needs
    no key, and the ledger commands must work where no KEK is configured."""

    name = ReteEventStore.name

    def __init__(self, settings: Settings) -> None:
        self.database = open_from_settings(settings)
        super().__init__(settings.eventsourcing_env())

    def construct_factory(self, env: Environment) -> InfrastructureFactory:
        # Built on the process's one pool, which the ledger's tables share.
        return build_on(super().construct_factory(env), self.database)


def open_event_log(settings: Settings) -> Application[UUID]:
    return _EventLog(settings)


def events_table(recorder: ApplicationRecorder) -> str:
    """The table the recorder stores events in (``infrastructure.db.events_table_name``)."""
    return events_table_name(recorder)
