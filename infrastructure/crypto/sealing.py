"""The sealing primitive: AES-256-GCM with a versioned header and bound associated data.

A sealed blob is ``header || nonce || ciphertext || tag``::

    offset  size  field
    0       1     format version, 0x01
    1       16    key id of the data key that sealed it
    17      12    nonce, fresh from os.urandom for every seal
    29      n     ciphertext (as long as the plaintext)
    29+n    16    GCM tag

The associated data is ``header || context``: the header (so the version byte
and key id cannot be swapped) followed by the caller's ``context()`` encoding of
where the record lives (stream id, version, event type, field). The context is
never stored; the reader rebuilds it from the record's place, so a blob copied
to any other place fails to open.
"""

from __future__ import annotations

import os
import threading
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

FORMAT_VERSION: Final = 0x01
KEY_SIZE: Final = 32  # AES-256
KEY_ID_SIZE: Final = 16
NONCE_SIZE: Final = 12  # 96 bits, the only size we accept
TAG_SIZE: Final = 16  # 128 bits, the only size we accept
HEADER_SIZE: Final = 1 + KEY_ID_SIZE
MIN_BLOB_SIZE: Final = HEADER_SIZE + NONCE_SIZE + TAG_SIZE  # an empty plaintext

_VERSION_BYTE: Final = bytes([FORMAT_VERSION])
_NONCE_END: Final = HEADER_SIZE + NONCE_SIZE

# One tag byte per context part tells a str from an int from bytes, so that
# context("1") and context(1) differ; a 4-byte big-endian length follows.
_TAG_STR: Final = b"s"
_TAG_INT: Final = b"i"
_TAG_BYTES: Final = b"b"


class IntegrityError(Exception):
    """A sealed blob could not be opened: altered, truncated, moved to another
    record, sealed under another key, or of an unknown format. The message names
    the record, never its content."""


# -- associated data ---------------------------------------------------------


def context(*parts: str | int | bytes) -> bytes:
    """An unambiguous encoding of a record's place, for the associated data.

    Every part is ``type tag (1 byte) || length (4 bytes, big-endian) || bytes``:
    strings as UTF-8, integers as canonical decimal ASCII, bytes as they are.
    The encoding is injective: two different tuples never give the same bytes.
    Put only place identifiers here (they are authenticated, not secret).
    """
    out: list[bytes] = []
    try:
        for part in parts:
            tag, data = _encode_part(part)
            out.append(tag + len(data).to_bytes(4, "big"))
            out.append(data)
    except OverflowError:
        raise ValueError("a context part is longer than 2**32 - 1 bytes") from None
    return b"".join(out)


def _encode_part(part: object) -> tuple[bytes, bytes]:
    kind = type(part)  # exact types first: this runs for every sealed field
    if kind is str:
        return _TAG_STR, part.encode("utf-8")  # type: ignore[attr-defined]
    if kind is int:
        return _TAG_INT, str(part).encode("ascii")
    if kind is bytes:
        return _TAG_BYTES, part  # type: ignore[return-value]
    if isinstance(part, bool):
        # bool is an int subclass; True and 1 must not silently collide.
        raise TypeError("context parts are str, int or bytes, not bool")
    if isinstance(part, bytes):
        return _TAG_BYTES, bytes(part)
    if isinstance(part, str):  # a StrEnum, say: encoded as its string value
        return _TAG_STR, str.__str__(part).encode("utf-8")
    if isinstance(part, int):
        return _TAG_INT, int.__repr__(part).encode("ascii")
    raise TypeError(f"context parts are str, int or bytes, not {kind.__name__}")


def describe(encoded: bytes) -> str:
    """A readable rendering of a ``context()`` encoding, for error messages."""
    shown: list[str] = []
    at = 0
    while at < len(encoded):
        if at + 5 > len(encoded):
            return f"<{len(encoded)} bytes of context>"
        tag = encoded[at : at + 1]
        size = int.from_bytes(encoded[at + 1 : at + 5], "big")
        data = encoded[at + 5 : at + 5 + size]
        if len(data) != size:
            return f"<{len(encoded)} bytes of context>"
        at += 5 + size
        if tag == _TAG_BYTES:
            shown.append(data[:32].hex() + ("..." if size > 32 else ""))
        elif tag in (_TAG_STR, _TAG_INT):
            shown.append(data.decode("utf-8", errors="replace"))
        else:
            return f"<{len(encoded)} bytes of context>"
    return "record " + "/".join(shown) if shown else "record (empty context)"


# -- raw AEAD -------------------------------------------------------------------

