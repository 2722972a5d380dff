"""Ed25519 signed notes (C2SP signed-note, Go's golang.org/x/mod/sumdb/note) and
tree checkpoints (C2SP tlog-checkpoint).

A signed note is a UTF-8 text ending in a newline, a blank line, then one line
per signature: ``— <key name> <base64(key id (4 bytes, big endian) || signature)>``.
The key id is the first 4 bytes of SHA-256(name || 0x0A || 0x01 || public key),
0x01 being the Ed25519 signature type. Key strings are Go's:

    verifier  <name>+<hex key id>+<base64(0x01 || public key)>
    signer    PRIVATE+KEY+<name>+<hex key id>+<base64(0x01 || seed)>

Decoding is stricter than Go's on one point: base64 must be canonical. Go and
Python both ignore the unused low bits of the last base64 character, so a bit
flip there would leave the signature intact; an auditor must see every altered
byte refused.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from infrastructure.ledger.merkle import HASH_SIZE, MAX_SIZE

ALG_ED25519 = 0x01
ED25519_KEY_SIZE = 32
ED25519_SIGNATURE_SIZE = 64
MAX_SIGNATURES = 100  # C2SP: accept at least 16; Go stops at 100
SIGNATURE_PREFIX = "— "  # U+2014 EM DASH, space

_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")  # every ASCII control but newline
_HEX_KEY_ID = re.compile(r"[0-9a-fA-F]{8}")
_DECIMAL = re.compile(r"0|[1-9][0-9]*")  # ASCII only, no sign, no leading zero


class NoteError(Exception):
    """A note or key that is malformed, or whose signatures do not hold."""


# --------------------------------------------------------------------------
# Primitives


def verify_ed25519(public_key: Ed25519PublicKey, message: bytes, signature: bytes) -> bool:
    """The raw Ed25519 check (RFC 8032) every note signature goes through."""
    if len(signature) != ED25519_SIGNATURE_SIZE:
        return False
    try:
        public_key.verify(signature, message)
    except InvalidSignature:
        return False
    return True


def ed25519_key_id(name: str, public_key: bytes) -> int:
    """The 32-bit id of an Ed25519 key: SHA-256(name || 0x0A || 0x01 || key)[:4]."""
    material = name.encode("utf-8") + b"\n" + bytes([ALG_ED25519]) + public_key
    return int.from_bytes(hashlib.sha256(material).digest()[:4], "big")


def _b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _b64decode(text: str) -> bytes:
    """Standard base64 with padding, refusing anything but the canonical encoding."""
    try:
        data = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise NoteError("invalid base64") from exc
    if _b64encode(data) != text:
        raise NoteError("non-canonical base64")
    return data


def _is_valid_name(name: str) -> bool:
    # Go: non-empty, no Unicode space, no "+". Control characters can never
    # appear in a note, so a name holding one could never be verified.
    return (
        bool(name)
        and "+" not in name
        and not any(ch.isspace() for ch in name)
        and not _CONTROL.search(name)
    )


def _check_name(name: str) -> str:
    if not isinstance(name, str) or not _is_valid_name(name):
        raise NoteError(f"invalid key name {name!r}: non-empty, no spaces, no '+'")
    return name


# --------------------------------------------------------------------------
# Keys


class _NamedKey:
    """What a verifier and a signer share: the key's name and its id (the note
    format's 4-byte hash of both)."""

    __slots__ = ("_key_id", "_name")
    _name: str
    _key_id: int

    @property
    def name(self) -> str:
        return self._name

    @property
    def key_id(self) -> int:
        return self._key_id


class Verifier(_NamedKey):
    """A trusted Ed25519 public key, under a name and key id."""

    __slots__ = ("_key", "_raw")

    def __init__(self, name: str, key_id: int, public_key: Ed25519PublicKey) -> None:
        self._name = _check_name(name)
        self._key = public_key
        self._raw = public_key.public_bytes_raw()
        expected = ed25519_key_id(name, self._raw)
        if key_id != expected:
            raise NoteError(f"key id {key_id:08x} is not the id {expected:08x} of this key")
        self._key_id = expected

    @classmethod
    def for_key(cls, name: str, public_key: Ed25519PublicKey) -> Verifier:
        """The verifier of a key, its id computed."""
        return cls(name, ed25519_key_id(name, public_key.public_bytes_raw()), public_key)

    @classmethod
    def from_key_string(cls, vkey: str) -> Verifier:
        """Parses ``<name>+<hex key id>+<base64(0x01 || public key)>``."""
        name, _, rest = vkey.partition("+")
        hex_id, _, key64 = rest.partition("+")
        raw = _parse_key_material(name, hex_id, key64)
        try:
            public_key = Ed25519PublicKey.from_public_bytes(raw)
        except ValueError as exc:
            raise NoteError("invalid Ed25519 public key") from exc
        return cls(name, int(hex_id, 16), public_key)

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self._key

    def to_key_string(self) -> str:
        material = _b64encode(bytes([ALG_ED25519]) + self._raw)
        return f"{self.name}+{self.key_id:08x}+{material}"

    def verify(self, message: bytes, signature: bytes) -> bool:
        return verify_ed25519(self._key, message, signature)

    def __repr__(self) -> str:
        return f"Verifier({self.to_key_string()!r})"


