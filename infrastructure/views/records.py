"""Stored records opened for the views: the outer seal only, never the personal part.

A stored record (docs/ENCRYPTION.md) is sealed under the system key; inside, the
event's personal fields are sealed once more under the case key. A projection
needs the non-personal fields to place a row, and copies the personal part as it
is: plaintext never reaches a view, and an erased case's parts stay unreadable
there without the projection ever failing on them.

The layout constants repeat ``sealing_mapper``'s (they are the documented format);
see docs/VIEWS.md for the proposed shared module.
"""

from __future__ import annotations

from typing import Any, Final, NamedTuple, Protocol
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.utils import resolve_topic

from application.ports import UnknownKey
from application.view_ports import SealedPart
from domain.erased import ERASED
from infrastructure import event_codec
from infrastructure.crypto import sealing
from infrastructure.sealing_mapper import RECORD_FORMAT, RecordIntegrityError
from infrastructure.views.log import StoredRecord

RECORD_LAYER: Final = sealing.context("rete", "record")
PERSONAL_LAYER: Final = sealing.context("rete", "personal")
_NONCE_END: Final = sealing.HEADER_SIZE + sealing.NONCE_SIZE


_topics: dict[str, bytes] = {}
# A 4-byte big-endian length, for the lengths a place's parts have.
_LENGTHS: Final = tuple(n.to_bytes(4, "big") for n in range(256))


def _number(version: int) -> bytes:
    """A place's version part: ``i``, the length of its digits, its digits."""
    digits = str(version).encode()
    return b"i" + len(digits).to_bytes(4, "big") + digits


_NUMBERS: Final = tuple(_number(n) for n in range(1024))


def place(stream_id: UUID | str, version: int, topic: str) -> bytes:
    """The place of a record, as both seals bind it (after their layer): exactly
    ``sealing.context(str(stream_id), version, topic)``, built without its loop
    (a projection builds one per record; a topic's part is built once)."""
    stream = str(stream_id).encode()
    number = str(version).encode()
    tail = _topics.get(topic)
    if tail is None:
        tail = _topics[topic] = sealing.context(topic)
    return b"".join(
        (
            b"s",
            len(stream).to_bytes(4, "big"),
            stream,
            b"i",
            len(number).to_bytes(4, "big"),
            number,
            tail,
        )
    )


class OpenedRecord(NamedTuple):
    """One record of the log with its outer seal opened."""

    position: int
    stream: str  # the stream id, as text
    version: int
    topic: str
    state: dict[str, Any]  # the non-personal fields
    sealed: bytes | None  # the personal part, still sealed under the case key

    @property
    def stream_id(self) -> UUID:
        return UUID(self.stream)

    def sealed_part(self) -> SealedPart:
        if self.sealed is None:
            raise RecordIntegrityError(f"{self.describe()}: it has no personal part")
        return SealedPart(self.sealed, self.stream_id, self.version, self.topic)

    def describe(self) -> str:
        return _name(self.stream, self.version, self.topic)


_kinds: dict[str, tuple[type[Any], frozenset[str], int]] = {}


def _kind(topic: str) -> tuple[type[Any], frozenset[str], int]:
    """An event class, its personal fields and its version, looked up once per topic."""
    kind = _kinds.get(topic)
    if kind is None:
        cls = resolve_topic(topic)
        personal = frozenset(getattr(cls, "PERSONAL_FIELDS", ()))
        kind = _kinds[topic] = (cls, personal, getattr(cls, "class_version", 1))
    return kind


def event_class(topic: str) -> type[Any]:
    return _kind(topic)[0]


class OpeningKeys(Protocol):
    """What opening needs of the key store (``application.ports.KeyStore``)."""

    def opening_key(self, key_id: bytes) -> bytes | None: ...


class SystemKeys:
    """Outer seals are all under the system key, which is never destroyed: its keys
    are remembered here, for one batch of the log, without asking the key store."""

    def __init__(self, keys: OpeningKeys) -> None:
        self._keys = keys
        self._known: dict[bytes, bytes] = {}

    def opening_key(self, key_id: bytes) -> bytes | None:
        key = self._known.get(key_id)
        if key is None:
            key = self._keys.opening_key(key_id)
            if key is not None:
                self._known[key_id] = key
        return key


