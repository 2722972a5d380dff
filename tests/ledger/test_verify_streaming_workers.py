"""Verification in worker processes streams the log: a worker is handed a range of
chunks, never records, reads its records a batch at a time, and hands back each
chunk's root; a record altered anywhere is still found, at its leaf, with four
workers (issue 14, done-when 3). On both backends.

The log: three complete chunks and a partial one of real sealed records (a
numbering sequence's events: cheap to write). Workers start from two complete
chunks on, one chunk per task, so that several tasks run at once in four workers.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pytest
from support.rawdb import RawDatabase

from application.rete import Rete
from domain.reference import ReferenceSequence
from infrastructure.ledger import whole_chunks
from infrastructure.ledger.chunks import CHUNK
from infrastructure.ledger.db import Head
from infrastructure.ledger.findings import VerificationFailed
from infrastructure.ledger.ledger import Ledger, open_ledger
from infrastructure.ledger.verification import verify_live
from infrastructure.settings import Settings
from infrastructure.store import ReteEventStore

TOTAL = 3 * CHUNK + 300
JOBS = 4


@dataclass
class Pools:
    """What verification handed its worker pools, and what came back."""

    started: int = 0
    tasks: list[tuple[Any, ...]] = field(default_factory=list)
    results: list[whole_chunks.ChunkRun] = field(default_factory=list)


def _log(settings: Settings, rete: Rete, records: int) -> Iterator[Ledger]:
    store = rete.ctx.store
    assert isinstance(store, ReteEventStore)
    sequence = ReferenceSequence.start("TEST", rete.ctx.clock.now())
    for n in range(1, records):
        sequence.issue(rete.ctx.clock.now())
        if n % 2000 == 0:
            store.save(sequence)
    store.save(sequence)
    with open_ledger(settings, store.recorder) as opened:
        opened.catch_up()
        opened.sign_checkpoint()
        yield opened


@pytest.fixture
def ledger(settings: Settings, rete: Rete) -> Iterator[Ledger]:
    yield from _log(settings, rete, TOTAL)


@pytest.fixture
def short_ledger(settings: Settings, rete: Rete) -> Iterator[Ledger]:
    yield from _log(settings, rete, 3000)


@pytest.fixture
def pools(monkeypatch: pytest.MonkeyPatch) -> Pools:
    monkeypatch.setattr(whole_chunks, "PARALLEL_MIN_CHUNKS", 2)
    monkeypatch.setattr(whole_chunks, "RUN_CHUNKS", 1)
    seen = Pools()

    class Watched(ProcessPoolExecutor):
        """The real pool, its tasks' arguments and results noted on the way."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            seen.started += 1
            super().__init__(*args, **kwargs)

        def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
            seen.tasks.append(args)
            future = super().submit(fn, *args, **kwargs)
            future.add_done_callback(self._noted)
            return future

        @staticmethod
        def _noted(done: Future[Any]) -> None:
            if done.exception() is None:
                seen.results.append(done.result())

    monkeypatch.setattr(whole_chunks, "ProcessPoolExecutor", Watched)
    return seen


def _verify(ledger: Ledger) -> int:
    summary = verify_live(ledger.tables, [ledger.verifier], ledger.verifier.name, jobs=JOBS)
    return summary.records


@pytest.mark.long
def test_four_workers_get_ranges_give_back_roots_and_find_an_altered_record(
    ledger: Ledger, pools: Pools, backend: dict[str, str]
) -> None:
    assert _verify(ledger) == TOTAL
    assert pools.started == 1
    # Each task: its first chunk's number, how many chunks, the ledger's last
    # position, and the checkpoint sizes inside it. Numbers only, whatever the log holds.
    assert sorted(task[0] for task in pools.tasks) == list(range(TOTAL // CHUNK))
    for task in pools.tasks:
        first, count, stop, sizes = task
        assert (count, sizes) == (1, [])
        assert isinstance(first, int) and isinstance(stop, int)
    # Back: a root per chunk, not its leaves nor its records.
    assert len(pools.results) == TOTAL // CHUNK
    for run in pools.results:
        assert run.complete
        [chunk] = run.chunks
        assert len(chunk.root) == 32 and chunk.levels is None and chunk.inner == {}

    raw = RawDatabase(backend)
    rows = raw.rows()
    # In the first chunk, a middle one, the last complete one, and the partial tail.
    for index in (0, CHUNK + 77, 3 * CHUNK - 1, TOTAL - 1):
        row = rows[index]
        altered = bytes([row.state[0] ^ 1]) + row.state[1:]
        with raw.altered(row, state=altered), pytest.raises(VerificationFailed) as failed:
            _verify(ledger)
        assert failed.value.index == index
        assert "was altered" in failed.value.reason
        assert "the stored record differs from the one checkpoint 1" in failed.value.reason
    assert pools.started == 5
    assert _verify(ledger) == TOTAL  # all restored


def test_records_stream_in_batches_equal_to_the_whole_read(short_ledger: Ledger) -> None:
    with short_ledger.tables.read() as tx:
        head: Head = tx.head()
        whole = tx.record_rows(0, head.last_position, 2500)
        batches = list(tx.record_batches(0, head.last_position, 2500, 1000))
        tail = list(tx.record_batches(whole[-1][0], head.last_position, 2500, 1000))
    assert [len(b) for b in batches] == [1000, 1000, 500]
    assert [row for batch in batches for row in batch] == whole
    assert [len(b) for b in tail] == [500]  # the rest, from where the first read ended
