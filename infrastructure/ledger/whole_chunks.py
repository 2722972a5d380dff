"""Verification's fast path: whole chunks of the live log checked at once, in this
process or in a pool of worker processes.

An aligned, complete chunk (``CHUNK`` leaves) is *clean* when its records hash to
exactly the leaves the ledger stored, the positions the ledger keeps beside them
are the records' own, and every node the ledger stored within the chunk (levels
0 to ``CHUNK_LEVEL``) is the one recomputed from the records. Verification then
needs nothing more of the chunk than a ``CleanChunk``: its root, and the
subtrees up to any checkpoint inside it (``LogVerifier.feed_clean``). The log's
last, partial chunk is checked the same way, and handed over with its levels.

Every leaf is still recomputed from the stored bytes and every stored node still
compared; what is saved is the objects: the database concatenates the chunk's
stored nodes and positions into two values (``LedgerTx.stored_chunk``) instead
of a row per node. This path only ever says "exactly as stored": at the first
chunk that is not clean it stops, and that chunk and the rest of the log go
through the row-by-row path (``live_pages`` and ``LogVerifier.feed``), which
locates and explains the divergence as it always did. So the verdict, the first
bad index and the reason are those of the row-by-row path, whichever path ran.

Parallel verification: the complete chunks are cut into runs of ``RUN_CHUNKS``
chunks, each checked by a worker process on its own connection, starting after
the position the ledger stored for the leaf before the run. The parent takes the
runs in order and checks that each started right after the last record of the
run before (so the runs read exactly the records one reader would), then feeds
their chunks to the verifier. Runs in flight are bounded, so memory is too.
"""

from __future__ import annotations

import gc
import hashlib
import multiprocessing
import platform
from collections import deque
from collections.abc import Generator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import closing
from dataclasses import dataclass
from itertools import chain
from multiprocessing.context import BaseContext
from multiprocessing.util import Finalize
from typing import Final

from infrastructure.ledger.chunks import CHUNK, levels_of
from infrastructure.ledger.db import Head, LedgerTables, LedgerTx, TablesAddress, open_tables
from infrastructure.ledger.findings import CleanChunk
from infrastructure.ledger.merkle import HASH_SIZE, NodeId, range_node_ids
from infrastructure.ledger.records import LeafHasher
from infrastructure.orphans import end_with_parent

RUN_CHUNKS: Final = 4
"""Chunks per worker task: small enough to keep both workers busy to the end and
the progress bar moving, large enough that a task's overhead does not show."""

PARALLEL_MIN_CHUNKS: Final = 8
"""Below this many complete chunks, starting workers costs more than it saves
(measured: at 4 chunks, 20,000 records, two workers took 15% longer than one
process on SQLite)."""

BATCH: Final = 512
"""Records read and hashed at a time within a chunk: a worker holds this many row
objects, not a chunk's (a batch of 512 costs no more time than a whole chunk)."""

NO_POSITION: Final = -1  # the ledger has no position for a run's previous leaf


@dataclass(frozen=True, slots=True)
class ChunkRun:
    """What one task found: the clean chunks from its first one, in order, up to the
    first that is not clean (``complete`` when there was none)."""

    after: int  # the position its first chunk's records were read after
    chunks: list[CleanChunk]
    complete: bool


