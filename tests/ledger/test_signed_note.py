"""Signed notes and checkpoints: Go's sumdb/note reference vector byte for byte,
and every altered byte of a signed checkpoint refused (issue 4, done-when 1, 2)."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from functools import cache

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from ledger_support import load_json, require_vectors

from infrastructure.ledger.merkle import leaf_hash
from infrastructure.ledger.note import (
    Checkpoint,
    NoteError,
    Signer,
    Verifier,
    ed25519_key_id,
    format_checkpoint,
    open_checkpoint,
    open_note,
    parse_checkpoint,
    sign_checkpoint,
    sign_note,
)

ORIGIN = "rete.example/cesano-boscone"
ROOT = leaf_hash(b"a root")


@cache
def _reference() -> dict[str, str]:
    document: dict[str, str] = load_json(require_vectors("signed-note/go-sumdb-note.json"))
    return document


@cache
def _signer(name: str = ORIGIN) -> Signer:
    # A fixed seed keeps failures reproducible.
    return Signer(name, Ed25519PrivateKey.from_private_bytes(bytes(range(32))))


def _flips(data: bytes) -> Iterator[bytes]:
    for bit in range(8 * len(data)):
        flipped = bytearray(data)
        flipped[bit // 8] ^= 1 << (bit % 8)
        yield bytes(flipped)


# --------------------------------------------------------------------------
# The Go reference


def test_signing_the_reference_text_reproduces_the_reference_note() -> None:
    ref = _reference()
    signer = Signer.from_key_string(ref["skey"])
    assert signer.name == "PeterNeumann" and signer.key_id == 0xC74F20A3
    assert signer.sign(ref["text"]) == ref["note"].encode("utf-8")


def test_the_reference_note_verifies_with_the_reference_verifier_key() -> None:
    ref = _reference()
    verifier = Verifier.from_key_string(ref["vkey"])
    assert open_note(ref["note"].encode("utf-8"), [verifier]) == ref["text"]


def test_reference_key_strings_round_trip() -> None:
    ref = _reference()
    signer = Signer.from_key_string(ref["skey"])
    assert signer.to_key_string() == ref["skey"]
    assert signer.verifier().to_key_string() == ref["vkey"]
    verifier = Verifier.from_key_string(ref["vkey"])
    raw = verifier.public_key.public_bytes_raw()
    assert ed25519_key_id("PeterNeumann", raw) == 0xC74F20A3
    assert Verifier.for_key("PeterNeumann", verifier.public_key).to_key_string() == ref["vkey"]


def test_every_bit_flip_of_the_reference_note_is_refused() -> None:
    ref = _reference()
    note = ref["note"].encode("utf-8")
    verifier = Verifier.from_key_string(ref["vkey"])
    for flipped in _flips(note):
        with pytest.raises(NoteError):
            open_note(flipped, [verifier])


# --------------------------------------------------------------------------
# Checkpoints


def test_checkpoint_body_is_the_c2sp_text() -> None:
    body = format_checkpoint(ORIGIN, 1000, ROOT)
    assert body == f"{ORIGIN}\n1000\n{base64.b64encode(ROOT).decode()}\n"
    assert parse_checkpoint(body) == Checkpoint(ORIGIN, 1000, ROOT)
    with_ext = Checkpoint(ORIGIN, 0, ROOT, ("ext one", "ext two"))
    assert parse_checkpoint(with_ext.body()) == with_ext
    # The example of c2sp.org/tlog-checkpoint parses.
    example = (
        "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    )
    assert parse_checkpoint(example).size == 20852163


def test_signed_checkpoint_opens_for_its_origin_only() -> None:
    signer = _signer()
    note = sign_checkpoint(Checkpoint(ORIGIN, 7, ROOT), signer)
    assert open_checkpoint(note, [signer.verifier()], ORIGIN) == Checkpoint(ORIGIN, 7, ROOT)
    with pytest.raises(NoteError, match="not"):
        open_checkpoint(note, [signer.verifier()], "rete.example/other")


def test_every_bit_flip_of_a_signed_checkpoint_is_refused() -> None:
    """Exhaustive: each of the note's bits, in the body and in the signature line."""
    signer = _signer()
    note = sign_checkpoint(Checkpoint(ORIGIN, 1000, ROOT), signer)
    verifiers = [signer.verifier()]
    assert open_checkpoint(note, verifiers, ORIGIN).size == 1000
    refused = 0
    for flipped in _flips(note):
        with pytest.raises(NoteError):
            open_checkpoint(flipped, verifiers, ORIGIN)
        refused += 1
    assert refused == 8 * len(note) > 1000


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(f"{ORIGIN}\n1000\n{base64.b64encode(ROOT).decode()}", id="no-final-newline"),
        pytest.param(f"{ORIGIN}\n1000\n", id="two-lines"),
        pytest.param(f"{ORIGIN}\n01000\n{base64.b64encode(ROOT).decode()}\n", id="leading-zero"),
        pytest.param(f"{ORIGIN}\n+1000\n{base64.b64encode(ROOT).decode()}\n", id="sign"),
        pytest.param(f"{ORIGIN}\n 1000\n{base64.b64encode(ROOT).decode()}\n", id="space"),
        pytest.param(f"{ORIGIN}\n1_000\n{base64.b64encode(ROOT).decode()}\n", id="underscore"),
        pytest.param(
            f"{ORIGIN}\n\u0661\u0660\n{base64.b64encode(ROOT).decode()}\n", id="arabic-digits"
        ),
        pytest.param(f"{ORIGIN}\n{2**64}\n{base64.b64encode(ROOT).decode()}\n", id="above-u64"),
        pytest.param(f"{ORIGIN}\n1\n{base64.b64encode(ROOT[:31]).decode()}\n", id="short-root"),
        pytest.param(f"{ORIGIN}\n1\n{base64.b64encode(ROOT).decode()[:-1]}\n", id="bad-b64"),
        pytest.param(f"{ORIGIN}\n1\n{base64.b64encode(ROOT).decode()}\n\next\n", id="empty-line"),
        pytest.param(f"\n1\n{base64.b64encode(ROOT).decode()}\n", id="no-origin"),
    ],
)
def test_malformed_checkpoint_bodies_are_refused(body: str) -> None:
    with pytest.raises(NoteError):
        parse_checkpoint(body)