class Signer(_NamedKey):
    """An Ed25519 signing key under a name. Never logged: its repr shows no secret."""

    __slots__ = ("_key",)

    def __init__(self, name: str, private_key: Ed25519PrivateKey) -> None:
        self._name = _check_name(name)
        self._key = private_key
        self._key_id = ed25519_key_id(name, private_key.public_key().public_bytes_raw())

    @classmethod
    def generate(cls, name: str) -> Signer:
        return cls(name, Ed25519PrivateKey.generate())

    @classmethod
    def from_key_string(cls, skey: str) -> Signer:
        """Parses ``PRIVATE+KEY+<name>+<hex key id>+<base64(0x01 || seed)>``."""
        private, _, rest = skey.partition("+")
        marker, _, rest = rest.partition("+")
        if (private, marker) != ("PRIVATE", "KEY"):
            raise NoteError("a signer key starts with PRIVATE+KEY+")
        name, _, rest = rest.partition("+")
        hex_id, _, key64 = rest.partition("+")
        seed = _parse_key_material(name, hex_id, key64)
        signer = cls(name, Ed25519PrivateKey.from_private_bytes(seed))
        # The id names the public key, so it can only be checked once derived.
        if signer.key_id != int(hex_id, 16):
            raise NoteError("the key id does not match the signer key")
        return signer

    def to_key_string(self) -> str:
        """The secret key string (Go's format); keep it out of logs and databases."""
        material = _b64encode(bytes([ALG_ED25519]) + self._key.private_bytes_raw())
        return f"PRIVATE+KEY+{self.name}+{self.key_id:08x}+{material}"

    def verifier(self) -> Verifier:
        return Verifier(self.name, self.key_id, self._key.public_key())

    def signature(self, message: bytes) -> bytes:
        """The raw 64-byte Ed25519 signature of ``message`` (deterministic)."""
        return self._key.sign(message)

    def sign(self, text: str) -> bytes:
        """The signed note of ``text`` with this key alone."""
        return sign_note(text, self)

    def __repr__(self) -> str:
        return f"Signer(name={self.name!r}, key_id={self.key_id:08x})"


def _parse_key_material(name: str, hex_id: str, key64: str) -> bytes:
    _check_name(name)
    if not _HEX_KEY_ID.fullmatch(hex_id):
        raise NoteError("the key id must be 8 hex digits")
    material = _b64decode(key64)
    if not material or material[0] != ALG_ED25519:
        raise NoteError("unknown key algorithm (only Ed25519, 0x01)")
    if len(material) != 1 + ED25519_KEY_SIZE:
        raise NoteError(f"an Ed25519 key is {ED25519_KEY_SIZE} bytes")
    return material[1:]


# --------------------------------------------------------------------------
# Notes


def sign_note(text: str, *signers: Signer) -> bytes:
    """``text``, a blank line, and one signature line per signer."""
    if not signers:
        raise NoteError("a note needs at least one signer")
    if not text.endswith("\n"):
        raise NoteError("note text must end with a newline")
    if _CONTROL.search(text):
        raise NoteError("note text must not contain control characters but newline")
    try:
        message = text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise NoteError("note text must be valid UTF-8") from exc
    lines = []
    for signer in signers:
        blob = signer.key_id.to_bytes(4, "big") + signer.signature(message)
        lines.append(f"{SIGNATURE_PREFIX}{signer.name} {_b64encode(blob)}\n")
    return message + b"\n" + "".join(lines).encode("utf-8")