# Building an AESGCM object costs about as much as sealing a small event, so
# ciphers are kept per key. Bounded; the key store calls forget() when it
# destroys a key, so nothing here outlives an erasure in this process.
_MAX_CIPHERS: Final = 1024
_ciphers: dict[bytes, AESGCM] = {}
_ciphers_lock = threading.Lock()


def _cipher(key: bytes) -> AESGCM:
    cipher = _ciphers.get(key)
    if cipher is None:
        if len(key) != KEY_SIZE:
            # AESGCM also takes 128/192-bit keys; we promise AES-256 only.
            raise ValueError(f"a data key is {KEY_SIZE} bytes, got {len(key)}")
        cipher = AESGCM(key)
        with _ciphers_lock:
            if len(_ciphers) >= _MAX_CIPHERS:
                del _ciphers[next(iter(_ciphers))]  # the oldest
            _ciphers[key] = cipher
    return cipher


def forget(key: bytes) -> None:
    """Drop the cached cipher of a key (called when the key is destroyed)."""
    with _ciphers_lock:
        _ciphers.pop(key, None)


def aead_seal(key: bytes, nonce: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """AES-256-GCM encryption: ``ciphertext || tag``. 256-bit key, 96-bit nonce only."""
    if len(nonce) != NONCE_SIZE:
        raise ValueError(f"the nonce is {NONCE_SIZE} bytes, got {len(nonce)}")
    return _cipher(key).encrypt(nonce, plaintext, aad)


def aead_open(key: bytes, nonce: bytes, ciphertext_with_tag: bytes, aad: bytes) -> bytes:
    """AES-256-GCM decryption. Raises ``IntegrityError`` when the tag does not verify
    (and for input too short to hold a tag); ``ValueError`` for a wrong key or nonce size."""
    if len(nonce) != NONCE_SIZE:
        raise ValueError(f"the nonce is {NONCE_SIZE} bytes, got {len(nonce)}")
    cipher = _cipher(key)
    if len(ciphertext_with_tag) < TAG_SIZE:
        raise IntegrityError("authentication failed: input shorter than the 16-byte tag")
    try:
        return cipher.decrypt(nonce, ciphertext_with_tag, aad)
    except InvalidTag:
        raise IntegrityError("authentication failed") from None


# -- sealed blobs -------------------------------------------------------------


def seal(key_id: bytes, key: bytes, plaintext: bytes, context: bytes) -> bytes:
    """Seal ``plaintext`` under the data key ``key`` (whose id is ``key_id``),
    bound to ``context`` (see ``context()``)."""
    if len(key_id) != KEY_ID_SIZE:
        raise ValueError(f"a key id is {KEY_ID_SIZE} bytes, got {len(key_id)}")
    header = _VERSION_BYTE + key_id
    nonce = os.urandom(NONCE_SIZE)
    return header + nonce + _cipher(key).encrypt(nonce, plaintext, header + context)


def key_id_of(blob: bytes, *, record: str = "sealed record") -> bytes:
    """The key id in a blob's header; ``IntegrityError`` if it is too short or of
    an unknown format version. ``record`` names the record in the error."""
    _check_header(blob, record)
    return blob[1:HEADER_SIZE]


def open_(key: bytes, blob: bytes, context: bytes, *, record: str | None = None) -> bytes:
    """Open a blob sealed by ``seal()`` at the place described by ``context``.

    Any alteration (wrong context, wrong key, truncation, a flipped bit, another
    format version) raises ``IntegrityError``, naming ``record`` (or, when not
    given, the rendered context) and never the content.
    """
    if len(blob) < MIN_BLOB_SIZE or blob[0] != FORMAT_VERSION:
        _check_header(blob, record or describe(context))
    view = memoryview(blob)  # slices of a view copy nothing
    try:
        return _cipher(key).decrypt(
            view[HEADER_SIZE:_NONCE_END], view[_NONCE_END:], blob[:HEADER_SIZE] + context
        )
    except InvalidTag:
        raise IntegrityError(
            f"integrity check failed for {record or describe(context)}: the sealed bytes were "
            "altered, moved from another record, or sealed under another key"
        ) from None


def _check_header(blob: bytes, record: str) -> None:
    if len(blob) < MIN_BLOB_SIZE:
        raise IntegrityError(
            f"integrity check failed for {record}: {len(blob)} bytes, shorter than the "
            f"{MIN_BLOB_SIZE} bytes of any sealed blob (truncated?)"
        )
    if blob[0] != FORMAT_VERSION:
        raise IntegrityError(
            f"integrity check failed for {record}: unknown format version 0x{blob[0]:02x} "
            f"(this build reads 0x{FORMAT_VERSION:02x})"
        )
