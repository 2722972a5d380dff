"""``rete ledger export DIR``: the log, its checkpoints and the public key, for an
auditor to take away and verify offline (layout in ``export_format``).

Streaming: one page of records at a time. The manifest is written last, so a
directory without one is an interrupted export.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path
from uuid import UUID

import msgspec

from infrastructure.ledger import export_format as fmt
from infrastructure.ledger.db import LedgerTables, RawRecord
from infrastructure.ledger.follower import LedgerCorrupt
from infrastructure.ledger.merkle import LEAF_TAG
from infrastructure.ledger.note import Verifier
from infrastructure.ledger.sources import MISSING_LEAF, live_pages
from infrastructure.ledger.store import LedgerStore

Progress = Callable[[int, int], None]


class ExportError(Exception):
    """The export cannot be written where asked."""


@dataclass(frozen=True, slots=True)
class ExportSummary:
    records: int
    checkpoints: int
    ledger_size: int


def _line(index: int, record: RawRecord | None, leaf: tuple[int, bytes] | None) -> fmt.ExportLine:
    if leaf == MISSING_LEAF:
        leaf = None
    return fmt.ExportLine(
        index=index,
        position=record.position if record else None,
        stream_id=str(_uuid(record.stream_id)) if record else None,
        version=record.version if record else None,
        topic=record.topic if record else None,
        state=record.state if record else None,
        ledger_position=leaf[0] if leaf else None,
        leaf_hash=leaf[1] if leaf else None,
    )


def _uuid(value: object) -> UUID:
    # SQLite keeps the id as 32 hex digits, PostgreSQL as a uuid: one form in the export.
    return value if isinstance(value, UUID) else UUID(hex=str(value))


def _prepare(directory: Path) -> None:
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise ExportError(f"{directory} exists and is not an empty directory")
    try:
        # Only ciphertext leaves the database, but ids and times still say who
        # had a case when: the export is private to whoever made it.
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        (directory / fmt.CHECKPOINTS).mkdir(mode=0o700)
    except OSError as e:
        raise ExportError(f"cannot create {directory}: {e.strerror}") from None


def export_log(
    tables: LedgerTables,
    verifier: Verifier,
    directory: Path,
    progress: Progress | None = None,
) -> ExportSummary:
    _prepare(directory)
    with tables.read() as tx:
        # Checkpoints first: the head only grows, so it covers every one of them.
        checkpoints = tx.checkpoints()
        head = tx.head()
    for checkpoint in checkpoints:
        (directory / fmt.CHECKPOINTS / fmt.note_name(checkpoint.size)).write_bytes(checkpoint.note)
    _write_proofs(LedgerStore(tables), [c.size for c in checkpoints], directory / fmt.CONSISTENCY)
    (directory / fmt.PUBLIC_KEY).write_text(verifier.to_key_string() + "\n", encoding="utf-8")

    written = 0
    encode = msgspec.json.Encoder().encode
    with (directory / fmt.RECORDS).open("wb") as out:
        for page in live_pages(tables, head):
            ledger = page.ledger or []
            for j in range(max(len(page.records), len(ledger))):
                record = page.records[j] if j < len(page.records) else None
                leaf = ledger[j] if j < len(ledger) else None
                out.write(encode(_line(page.start + j, record, leaf)) + b"\n")
            written = page.start + max(len(page.records), len(ledger))
            if progress:
                progress(written, head.size)
        out.flush()
        os.fsync(out.fileno())

    manifest = fmt.Manifest(
        format=fmt.FORMAT,
        origin=verifier.name,
        leaf_layout=LEAF_TAG.decode("ascii"),
        ledger_size=head.size,
        records=written,
        checkpoints=[c.size for c in checkpoints],
        exported_at=datetime.now(UTC).isoformat(),
    )
    (directory / fmt.MANIFEST).write_bytes(msgspec.json.format(msgspec.json.encode(manifest)))
    return ExportSummary(written, len(checkpoints), head.size)


def _write_proofs(store: LedgerStore, sizes: list[int], path: Path) -> None:
    """Consistency proofs between consecutive checkpoints, from the stored nodes.
    A proof the ledger cannot build is left out: verification reports it."""
    encode = msgspec.json.Encoder().encode
    with path.open("wb") as out:
        for first, second in pairwise(sizes):
            try:
                proof = store.consistency_proof(first, second)
            except (LedgerCorrupt, ValueError):
                continue
            out.write(encode(fmt.ProofLine(first, second, proof)) + b"\n")
