"""The running ledger re-reads records it already hashed: the live tamper check.

``rete ledger verify`` rehashes every record; a running server cannot afford that
every second. At each checked follow step (``Ledger.catch_up``: the server's
ledger thread takes one every second and at each checkpoint; the steps a write
request nudges between them only append, ``periodic``) it compares, with the
leaves it stored:

- the ``NEWEST`` newest leaves, where a tamperer who deletes a case's last event
  (to write it again) or rewrites a recent note acts;
- a window of ``SWEEP`` older leaves that moves on at each step and wraps around,
  so that every hashed record is compared again within ``size / SWEEP`` steps
  (about an hour for a million records at one step a second).

A record that is there with other bytes (state, topic, stream or version) is
``log-record-altered``, a leaf whose record is gone ``log-record-vanished``, and a
record at a position inside the compared range that was never hashed
``log-record-inserted``. At each checkpoint ``count_check`` adds one count of the
records up to the head, which notices a record deleted anywhere (the one check
that covers the whole log; an index-only count, once per checkpoint interval).

Cost of a step: two range reads of at most ``NEWEST + SWEEP`` leaves and records,
and as many leaf hashes; nothing is written. docs/AUDIT.md says what this covers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from infrastructure.ledger.alarms import RECORD_ALTERED, RECORD_INSERTED, RECORD_VANISHED
from infrastructure.ledger.db import Head, LedgerTables, LedgerTx
from infrastructure.ledger.records import LeafHasher

NEWEST: Final = 32
SWEEP: Final = 256
# Records beyond the leaves' count read from a compared range: rows inserted into
# it show as extra positions.
_EXTRA: Final = 16


@dataclass(frozen=True, slots=True)
class Tamper:
    kind: str
    detail: str  # positions, leaf indices and ids only


class LiveCheck:
    """Thread-safe enough for one follower's lock: the ledger calls it under its own."""

    def __init__(self, tables: LedgerTables, newest: int = NEWEST, sweep: int = SWEEP) -> None:
        self._tables = tables
        self._newest = newest
        self._sweep = sweep
        self._cursor = 0

    def step(self) -> list[Tamper]:
        """Compare the newest leaves and the next window of older ones."""
        with self._tables.read() as tx:
            head = tx.head()
            if head.size == 0:
                return []
            older = max(0, head.size - self._newest)
            ranges = [(older, head.size)]
            if older:
                start = self._cursor % older
                end = min(start + self._sweep, older)
                self._cursor = end % older
                ranges.insert(0, (start, end))
            return [t for start, end in ranges for t in compare(tx, start, end)]

    def count_check(self) -> list[Tamper]:
        """Every record up to the head is still there: one count against the head."""
        with self._tables.read() as tx:
            head = tx.head()
            if head.size == 0:
                return []
            return _counted(head, tx.record_count(head.last_position))


def compare(tx: LedgerTx, start: int, end: int) -> list[Tamper]:
    """Leaves ``[start, end)`` against the records at their positions, as stored now."""
    leaves = tx.leaf_rows(start, end)
    if not leaves:
        return []  # the ledger's own rows are gone: `rete ledger verify` reports that
    first, last = leaves[0][1], leaves[-1][1]
    rows = tx.record_rows(first - 1, last, len(leaves) + _EXTRA)
    hashes = LeafHasher().hashes(rows)
    stored = {row[0]: (row, h) for row, h in zip(rows, hashes, strict=True)}
    found: list[Tamper] = []
    for index, position, leaf in leaves:
        now = stored.pop(position, None)
        if now is None:
            found.append(
                Tamper(
                    RECORD_VANISHED,
                    f"the record at position {position} (leaf {index}) is gone from the log",
                )
            )
        elif now[1] != leaf:
            _, stream, version, _, _ = now[0]
            found.append(
                Tamper(
                    RECORD_ALTERED,
                    f"the record at position {position} (leaf {index}; now stream "
                    f"{_stream(stream)} version {version}) differs from what the ledger "
                    "hashed",
                )
            )
    found.extend(
        Tamper(
            RECORD_INSERTED,
            f"a record at position {position}, among records the ledger hashed, was never hashed",
        )
        for position in sorted(stored)
    )
    return found


def _stream(value: object) -> str:
    try:
        return str(LeafHasher.stream_id(value))
    except (ValueError, TypeError):
        return "(not a stream id)"


def _counted(head: Head, count: int) -> list[Tamper]:
    if count < head.size:
        return [
            Tamper(
                RECORD_VANISHED,
                f"{head.size - count} of the {head.size} records the ledger hashed, up to "
                f"position {head.last_position}, are gone from the log",
            )
        ]
    if count > head.size:
        return [
            Tamper(
                RECORD_INSERTED,
                f"{count - head.size} records up to position {head.last_position} were "
                "never hashed",
            )
        ]
    return []