class BatchOpener:
    """Opens the outer seals of one batch of the log for the projections, exactly as
    ``open_record(keys, record, typed=False)`` does, for a third of the work.

    What every record of a batch shares is looked up once: the cipher of each system
    key (by the blob's header: format byte and key id) and each topic's class and
    place tail. A record whose header, key or topic is not known yet, or that does
    not open, goes through ``open_record``, which learns the key (through this
    object) or raises the error naming the record: both paths accept and refuse
    the same records."""

    def __init__(self, keys: OpeningKeys) -> None:
        self._keys = SystemKeys(keys)
        self._ciphers: dict[bytes, AESGCM] = {}  # by header
        self._topics: dict[str, tuple[bytes, bool, int]] = {}  # tail, has personal, version
        self._streams: dict[str, bytes] = {}  # a place's stream part, by stream id

    def opening_key(self, key_id: bytes) -> bytes | None:
        key = self._keys.opening_key(key_id)
        if key is not None and len(key) == sealing.KEY_SIZE:
            self._ciphers[bytes([sealing.FORMAT_VERSION]) + key_id] = AESGCM(key)
        return key

    def open(self, record: StoredRecord) -> OpenedRecord:
        position, stream, version, topic, state = record
        header = state[: sealing.HEADER_SIZE]
        cipher = self._ciphers.get(header)
        kind = self._topics.get(topic)
        if cipher is None or kind is None or len(state) < sealing.MIN_BLOB_SIZE:
            return self._learn(record)
        tail, personal, class_version = kind
        # The place's stream part is shared by every record of the stream in the
        # batch, and its version part by every record of that version.
        streamed = self._streams.get(stream)
        if streamed is None:
            stream_bytes = stream.encode()
            if len(stream_bytes) >= len(_LENGTHS):
                return self._learn(record)
            streamed = self._streams[stream] = b"s" + _LENGTHS[len(stream_bytes)] + stream_bytes
        numbered = _NUMBERS[version] if 0 <= version < len(_NUMBERS) else _number(version)
        aad = b"".join((header, RECORD_LAYER, streamed, numbered, tail))
        try:
            raw = cipher.decrypt(state[sealing.HEADER_SIZE : _NONCE_END], state[_NONCE_END:], aad)
            fmt, fields, sealed = event_codec.unpack(raw)
        except (InvalidTag, ValueError, TypeError):
            return self._learn(record)  # raises, naming the record
        if (
            fmt != RECORD_FORMAT
            or (sealed is None and personal)
            or fields.pop("class_version", 1) != class_version
        ):
            return self._learn(record)  # refuses it, or upcasts an older version
        return OpenedRecord(position, stream, version, topic, fields, sealed)

    def _learn(self, record: StoredRecord) -> OpenedRecord:
        opened = open_record(self, record, typed=False)
        if record.topic not in self._topics:
            _, personal, class_version = _kind(record.topic)
            self._topics[record.topic] = (
                sealing.context(record.topic),
                bool(personal),
                class_version,
            )
        return opened


def open_outer(
    keys: OpeningKeys, stream: str, version: int, topic: str, state: bytes, *, typed: bool = True
) -> tuple[dict[str, Any], bytes | None]:
    """Open a stored record's outer seal with the system key, and nothing more: its
    non-personal fields (upcast first) typed as the mapper types them, and its
    personal part still sealed under the case key (None when it has none).

    ``typed=False`` leaves the fields as unpacked (moments as datetimes, ids as
    text), which is all a projection needs, for less work. Raises
    ``RecordIntegrityError`` (naming the record, never its content) when it does
    not open."""
    cls, personal, class_version = _kind(topic)
    try:
        key = keys.opening_key(sealing.key_id_of(state))
        if key is None:
            raise RecordIntegrityError(
                f"{_name(stream, version, topic)}: sealed under a destroyed system key"
            )
        raw = sealing.open_(key, state, RECORD_LAYER + place(stream, version, topic))
        fmt, fields, sealed = event_codec.unpack(raw)
    except (sealing.IntegrityError, UnknownKey, ValueError, TypeError) as e:
        if isinstance(e, RecordIntegrityError):
            raise
        raise RecordIntegrityError(f"{_name(stream, version, topic)}: {e}") from None
    if fmt != RECORD_FORMAT:
        raise RecordIntegrityError(f"{_name(stream, version, topic)}: unknown format {fmt}")
    if sealed is None and personal:
        raise RecordIntegrityError(f"{_name(stream, version, topic)}: no personal part")
    if "class_version" in fields or class_version > 1:
        fields = _upcast(cls, fields, personal)
    if typed:
        fields = event_codec.typed(cls, fields, fields.keys())
    return fields, sealed


def open_record(keys: OpeningKeys, record: StoredRecord, *, typed: bool = True) -> OpenedRecord:
    """``open_outer`` on one record of the log."""
    position, stream, version, topic, state = record
    fields, sealed = open_outer(keys, stream, version, topic, state, typed=typed)
    return OpenedRecord(position, stream, version, topic, fields, sealed)


def _name(stream: str, version: int, topic: str) -> str:
    """Names a record in an error message; only built when something failed."""
    return f"stored event {topic} v{version} of stream {stream}"


def _upcast(cls: type[Any], state: dict[str, Any], personal: frozenset[str]) -> dict[str, Any]:
    class_version = getattr(cls, "class_version", 1)
    from_version = state.pop("class_version", 1)
    if from_version >= class_version:
        return state
    # Upcasters see the personal fields as the mapper shows an erased record's:
    # present, as the ERASED marker. They are dropped again below.
    state.update(dict.fromkeys(personal, ERASED))
    while from_version < class_version:
        getattr(cls, f"upcast_v{from_version}_v{from_version + 1}")(state)
        from_version += 1
    return {name: value for name, value in state.items() if value is not ERASED}