def test_non_canonical_root_base64_is_refused() -> None:
    encoded = base64.b64encode(ROOT).decode()  # 44 characters, the last one is "="
    last = encoded[-2]
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    # The last data character carries 2 unused bits; setting one keeps the bytes.
    sibling = alphabet[alphabet.index(last) ^ 1]
    assert base64.b64decode(encoded[:-2] + sibling + "=") == ROOT
    with pytest.raises(NoteError, match="non-canonical"):
        parse_checkpoint(f"{ORIGIN}\n1\n{encoded[:-2]}{sibling}=\n")


def test_format_checkpoint_refuses_what_it_could_not_parse_back() -> None:
    for origin in ["", "has space", "has+plus", "new\nline"]:
        with pytest.raises(NoteError):
            format_checkpoint(origin, 1, ROOT)
    with pytest.raises(NoteError):
        format_checkpoint(ORIGIN, -1, ROOT)
    with pytest.raises(NoteError):
        format_checkpoint(ORIGIN, 1, ROOT[:16])
    with pytest.raises(NoteError):
        format_checkpoint(ORIGIN, 1, ROOT, ["two\nlines"])
    with pytest.raises(NoteError):
        format_checkpoint(ORIGIN, 1, ROOT, [""])


# --------------------------------------------------------------------------
# Notes: keys, unknown signers, malformed notes


def test_a_note_signed_only_by_unknown_keys_is_refused() -> None:
    note = _signer().sign("hello\n")
    stranger = Signer.generate(ORIGIN)  # same name, another key, another id
    with pytest.raises(NoteError, match="no signature from a known key"):
        open_note(note, [stranger.verifier()])
    with pytest.raises(NoteError, match="no signature from a known key"):
        open_note(note, [])