def check_chunk(
    tx: LedgerTx,
    hasher: LeafHasher,
    start: int,
    after: int,
    stop: int,
    sizes: Sequence[int],
    size: int = CHUNK,
) -> CleanChunk | None:
    """The chunk of ``size`` leaves from ``start``, its records read after position
    ``after`` (up to ``stop``, the ledger's last position), if clean; ``None`` if
    anything differs, or is missing, or is more than the chunk. A chunk of fewer
    than ``CHUNK`` leaves is the log's last and comes with its levels."""
    # Streamed: a batch of row objects at a time, each reduced at once to its leaf
    # hash and its position's text; what the chunk keeps is those.
    hashes: list[bytes] = []
    positions: list[str] = []
    last = after
    # Closed here, whatever happens: its statement (a server-side cursor on
    # PostgreSQL) must not outlive this read.
    with closing(tx.record_batches(after, stop, CHUNK, BATCH)) as batches:
        for rows in batches:
            hashes += hasher.hashes(rows)
            positions.append(",".join([str(row[0]) for row in rows]))
            last = rows[-1][0]
    if len(hashes) != size:
        return None
    stored = tx.stored_chunk(start, size)
    if stored.nodes is None or stored.positions != ",".join(positions):
        return None
    if size < CHUNK:
        levels = levels_of(hashes)
        # Two comparisons of long byte strings, in C: the cheap way to say "all equal".
        if stored.nodes != b"".join(chain.from_iterable(levels)):
            return None
        return CleanChunk(start, b"", last, {}, levels)
    wanted = {s: range_node_ids(start, s) for s in sizes if start < s < start + CHUNK}
    tree = _tree_as_stored(hashes, stored.nodes, start, {n for ids in wanted.values() for n in ids})
    if tree is None:
        return None
    root, nodes = tree
    return CleanChunk(start, root, last, {s: [nodes[n] for n in ids] for s, ids in wanted.items()})


def _tree_as_stored(
    leaves: list[bytes], stored: bytes, start: int, wanted: set[NodeId]
) -> tuple[bytes, dict[NodeId, bytes]] | None:
    """The root of the complete chunk over ``leaves`` (from leaf ``start``) and its
    ``wanted`` nodes, if each level of its tree is the stored one (``stored``: every
    level's hashes, level 0 first, as ``LedgerTx.stored_chunk`` gives them); None at
    the first level that is not. Level by level, each compared and let go as the
    next is hashed: a worker holds the leaves and two levels, not all 8,191 nodes."""
    sha = hashlib.sha256
    picked: dict[NodeId, bytes] = {}
    level, number, offset = leaves, 0, 0
    while True:
        end = offset + HASH_SIZE * len(level)
        if stored[offset:end] != b"".join(level):  # one comparison in C per level
            return None
        for node in wanted:
            if node.level == number:
                picked[node] = level[node.index - (start >> number)]
        offset = end
        if len(level) == 1:
            break
        # As ``chunks.levels_of``: pairs (0, 1), (2, 3)... of a power of two.
        pairs = iter(level)
        level = [
            sha(b"\x01" + left + right).digest() for left, right in zip(pairs, pairs, strict=True)
        ]
        number += 1
    if offset != len(stored):
        return None
    return level[0], picked


def check_run(
    tables: LedgerTables, first: int, count: int, after: int, stop: int, sizes: Sequence[int]
) -> ChunkRun:
    """Chunks ``first .. first + count - 1`` (by number), stopping at one not clean."""
    hasher, cursor = LeafHasher(), after
    chunks: list[CleanChunk] = []
    for number in range(first, first + count):
        # One read per chunk, as the row-by-row path: no long-lived snapshot to hold.
        with tables.read() as tx:
            chunk = check_chunk(tx, hasher, number * CHUNK, cursor, stop, sizes)
        if chunk is None:
            return ChunkRun(after, chunks, complete=False)
        chunks.append(chunk)
        cursor = chunk.last_position
    return ChunkRun(after, chunks, complete=True)


