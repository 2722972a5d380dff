"""Opening a view's sealed part at read time: the ``PersonalParts`` port.

The part is the inner blob of a stored record, bound to ("rete", "personal",
stream id, version, topic). It opens with the case key while the case exists;
after erasure the key store answers ``None`` and the part reads as ``ERASED``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from application.ports import KeyStore, UnknownKey
from application.view_ports import SealedPart
from domain.erased import ERASED, Erased
from infrastructure import event_codec
from infrastructure.crypto import sealing
from infrastructure.sealing_mapper import RecordIntegrityError
from infrastructure.views.records import PERSONAL_LAYER, event_class, place


class SealedPartOpener:
    """Implements ``application.view_ports.PersonalParts``."""

    def __init__(self, keys: KeyStore) -> None:
        self._keys = keys

    def prefetch(self, blobs: Iterable[bytes]) -> None:
        """Have the key store read the keys of these parts at once, where it can
        (``SqlKeyStore.prefetch_opening``): a rebuild opens parts under thousands of
        case keys, otherwise read one by one."""
        self._keys.prefetch_opening(
            blob[1 : sealing.HEADER_SIZE]
            for blob in blobs
            if len(blob) >= sealing.HEADER_SIZE and blob[0] == sealing.FORMAT_VERSION
        )

    def open(self, part: SealedPart) -> Mapping[str, Any] | Erased:
        blob = part.blob
        if len(blob) >= sealing.MIN_BLOB_SIZE and blob[0] == sealing.FORMAT_VERSION:
            # The usual case, without naming the part (its name is only for errors,
            # and building it costs as much as the rest): a failure is opened again
            # below, which raises naming it.
            try:
                key = self._keys.opening_key(blob[1 : sealing.HEADER_SIZE])
                if key is None:
                    return ERASED
                context = PERSONAL_LAYER + place(part.stream_id, part.version, part.topic)
                raw = event_codec.unpack(sealing.open_(key, blob, context))
            except (sealing.IntegrityError, UnknownKey, ValueError):
                pass
            else:
                if isinstance(raw, dict):
                    return event_codec.typed(event_class(part.topic), raw, raw.keys())
        return self._open_named(part)

    def _open_named(self, part: SealedPart) -> Mapping[str, Any] | Erased:
        name = f"personal part of {part.topic} v{part.version} of stream {part.stream_id}"
        try:
            key = self._keys.opening_key(sealing.key_id_of(part.blob, record=name))
            if key is None:
                return ERASED
            context = PERSONAL_LAYER + place(part.stream_id, part.version, part.topic)
            raw = event_codec.unpack(sealing.open_(key, part.blob, context, record=name))
        except (sealing.IntegrityError, UnknownKey, ValueError) as e:
            raise RecordIntegrityError(f"{name}: {e}") from None
        if not isinstance(raw, dict):
            raise RecordIntegrityError(f"{name}: not a map of fields")
        return event_codec.typed(event_class(part.topic), raw, raw.keys())
