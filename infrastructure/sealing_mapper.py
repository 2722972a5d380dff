"""The encrypting mapper: how every domain event becomes a sealed stored record.

Each stored record (``StoredEvent.state``) is one blob sealed under the system
key. Inside it, the fields of the event that are hers are sealed once more,
under the key of the case they belong to: her data (``PERSONAL_FIELDS``) and
what is derived from it (``DERIVED_FIELDS``), ``domain.events.withheld_fields``.
Both seals bind the blob to its place (stream id, version, event type, layer)
through the associated data, so bytes copied onto another row, stream or version
do not open. The byte layout is in docs/ENCRYPTION.md.

Erasure destroys the case key: the outer seal still opens, the inner one no
longer can, and every personal or derived field reads as ``ERASED``; so does a
derived field that a record stored before its class sealed it still holds in
its outer part, which the system key's holder can read there (docs/ENCRYPTION.md,
"Derived fields in records stored before they were sealed"). A snapshot of an
erased case cannot be read at all (its whole state is personal): it raises
``SnapshotErased`` so that the store replays the events instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final
from uuid import UUID

from eventsourcing.domain import Snapshot
from eventsourcing.persistence import JSONTranscoder, Mapper, StoredEvent
from eventsourcing.utils import get_topic, resolve_topic

from application.integrity import IntegrityFailure
from application.ports import SYSTEM_SCOPE, KeyStore, UnknownKey, case_scope
from domain.case import Case
from domain.erased import ERASED
from domain.events import withheld_fields
from domain.referral import Referral
from infrastructure import event_codec
from infrastructure.crypto import sealing

RECORD_FORMAT: Final = 1

# Aggregates whose events (and snapshots) hold personal data, and how to find
# the case each event belongs to: its own id, or the case id it carries.
_CASE_TOPICS: Final = {get_topic(Case): "self", get_topic(Referral): "case_id"}


class SnapshotErased(Exception):
    """A snapshot of an erased case: read the events instead."""


class RecordIntegrityError(sealing.IntegrityError, IntegrityFailure):
    """A stored record failed to open: altered, moved, truncated or foreign.

    Also the application's ``IntegrityFailure``: a command or read that meets one
    answers the documented ``integrity-failure`` problem, not an internal error. Its
    message names the record (stream, version, event type: for the log and the
    operator); its ``detail``, which a client sees, names nothing."""

    def __init__(self, message: str) -> None:
        Exception.__init__(self, message)
        self.detail = "a stored record failed its integrity check; nothing was served or written"


def _aggregate_topic(event_topic: str) -> str:
    # "domain.case:Case.NoteAdded" -> "domain.case:Case"
    module, _, qualname = event_topic.partition(":")
    return f"{module}:{qualname.split('.')[0]}"


# The associated data of each layer is context("rete", layer, stream id, version,
# topic); a context of parts is the concatenation of each part's context, so the
# place is encoded once per record and each layer prefixes it.
_RECORD_LAYER: Final = sealing.context("rete", "record")
_PERSONAL_LAYER: Final = sealing.context("rete", "personal")


def _place(oid: object, version: int, topic: str) -> bytes:
    return sealing.context(str(oid), version, topic)


class _Description:
    """Names a record in an error message; only formatted when something failed."""

    __slots__ = ("oid", "topic", "version")

    def __init__(self, oid: object, version: int, topic: str) -> None:
        self.oid, self.version, self.topic = oid, version, topic

    @property
    def text(self) -> str:
        return f"stored event {self.topic} v{self.version} of stream {self.oid}"

    def __str__(self) -> str:
        return self.text


class SealingMapper(Mapper[UUID]):
    def __init__(self, keys: KeyStore, snapshot_transcoder: JSONTranscoder) -> None:
        super().__init__(transcoder=snapshot_transcoder)
        self.keys = keys

    # -- writing -------------------------------------------------------------

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        cls = type(domain_event)
        topic = get_topic(cls)
        state = dict(vars(domain_event))
        oid = state.pop("originator_id")
        version = state.pop("originator_version")
        class_version = getattr(cls, "class_version", 1)
        if class_version > 1:
            state["class_version"] = class_version

        if isinstance(domain_event, Snapshot):
            personal_names = {"state"} if state["topic"] in _CASE_TOPICS else set()
            case_id = self._case_of(state["topic"], oid, state["state"])
            # Aggregate state holds domain value objects: the tagged transcoder keeps them.
            state["state"] = self.transcoder.encode(state["state"])
        else:
            personal_names = set(withheld_fields(cls))
            case_id = self._case_of(_aggregate_topic(topic), oid, state)

        personal = {name: state.pop(name) for name in personal_names if name in state}
        place = _place(oid, version, topic)
        sealed_personal = None
        if personal:
            if case_id is None:
                # Refuse loudly rather than store personal data under the system key only.
                raise TypeError(f"{topic} has personal fields but belongs to no case")
            key_id, key = self.keys.sealing_key(case_scope(case_id))
            sealed_personal = sealing.seal(
                key_id, key, event_codec.pack(personal), _PERSONAL_LAYER + place
            )
        record = event_codec.pack([RECORD_FORMAT, state, sealed_personal])
        key_id, key = self.keys.sealing_key(SYSTEM_SCOPE)
        blob = sealing.seal(key_id, key, record, _RECORD_LAYER + place)
        return StoredEvent(originator_id=oid, originator_version=version, topic=topic, state=blob)

    @staticmethod
    def _case_of(aggregate_topic: str, oid: UUID, state: Mapping[str, Any]) -> UUID | None:
        how = _CASE_TOPICS.get(aggregate_topic)
        if how is None:
            return None
        return oid if how == "self" else UUID(str(state["case_id"]))

    # -- reading -------------------------------------------------------------

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        cls = resolve_topic(stored_event.topic)
        where = (stored_event.originator_id, stored_event.originator_version, stored_event.topic)
        describe = _Description(*where)
        place = _place(*where)
        record = self._open(stored_event.state, _RECORD_LAYER + place, describe)
        if record is None:
            raise RecordIntegrityError(f"{describe}: sealed under a destroyed system key")
        try:
            fmt, state, sealed_personal = event_codec.unpack(record)
        except (ValueError, TypeError) as e:
            raise RecordIntegrityError(f"{describe}: unreadable record ({e})") from None
        if fmt != RECORD_FORMAT:
            raise RecordIntegrityError(f"{describe}: unknown record format {fmt}")

        erased_names: set[str] = set()
        if sealed_personal is None and withheld_fields(cls):
            # Someone holding only the system key could drop the personal part.
            raise RecordIntegrityError(f"{describe}: its personal part is missing")
        if sealed_personal is not None:
            personal = self._open(sealed_personal, _PERSONAL_LAYER + place, describe)
            if personal is None:
                snapshot = issubclass(cls, Snapshot)
                erased_names = {"state"} if snapshot else set(withheld_fields(cls))
            else:
                state.update(event_codec.unpack(personal))

        if issubclass(cls, Snapshot):
            if erased_names:
                raise SnapshotErased(str(describe))
            state["state"] = self.transcoder.decode(state["state"])

        # Upcasters see an erased personal field as the ERASED marker, never a missing key.
        state.update(dict.fromkeys(erased_names, ERASED))
        class_version = getattr(cls, "class_version", 1)
        from_version = state.pop("class_version", 1)
        while from_version < class_version:
            getattr(cls, f"upcast_v{from_version}_v{from_version + 1}")(state)
            from_version += 1

        if not issubclass(cls, Snapshot):
            erased_now = {name for name, value in state.items() if value is ERASED}
            kept = {name: value for name, value in state.items() if name not in erased_now}
            state = event_codec.typed(cls, kept, kept.keys())
            state.update(dict.fromkeys(erased_now & event_codec.declared_fields(cls), ERASED))
        oid = stored_event.originator_id
        state["originator_id"] = oid if isinstance(oid, UUID) else UUID(str(oid))
        state["originator_version"] = stored_event.originator_version
        event = object.__new__(cls)
        object.__setattr__(event, "__dict__", state)
        return event

    def _open(self, blob: bytes, context: bytes, describe: _Description) -> bytes | None:
        """Open a sealed blob; ``None`` when its key was destroyed (erasure)."""
        try:
            key_id = sealing.key_id_of(blob, record="sealed part")
            key = self.keys.opening_key(key_id)
        except (sealing.IntegrityError, UnknownKey, ValueError) as e:
            # too short, an unknown format byte, or a key id never issued
            raise RecordIntegrityError(f"{describe}: {e}") from None
        if key is None:
            return None
        try:
            return sealing.open_(key, blob, context, record="sealed part")
        except sealing.IntegrityError as e:
            raise RecordIntegrityError(f"{describe}: {e}") from None
