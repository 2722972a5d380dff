"""Opening a view's sealed part at read time: the ``PersonalParts`` port.

The part is the inner blob of a stored record, bound to ("rete", "personal",
stream id, version, topic). It opens with the case key while the case exists;
after erasure the key store answers ``None`` and the part reads as ``ERASED``.
"""

from __future__ import annotations

from collections.abc import Mapping
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

    def open(self, part: SealedPart) -> Mapping[str, Any] | Erased:
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
