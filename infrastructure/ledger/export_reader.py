"""Verifying an export offline (``rete ledger verify DIR``), with only the public key.

Nothing in the directory is trusted but what the key signed: the manifest and
the ledger's leaves only help to report, and a checkpoint file that is missing
from the export cannot be noticed from the export alone (checkpoints published
elsewhere can: ``--checkpoint``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from itertools import islice
from pathlib import Path

import msgspec

from infrastructure.ledger import export_format as fmt
from infrastructure.ledger.chunks import CHUNK
from infrastructure.ledger.db import RawRecord
from infrastructure.ledger.findings import Page, VerificationFailed
from infrastructure.ledger.note import NoteError, Verifier
from infrastructure.ledger.verification import (
    Progress,
    VerifySummary,
    check_log,
    open_checkpoints,
)


def _fail(reason: str, index: int | None = None) -> VerificationFailed:
    return VerificationFailed(index, reason)


def read_manifest(directory: Path) -> fmt.Manifest:
    try:
        manifest = msgspec.json.decode((directory / fmt.MANIFEST).read_bytes(), type=fmt.Manifest)
    except FileNotFoundError:
        raise _fail(
            f"{directory} has no {fmt.MANIFEST}: not an export, or an interrupted one"
        ) from None
    except (OSError, msgspec.DecodeError) as e:
        raise _fail(f"{fmt.MANIFEST} cannot be read: {e}") from None
    if manifest.format != fmt.FORMAT:
        raise _fail(f"unknown export format {manifest.format!r} (this verifier reads {fmt.FORMAT})")
    return manifest


def export_key(directory: Path) -> Verifier:
    """The key the export carries: to be compared with the one received out of band."""
    try:
        return Verifier.from_key_string((directory / fmt.PUBLIC_KEY).read_text("utf-8").strip())
    except (OSError, NoteError, ValueError) as e:
        raise _fail(f"{fmt.PUBLIC_KEY} does not hold a verifier key: {e}") from None


def _notes(directory: Path) -> list[tuple[str, bytes]]:
    files = []
    for path in (directory / fmt.CHECKPOINTS).glob("*.note"):
        if not path.stem.isdigit():
            raise _fail(f"unexpected checkpoint file {path.name}")
        files.append((int(path.stem), path))
    return [(f"checkpoint {k}", path.read_bytes()) for k, (_, path) in enumerate(sorted(files), 1)]


def _proofs(directory: Path) -> dict[tuple[int, int], list[bytes]]:
    decoder = msgspec.json.Decoder(fmt.ProofLine)
    proofs = {}
    try:
        with (directory / fmt.CONSISTENCY).open("rb") as lines:
            for line in lines:
                proof = decoder.decode(line)
                proofs[(proof.first, proof.second)] = proof.proof
    except (OSError, msgspec.DecodeError) as e:
        raise _fail(f"{fmt.CONSISTENCY} cannot be read: {e}") from None
    return proofs


_NO_RECORD = (None, None, None, None, None)


def _record(line: fmt.ExportLine) -> RawRecord | None:
    fields = (line.position, line.stream_id, line.version, line.topic, line.state)
    if None not in fields:
        return RawRecord._make(fields)
    if fields == _NO_RECORD:
        return None
    raise _fail("the record's fields are partly missing", line.index)


def _decode(
    decoder: msgspec.json.Decoder[fmt.ExportLine], raw: list[bytes], number: int, expected: int
) -> list[fmt.ExportLine]:
    """A block of lines in one call; line by line only to say which one is malformed."""
    try:
        return decoder.decode_lines(b"".join(raw))
    except msgspec.DecodeError:
        for k, line in enumerate(raw):
            try:
                decoder.decode(line)
            except msgspec.DecodeError as e:
                raise _fail(
                    f"{fmt.RECORDS} line {number + k} is malformed: {e}", expected + k
                ) from None
        raise


def export_pages(path: Path) -> Iterator[Page]:
    decoder = msgspec.json.Decoder(fmt.ExportLine)
    start = 0
    records_ended = ledger_ended = False
    with path.open("rb") as source:
        while raw := list(islice(source, CHUNK)):
            records: list[RawRecord] = []
            ledger: list[tuple[int, bytes]] = []
            for expected, line in enumerate(_decode(decoder, raw, start + 1, start), start):
                if line.index != expected:
                    raise _fail(
                        f"{fmt.RECORDS} line {expected + 1} holds leaf {line.index}: lines were "
                        "removed, added or moved",
                        expected,
                    )
                record = _record(line)
                leaf = None if line.leaf_hash is None else (line.ledger_position, line.leaf_hash)
                # Records (and leaves) may stop before the other stream, never resume.
                if (record is not None and records_ended) or (leaf is not None and ledger_ended):
                    raise _fail("an earlier line lacks its record or its leaf", expected)
                if record is None:
                    records_ended = True
                else:
                    records.append(record)
                if leaf is None:
                    ledger_ended = True
                else:
                    ledger.append((-1 if leaf[0] is None else leaf[0], leaf[1]))
            yield Page(start, records, ledger)
            start += len(raw)


def verify_export(
    directory: Path,
    verifiers: Sequence[Verifier],
    external: Sequence[tuple[str, bytes]] = (),
    progress: Progress | None = None,
) -> VerifySummary:
    manifest = read_manifest(directory)
    checkpoints = open_checkpoints([*_notes(directory), *external], verifiers, manifest.origin)
    proofs = _proofs(directory)
    return check_log(
        export_pages(directory / fmt.RECORDS),
        checkpoints,
        lambda first, second: proofs.get((first, second)),
        manifest.records,
        progress,
    )