def test_unknown_cosignatures_are_ignored_but_a_bad_known_one_rejects() -> None:
    log, witness = _signer(), Signer.generate("witness.example/w1")
    note = sign_note("hello\n", log, witness)
    assert open_note(note, [log.verifier()]) == "hello\n"
    assert open_note(note, [log.verifier(), witness.verifier()]) == "hello\n"
    # The witness line re-signed by another key under the witness's name and id.
    text, _, lines = note.partition(b"\n\n")
    log_line, witness_line, _ = lines.split(b"\n")
    forged_blob = witness.key_id.to_bytes(4, "big") + log.signature(b"hello\n")
    forged = b"\xe2\x80\x94 witness.example/w1 " + base64.b64encode(forged_blob)
    assert forged != witness_line
    tampered = text + b"\n\n" + log_line + b"\n" + forged + b"\n"
    assert open_note(tampered, [log.verifier()]) == "hello\n"  # witness unknown here
    with pytest.raises(NoteError, match="invalid signature"):
        open_note(tampered, [log.verifier(), witness.verifier()])


@pytest.mark.parametrize(
    "mangle",
    [
        pytest.param(lambda n: n.replace(b"\n\n", b"\n"), id="no-blank-line"),
        pytest.param(lambda n: n[:-1], id="no-final-newline"),
        pytest.param(lambda n: n.replace("— ".encode(), b"- "), id="hyphen-not-em-dash"),
        pytest.param(lambda n: n.replace(b"boscone ", b"boscone  "), id="double-space"),
        pytest.param(lambda n: n + n[n.index(b"\n\n") + 2 :] * 100, id="too-many-signatures"),
        pytest.param(lambda n: b"\x07" + n, id="control-character"),
        pytest.param(lambda n: b"\xff" + n, id="invalid-utf8"),
        pytest.param(lambda n: n.replace(b"hello", b"hellO"), id="altered-text"),
    ],
)
def test_malformed_or_altered_notes_are_refused(mangle: Callable[[bytes], bytes]) -> None:
    signer = _signer()
    note = signer.sign("hello\n")
    mangled = mangle(note)
    assert mangled != note
    with pytest.raises(NoteError):
        open_note(mangled, [signer.verifier()])


def test_sign_refuses_text_that_could_not_be_opened() -> None:
    signer = _signer()
    for text in ["no newline", "", "bell\x07\n", "lone \ud800 surrogate\n"]:
        with pytest.raises(NoteError):
            signer.sign(text)
    with pytest.raises(NoteError):
        sign_note("text\n")


def test_generated_keys_round_trip_through_their_strings() -> None:
    signer = Signer.generate("rete.example/dev")
    again = Signer.from_key_string(signer.to_key_string())
    note = again.sign("line one\n\nline three after a blank line\n")
    verifier = Verifier.from_key_string(signer.verifier().to_key_string())
    assert open_note(note, [verifier]) == "line one\n\nline three after a blank line\n"


MALFORMED_VERIFIER_KEYS = [
    "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # wrong id
    "PeterNeumann+c74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # 7 hex digits
    "PeterNeumann+c74f20ag+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # not hex
    "PeterNeumann+c74f20a3+Ahpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # algorithm 2
    "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10Q=",  # 31 bytes
    "PeterNeumann+c74f20a3",
    "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
    "",
]
MALFORMED_SIGNER_KEYS = [
    "PRIVATE+KEY+PeterNeumann+c74f20a4+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
    "PUBLIC+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
    "PRIVATE+KEY+Peter+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
    "PRIVATE+KEY+PeterNeumann+c74f20a3+AoEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
    "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
]


@pytest.mark.parametrize(
    ("parse", "key"),
    [
        *((Verifier.from_key_string, key) for key in MALFORMED_VERIFIER_KEYS),
        *((Signer.from_key_string, key) for key in MALFORMED_SIGNER_KEYS),
    ],
)
def test_malformed_keys_are_refused(parse: Callable[[str], object], key: str) -> None:
    with pytest.raises(NoteError):
        parse(key)


def test_a_verifier_refuses_a_key_id_that_is_not_its_keys() -> None:
    key = Ed25519PrivateKey.generate().public_key()
    right = ed25519_key_id("n", key.public_bytes_raw())
    with pytest.raises(NoteError, match="key id"):
        Verifier("n", right ^ 1, key)


def test_the_signer_never_shows_its_secret() -> None:
    signer = _signer()
    secret = signer.to_key_string().rsplit("+", 1)[1]
    assert secret not in repr(signer) and secret not in str(signer)
    assert f"{signer.key_id:08x}" in repr(signer)