def open_note(note: bytes, verifiers: Iterable[Verifier]) -> str:
    """The text of ``note`` once verified; raises ``NoteError`` otherwise.

    As C2SP requires: signatures by unknown keys (name and id not both known)
    are ignored; a signature by a known key that fails rejects the whole note;
    and at least one known key must have signed.
    """
    known = _index(verifiers)
    if not isinstance(note, bytes):
        raise NoteError("a note is bytes")
    try:
        decoded = note.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NoteError("note is not valid UTF-8") from exc
    if _CONTROL.search(decoded):
        raise NoteError("note contains control characters other than newline")
    split = note.rfind(b"\n\n")
    if split < 0:
        raise NoteError("note has no blank line before its signatures")
    message, block = note[: split + 1], note[split + 2 :]
    if not block.endswith(b"\n"):
        raise NoteError("note signatures must end with a newline")

    lines = block[:-1].decode("utf-8").split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError(f"note has more than {MAX_SIGNATURES} signatures")
    verified = 0
    for line in lines:
        name, hash_, signature = _parse_signature_line(line)
        verifier = known.get((name, hash_))
        if verifier is None:
            continue  # another party's signature (a witness, a rotated key)
        if not verifier.verify(message, signature):
            raise NoteError(f"invalid signature for key {name}+{hash_:08x}")
        verified += 1
    if not verified:
        raise NoteError("note has no signature from a known key")
    return message.decode("utf-8")


def _index(verifiers: Iterable[Verifier]) -> dict[tuple[str, int], Verifier]:
    known: dict[tuple[str, int], Verifier] = {}
    for verifier in verifiers:
        slot = (verifier.name, verifier.key_id)
        other = known.setdefault(slot, verifier)
        if other.public_key.public_bytes_raw() != verifier.public_key.public_bytes_raw():
            raise NoteError(f"two verifiers share the name and key id {slot[0]}+{slot[1]:08x}")
    return known


def _parse_signature_line(line: str) -> tuple[str, int, bytes]:
    if not line.startswith(SIGNATURE_PREFIX):
        raise NoteError("malformed signature line")
    name, space, encoded = line[len(SIGNATURE_PREFIX) :].partition(" ")
    if not space or not _is_valid_name(name) or not encoded:
        raise NoteError("malformed signature line")
    blob = _b64decode(encoded)
    if len(blob) < 5:
        raise NoteError("signature too short")
    return name, int.from_bytes(blob[:4], "big"), blob[4:]


# Go's names, for callers that mirror golang.org/x/mod/sumdb/note. Prefer the
# explicit names where the built-in ``open`` is also in use.
sign = sign_note
open = open_note


# --------------------------------------------------------------------------
# Checkpoints


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A tree head: the log's origin, its size and its RFC 6962 root."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def body(self) -> str:
        return format_checkpoint(self.origin, self.size, self.root, self.extensions)


def format_checkpoint(origin: str, size: int, root: bytes, extensions: Sequence[str] = ()) -> str:
    """The C2SP tlog-checkpoint note text: origin, size, base64 root, extensions."""
    # Our own origins are held to the recommended form (a key name): the
    # origin doubles as the signing key's name.
    _check_name(origin)
    if not 0 <= size <= MAX_SIZE:
        raise NoteError("tree size must be between 0 and 2**64 - 1")
    if len(root) != HASH_SIZE:
        raise NoteError(f"a root hash is {HASH_SIZE} bytes")
    for line in extensions:
        if not line or "\n" in line or _CONTROL.search(line):
            raise NoteError("extension lines must be non-empty single lines")
    lines = [origin, str(size), _b64encode(bytes(root)), *extensions]
    return "".join(f"{line}\n" for line in lines)


def parse_checkpoint(text: str) -> Checkpoint:
    """Parses a checkpoint note text (strictly: canonical size and root)."""
    if not text.endswith("\n"):
        raise NoteError("checkpoint text must end with a newline")
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise NoteError("a checkpoint has an origin, a size and a root hash")
    if any(not line for line in lines):
        raise NoteError("checkpoint lines must be non-empty")
    origin, size_text, root_text, *extensions = lines
    if not _DECIMAL.fullmatch(size_text) or int(size_text) > MAX_SIZE:
        raise NoteError("tree size must be a decimal uint64 without leading zeros")
    root = _b64decode(root_text)
    if len(root) != HASH_SIZE:
        raise NoteError(f"a root hash is {HASH_SIZE} bytes")
    return Checkpoint(origin, int(size_text), root, tuple(extensions))


def sign_checkpoint(checkpoint: Checkpoint, signer: Signer) -> bytes:
    """The signed note of a checkpoint."""
    return sign_note(checkpoint.body(), signer)


def open_checkpoint(note: bytes, verifiers: Iterable[Verifier], origin: str) -> Checkpoint:
    """The checkpoint of a signed note, verified, from the expected log.

    The origin check stops a checkpoint of another log signed by the same key
    from passing for one of ours.
    """
    checkpoint = parse_checkpoint(open_note(note, verifiers))
    if checkpoint.origin != origin:
        raise NoteError(f"checkpoint is for {checkpoint.origin!r}, not {origin!r}")
    return checkpoint
