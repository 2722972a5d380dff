"""What verification reports, and the pages it reads: shared by its sources."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from uuid import UUID

from infrastructure.ledger.db import RawRecord

NodeLookup = Callable[[Sequence[tuple[int, int, int]]], list[tuple[int, int, bytes]]]
"""Stored ``(level, idx, hash)`` for ``(level, start, end)`` ranges, ordered by level
then idx (live databases only)."""


class VerificationFailed(Exception):
    def __init__(self, index: int | None, reason: str) -> None:
        super().__init__(f"leaf {index}: {reason}" if index is not None else reason)
        self.index = index
        self.reason = reason


@dataclass(frozen=True, slots=True)
class TrustedCheckpoint:
    """A checkpoint whose signature was verified: ``label`` names it in reports."""

    label: str
    size: int
    root: bytes


@dataclass(frozen=True, slots=True)
class Page:
    """Records ``start .. start + len(records) - 1`` of the log, and what the ledger
    stored for the same indices: ``(position, leaf hash)``, or ``None`` when the
    source carries no ledger. Pages are ``CHUNK`` long but for the last ones."""

    start: int
    records: list[RawRecord]
    ledger: list[tuple[int, bytes]] | None


@dataclass(frozen=True, slots=True)
class CleanChunk:
    """Leaves from ``start`` (a multiple of ``CHUNK``), already found to be exactly
    what the ledger stored, nodes included (``whole_chunks``).

    A complete chunk comes as its root alone, and for each checkpoint size strictly
    inside it, the perfect subtrees from ``start`` up to that size (left to right),
    whose fold with the frontier before it is that checkpoint's root. The last,
    partial chunk of the log comes with its ``levels`` (``chunks.levels_of``)
    instead, as the tree keeps them until the chunk fills up.
    """

    start: int
    root: bytes
    last_position: int  # of the chunk's last record: the next chunk's records follow it
    inner: dict[int, list[bytes]]
    levels: list[list[bytes]] | None = None  # the partial last chunk only


def describe(record: RawRecord | None, stored: tuple[object, bytes] | None) -> str:
    """What differs at one index, from the positions of the record and of the ledger
    (an int, unless tampering stored a value of another type in SQLite)."""
    if record is None:
        return f"the record at position {stored[0]} is missing" if stored else "missing record"
    if stored is None:
        return f"the record at position {record.position} is not in the ledger"
    if not isinstance(stored[0], int):
        return (
            f"the ledger's position for the record at position {record.position} is {stored[0]!r}"
        )
    if record.position == stored[0]:
        return (
            f"the record at position {record.position} (stream {_stream(record.stream_id)}, "
            f"version {record.version}) was altered"
        )
    if record.position > stored[0]:
        return f"the record at position {stored[0]} is missing (deleted, or moved)"
    return f"a record at position {record.position}, never ledgered there, was inserted"


def first_difference(a: Sequence[object], b: Sequence[object]) -> int:
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return i
    return min(len(a), len(b))


def _stream(value: object) -> str:
    """A stream id in one form, whichever backend or export it came from."""
    try:
        return str(value if isinstance(value, UUID) else UUID(hex=str(value)))
    except ValueError:
        return repr(value)  # a tampered id: shown as it is