def clean_chunks(
    tables: LedgerTables, head: Head, sizes: Sequence[int], jobs: int = 1
) -> Generator[CleanChunk, None, None]:
    """The clean chunks from the start of the log, in order, up to the first chunk
    that is not clean (or the end of the log): in ``jobs`` worker processes when
    there are enough of them and the tables can be reopened elsewhere. The last,
    partial chunk is checked here, once every complete one was clean."""
    complete, stop = head.size // CHUNK, head.last_position
    if jobs > 1 and complete >= PARALLEL_MIN_CHUNKS and tables.address is not None:
        whole = _in_pool(tables.address, complete, stop, sizes, jobs)
    else:
        whole = _in_process(tables, complete, stop, sizes)
    after, clean = 0, 0
    with closing(whole):  # stops the workers, should the caller stop early
        for chunk in whole:
            yield chunk
            after, clean = chunk.last_position, clean + 1
    if clean == complete and head.size % CHUNK:
        with tables.read() as tx:
            last = check_chunk(
                tx, LeafHasher(), complete * CHUNK, after, stop, sizes, head.size % CHUNK
            )
        if last is not None:
            yield last


def _in_process(
    tables: LedgerTables, complete: int, stop: int, sizes: Sequence[int]
) -> Generator[CleanChunk, None, None]:
    after = 0
    for number in range(complete):
        run = check_run(tables, number, 1, after, stop, sizes)
        if not run.complete:
            return
        yield run.chunks[0]
        after = run.chunks[0].last_position


def _in_pool(
    address: TablesAddress, complete: int, stop: int, sizes: Sequence[int], jobs: int
) -> Generator[CleanChunk, None, None]:
    tasks = iter(range(0, complete, RUN_CHUNKS))
    # The workers fork at the first task and share this process's pages until they
    # write to one. A collection of the oldest generation in a worker writes to
    # every object's header, copying nearly all of them (measured: 16 MiB more per
    # PostgreSQL worker, whose pool's start sets one off). Frozen objects are never
    # collected there, nor here until unfrozen.
    frozen = gc.get_freeze_count() == 0
    if frozen:
        gc.freeze()
    pool = ProcessPoolExecutor(
        jobs, mp_context=_context(), initializer=_open_worker, initargs=(address,)
    )
    try:
        pending: deque[Future[ChunkRun]] = deque()

        def submit() -> None:
            first = next(tasks, None)
            if first is not None:
                count = min(RUN_CHUNKS, complete - first)
                end = (first + count) * CHUNK
                mine = [s for s in sizes if first * CHUNK < s < end]
                pending.append(pool.submit(_worker_run, first, count, stop, mine))

        for _ in range(2 * jobs):  # two runs per worker in flight: none waits for work
            submit()
        after = 0
        while pending:
            run = pending.popleft().result()
            submit()
            if run.after != after:  # not where the run before ended: read it row by row
                return
            yield from run.chunks
            if not run.complete:
                return
            after = run.chunks[-1].last_position
    except BrokenProcessPool:
        return  # a worker died (killed, out of memory): this process goes on alone
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        if frozen:
            gc.unfreeze()


def _context() -> BaseContext:
    # fork: a worker starts in milliseconds, where spawning one re-imports the
    # application (a large part of a short verification). Workers touch nothing
    # inherited but this module's functions: each opens its own connection.
    # (Elsewhere, macOS above all, forking a process with threads is unsafe.)
    return multiprocessing.get_context("fork" if platform.system() == "Linux" else None)


_worker_tables: LedgerTables | None = None


def _open_worker(address: TablesAddress) -> None:
    global _worker_tables
    end_with_parent()  # a killed verification leaves no worker waiting for work
    _worker_tables = open_tables(address.database_url, address.events_table, create=False)
    with _worker_tables.read() as tx:
        tx.scan_once()
    # Closed when the worker exits, so the server sees a goodbye, not a dropped socket.
    Finalize(_worker_tables, _worker_tables.close, exitpriority=10)


def _worker_run(first: int, count: int, stop: int, sizes: list[int]) -> ChunkRun:
    assert _worker_tables is not None, "the pool's initializer opens the tables"
    after: int | None = 0
    if first:
        with _worker_tables.read() as tx:
            after = tx.position(first * CHUNK - 1)
    if after is None:  # the parent will find the run does not follow the one before
        return ChunkRun(NO_POSITION, [], complete=False)
    return check_run(_worker_tables, first, count, after, stop, sizes)
