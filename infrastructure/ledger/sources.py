"""The live log, page by page, as verification and export read it.

Records are read straight from the events table in notification order (the
same order ``select_notifications`` gives, without building an object per
row: verification reads every record there is), up to the ledger's head as it
was when reading began; the ledger's stored leaves are read for the same
indices. Both streams are paged by ``CHUNK``, so memory stays bounded.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence

from infrastructure.ledger.chunks import CHUNK
from infrastructure.ledger.db import Head, LedgerTables
from infrastructure.ledger.findings import NodeLookup, Page

# A leaf whose rows are gone reads as this: equal to no hash.
MISSING_LEAF = (-1, b"")


def live_pages(
    tables: LedgerTables, head: Head, start: int = 0, after: int = 0
) -> Generator[Page, None, None]:
    """Pages from leaf ``start`` (a multiple of ``CHUNK``), whose record is the first
    after position ``after``."""
    while True:
        end = min(start + CHUNK, head.size)
        with tables.read() as tx:
            records = tx.records(after, head.last_position, CHUNK)
            rows = tx.leaf_rows(start, end)
        ledger = _by_index(rows, start, end)
        if not records and not ledger:
            return
        yield Page(start, records, ledger)
        if len(records) < CHUNK and len(ledger) < CHUNK:
            return
        if records:
            after = records[-1].position
        start += CHUNK


def _by_index(rows: list[tuple[int, int, bytes]], start: int, end: int) -> list[tuple[int, bytes]]:
    """``(position, hash)`` for every index of ``[start, end)``: a deleted leaf row
    shows as a gap (``MISSING_LEAF``), not as a shift of the ones after it."""
    if len(rows) == max(0, end - start) and (not rows or rows[0][0] == start):
        return [(position, h) for _, position, h in rows]  # the usual case: all there
    found = {index: (position, h) for index, position, h in rows}
    return [found.get(i, MISSING_LEAF) for i in range(start, end)]


def node_lookup(tables: LedgerTables) -> NodeLookup:
    """Stored nodes by ranges, for ``LogVerifier``'s comparison of every node."""

    def lookup(ranges: Sequence[tuple[int, int, int]]) -> list[tuple[int, int, bytes]]:
        with tables.read() as tx:
            return tx.node_ranges(ranges)

    return lookup
