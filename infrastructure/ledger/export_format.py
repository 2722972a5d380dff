"""The layout of an export (``rete ledger export DIR``), shared by writer and reader.

    DIR/manifest.json      format, origin, leaf layout, counts, when exported
    DIR/public-key.txt     the verifier key string (compare it with the one you
                           received out of band: verification trusts the key only)
    DIR/checkpoints/N.note every signed checkpoint, byte for byte, N its tree size
    DIR/consistency.jsonl  consistency proofs between consecutive checkpoints
    DIR/records.jsonl      one line per leaf, in log order (see ``ExportLine``)

Records hold the stored bytes (ciphertext), base64, never plaintext.
"""

from __future__ import annotations

import msgspec

FORMAT = "rete-ledger-export/1"
MANIFEST = "manifest.json"
PUBLIC_KEY = "public-key.txt"
CHECKPOINTS = "checkpoints"
CONSISTENCY = "consistency.jsonl"
RECORDS = "records.jsonl"


class Manifest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    format: str
    origin: str
    leaf_layout: str
    ledger_size: int  # leaves in the ledger when exported
    records: int  # record lines written
    checkpoints: list[int]  # their tree sizes
    exported_at: str


class ExportLine(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Leaf ``index``: the record at that place of the log (its fields, ``state`` the
    stored bytes in base64), and the leaf the ledger stored for it. Record fields are
    null where the log has fewer records than the ledger has leaves, ledger fields
    where it has more."""

    index: int
    position: int | None
    stream_id: str | None  # a UUID, in its usual text form
    version: int | None
    topic: str | None
    state: bytes | None
    ledger_position: int | None
    leaf_hash: bytes | None


class ProofLine(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    first: int
    second: int
    proof: list[bytes]


def note_name(size: int) -> str:
    return f"{size}.note"
