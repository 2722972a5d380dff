"""The sealing primitive: round trips, and every kind of tampering refused (done-when 2)."""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.hypothesis_profiles import examples

from infrastructure.crypto.sealing import (
    FORMAT_VERSION,
    HEADER_SIZE,
    MIN_BLOB_SIZE,
    IntegrityError,
    context,
    key_id_of,
    open_,
    seal,
)

keys = st.binary(min_size=32, max_size=32)
key_ids = st.binary(min_size=16, max_size=16)
parts = st.one_of(st.text(max_size=12), st.integers(), st.binary(max_size=12))
contexts = st.lists(parts, max_size=5).map(tuple)
# Small plaintexts keep "flip every bit" affordable; the primitive does not care.
small_plaintexts = st.binary(max_size=40)


def place(stream: str, version: int, kind: str, purpose: str = "personal") -> bytes:
    return context(stream, version, kind, purpose)


HERE = place("0b7c5e0e-3c43-4a53-9b0c-6e0a1f1f0c01", 3, "Case.NoteAdded")


@given(key_ids, keys, st.binary(max_size=2048), contexts)
@pytest.mark.long
def test_what_is_sealed_opens_at_the_same_place(
    key_id: bytes, key: bytes, plaintext: bytes, where: tuple[str | int | bytes, ...]
) -> None:
    blob = seal(key_id, key, plaintext, context(*where))
    assert open_(key, blob, context(*where)) == plaintext
    assert key_id_of(blob) == key_id
    assert blob[0] == FORMAT_VERSION and blob[1:HEADER_SIZE] == key_id
    assert len(blob) == MIN_BLOB_SIZE + len(plaintext)


@settings(max_examples=examples(40))
@given(key_ids, keys, small_plaintexts)
def test_every_single_bit_flip_is_refused(key_id: bytes, key: bytes, plaintext: bytes) -> None:
    blob = seal(key_id, key, plaintext, HERE)
    for bit in range(len(blob) * 8):
        flipped = bytearray(blob)
        flipped[bit // 8] ^= 1 << (bit % 8)
        with pytest.raises(IntegrityError):
            open_(key, bytes(flipped), HERE)


@given(key_ids, keys, small_plaintexts, st.binary(min_size=1, max_size=8))
def test_every_truncation_and_extension_is_refused(
    key_id: bytes, key: bytes, plaintext: bytes, extra: bytes
) -> None:
    blob = seal(key_id, key, plaintext, HERE)
    for length in range(len(blob)):
        with pytest.raises(IntegrityError):
            open_(key, blob[:length], HERE)
    with pytest.raises(IntegrityError):
        open_(key, blob + extra, HERE)


@given(key_ids, keys, small_plaintexts, contexts, contexts)
def test_a_blob_moved_to_any_other_place_is_refused(
    key_id: bytes,
    key: bytes,
    plaintext: bytes,
    here: tuple[str | int | bytes, ...],
    there: tuple[str | int | bytes, ...],
) -> None:
    if context(*here) == context(*there):
        return  # the same place (the encoding is injective, see below)
    blob = seal(key_id, key, plaintext, context(*here))
    with pytest.raises(IntegrityError):
        open_(key, blob, context(*there))


@pytest.mark.parametrize(
    "elsewhere",
    [
        place("5d1e8a52-0c7e-4c1f-8f39-2b0d1d2e9a77", 3, "Case.NoteAdded"),  # other stream
        place("0b7c5e0e-3c43-4a53-9b0c-6e0a1f1f0c01", 4, "Case.NoteAdded"),  # other version
        place("0b7c5e0e-3c43-4a53-9b0c-6e0a1f1f0c01", 3, "Case.Closed"),  # other event type
        place("0b7c5e0e-3c43-4a53-9b0c-6e0a1f1f0c01", 3, "Case.NoteAdded", "rest"),  # field
        b"",  # no context at all
    ],
    ids=["stream", "version", "type", "purpose", "empty"],
)
def test_the_places_the_issue_names(elsewhere: bytes) -> None:
    key_id, key = os.urandom(16), os.urandom(32)
    blob = seal(key_id, key, b"a school refers", HERE)
    with pytest.raises(IntegrityError):
        open_(key, blob, elsewhere)


@given(key_ids, keys, keys, small_plaintexts)
def test_another_key_is_refused(key_id: bytes, key: bytes, other: bytes, plaintext: bytes) -> None:
    if key == other:
        return
    blob = seal(key_id, key, plaintext, HERE)
    with pytest.raises(IntegrityError):
        open_(other, blob, HERE)


def test_the_key_id_in_the_header_is_authenticated() -> None:
    key = os.urandom(32)
    blob = seal(b"\x01" * 16, key, b"x", HERE)
    relabelled = blob[:1] + b"\x02" * 16 + blob[HEADER_SIZE:]
    with pytest.raises(IntegrityError):
        open_(key, relabelled, HERE)


def test_the_error_names_the_record_and_never_the_content() -> None:
    key = os.urandom(32)
    secret = "Maria Rossi, via Roma 1"
    blob = seal(os.urandom(16), key, secret.encode(), HERE)
    with pytest.raises(IntegrityError) as described:
        open_(key, blob[:-1] + bytes([blob[-1] ^ 1]), HERE, record="case 42 v3 Case.NoteAdded")
    assert "case 42 v3 Case.NoteAdded" in str(described.value)
    with pytest.raises(IntegrityError) as rendered:
        open_(key, blob, place("0b7c5e0e-3c43-4a53-9b0c-6e0a1f1f0c01", 4, "Case.NoteAdded"))
    assert "0b7c5e0e-3c43-4a53-9b0c-6e0a1f1f0c01/4/Case.NoteAdded" in str(rendered.value)
    for error in (described.value, rendered.value):
        assert "Maria" not in str(error) and error.__cause__ is None


def test_an_unknown_format_version_or_a_short_blob_is_a_clear_error() -> None:
    blob = seal(os.urandom(16), os.urandom(32), b"x", HERE)
    with pytest.raises(IntegrityError, match="unknown format version 0x02"):
        key_id_of(b"\x02" + blob[1:])
    with pytest.raises(IntegrityError, match="shorter than the 45 bytes"):
        key_id_of(blob[:20], record="case 7 v1")
    with pytest.raises(IntegrityError, match="case 7 v1"):
        key_id_of(b"", record="case 7 v1")


def test_every_seal_draws_a_fresh_nonce() -> None:
    key_id, key = os.urandom(16), os.urandom(32)
    blobs = {seal(key_id, key, b"same", HERE) for _ in range(1000)}
    assert len(blobs) == 1000


def test_only_aes_256_keys_and_16_byte_key_ids() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        seal(os.urandom(16), os.urandom(16), b"x", HERE)
    with pytest.raises(ValueError, match="16 bytes"):
        seal(os.urandom(8), os.urandom(32), b"x", HERE)


# -- the context encoding ---------------------------------------------------------


@given(contexts, contexts)
def test_different_tuples_never_encode_the_same(
    a: tuple[str | int | bytes, ...], b: tuple[str | int | bytes, ...]
) -> None:
    def typed(t: tuple[str | int | bytes, ...]) -> list[tuple[type, object]]:
        return [(type(p), p) for p in t]

    if typed(a) != typed(b):
        assert context(*a) != context(*b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (("ab", "c"), ("a", "bc")),
        (("1",), (1,)),
        ((b"1",), ("1",)),
        (("",), ()),
        ((1, 23), (12, 3)),
    ],
)
def test_classic_ambiguities_are_kept_apart(
    a: tuple[str | int | bytes, ...], b: tuple[str | int | bytes, ...]
) -> None:
    assert context(*a) != context(*b)


def test_booleans_are_not_context_parts() -> None:
    with pytest.raises(TypeError):
        context(True)
