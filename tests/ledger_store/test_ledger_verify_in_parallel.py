"""Whole-chunk verification, in this process or in worker processes, reaches the
verdict of the row-by-row path: the same first bad index and the same reason,
whatever was tampered with and wherever (issue 4, "done when" 6).

The log: three complete chunks and a partial one (a few cases, then a numbering
sequence's events: cheap to write, real sealed records), under checkpoints inside
chunks and on their boundaries, with a tail no checkpoint covers.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

import pytest
from click.testing import CliRunner, Result
from ledger_store_support import EventsTable, Row, flip, write_cases
from support.clock import TestClock
from support.processes import all_ended, kill_when_working

from api.cli import main
from application.rete import Rete
from domain.reference import ReferenceSequence
from infrastructure.bootstrap import build_rete
from infrastructure.ledger import verification, whole_chunks
from infrastructure.ledger.chunks import CHUNK
from infrastructure.ledger.findings import CleanChunk, VerificationFailed
from infrastructure.ledger.ledger import Ledger, open_ledger
from infrastructure.ledger.verification import VerifySummary, verify_live
from infrastructure.settings import load_settings
from infrastructure.store import ReteEventStore

# A log of three chunks is filled once per module and verified every way (started first).
pytestmark = pytest.mark.long

CHILD = Path(__file__).with_name("verify_crash_child.py")
CHECKPOINTS = (300, CHUNK, 2 * CHUNK + 808, 3 * CHUNK)
TOTAL = 3 * CHUNK + 500

# The three ways to verify: row by row (the reference), whole chunks in this
# process, whole chunks in two worker processes.
WAYS = {"rows": (1, False), "chunks": (1, True), "workers": (2, True)}

Outcome = tuple[int | None, str] | tuple[int, int | None]


@dataclass
class Log:
    ledger: Ledger
    events: EventsTable
    rows: list[Row]

    def verify(self, way: str) -> VerifySummary:
        jobs, whole = WAYS[way]
        ledger = self.ledger
        return verify_live(
            ledger.tables, [ledger.verifier], ledger.verifier.name, jobs=jobs, whole_chunks=whole
        )

    def outcomes(self) -> dict[str, Outcome]:
        found: dict[str, Outcome] = {}
        for way in WAYS:
            try:
                summary = self.verify(way)
            except VerificationFailed as failure:
                found[way] = (failure.index, failure.reason)
            else:
                found[way] = (summary.records, summary.latest.size if summary.latest else None)
        return found

    def same_failure(self, index: int) -> None:
        """Every way fails, at ``index``, for the same reason."""
        found = self.outcomes()
        assert found["rows"][0] == index, found["rows"]
        assert isinstance(found["rows"][1], str)
        assert found["chunks"] == found["rows"]
        assert found["workers"] == found["rows"]


def _grow(rete: Rete, sequence: ReferenceSequence, have: int, size: int) -> int:
    """Issue numbers until the log holds ``size`` records, saving every thousand."""
    while have < size:
        sequence.issue(rete.ctx.clock.now())
        have += 1
        if have % 1000 == 0 or have == size:
            rete.ctx.store.save(sequence)
    return have


@pytest.fixture(scope="module")
def built(
    module_backend: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Log, dict[str, str]]]:
    """The log, written once per module and backend (13,000 sealed records take most of
    a test's time): every test leaves it as it found it (``EventsTable.tampered``
    restores the rows; the ledger tables' test puts back what it altered). Also the
    settings' environment, for the CLI."""
    env = {
        "RETE_DATABASE_URL": module_backend["RETE_DATABASE_URL"],
        "RETE_VAR_DIR": str(tmp_path_factory.mktemp("var")),
        "RETE_CHECKPOINT_INTERVAL": "0",
        "RETE_DATABASE_POOL_SIZE": os.environ["RETE_DATABASE_POOL_SIZE"],
    }
    settings = load_settings(env)
    rete = build_rete(settings, clock=TestClock())
    store = rete.ctx.store
    assert isinstance(store, ReteEventStore)
    ledger = open_ledger(settings, store.recorder)
    try:
        events = EventsTable(module_backend)
        have = write_cases(rete, 3, 99)
        ledger.sign_checkpoint()
        sequence = ReferenceSequence.start("TEST", rete.ctx.clock.now())
        rete.ctx.store.save(sequence)
        have += 1
        for size in (*CHECKPOINTS[1:], TOTAL):
            have = _grow(rete, sequence, have, size)
            if size in CHECKPOINTS:
                ledger.sign_checkpoint()
        ledger.catch_up()
        assert [c.size for c in ledger.store.checkpoints()] == list(CHECKPOINTS)
        rows = events.rows()
        assert len(rows) == TOTAL
        yield Log(ledger, events, rows), env
    finally:
        ledger.close()
        rete.close()


@pytest.fixture
def log(built: tuple[Log, dict[str, str]], monkeypatch: pytest.MonkeyPatch) -> Log:
    # Workers from two complete chunks on, one chunk per task: several tasks, so
    # the order of their results and where each starts are exercised too.
    monkeypatch.setattr(whole_chunks, "PARALLEL_MIN_CHUNKS", 2)
    monkeypatch.setattr(whole_chunks, "RUN_CHUNKS", 1)
    return built[0]


@pytest.fixture
def pools(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """How many worker pools verification started."""
    started: list[int] = []
    real = whole_chunks.ProcessPoolExecutor

    def counting(*args: object, **kwargs: object) -> object:
        started.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(whole_chunks, "ProcessPoolExecutor", counting)
    yield started


def test_an_intact_log_verifies_the_same_every_way_all_its_chunks_whole(
    log: Log, pools: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    fed: list[int] = []
    real = verification.clean_chunks

    def counted(*args: object, **kwargs: object) -> Iterator[CleanChunk]:
        for chunk in real(*args, **kwargs):  # type: ignore[arg-type]
            fed.append(chunk.start)
            yield chunk

    monkeypatch.setattr(verification, "clean_chunks", counted)
    found = log.outcomes()
    assert found == dict.fromkeys(WAYS, (TOTAL, CHECKPOINTS[-1]))
    # In this process, then from the workers; the partial last chunk in this process.
    assert fed == [0, CHUNK, 2 * CHUNK, 3 * CHUNK] * 2
    assert pools == [1]


def _altered(log: Log, index: int) -> list[Row]:
    rows = list(log.rows)
    position, oid, version, topic, state = rows[index]
    rows[index] = (position, oid, version, topic, flip(state, 5))
    return rows


def test_an_altered_record_is_found_at_the_same_leaf_every_way(log: Log) -> None:
    # Chunk edges, checkpoint edges, and the tail no checkpoint covers.
    for index in (0, 299, 300, CHUNK - 1, CHUNK, 2 * CHUNK + 807, 2 * CHUNK + 808, 3 * CHUNK + 9):
        with log.events.tampered(_altered(log, index)):
            log.same_failure(index)


def test_deleted_inserted_and_swapped_records_are_found_every_way(log: Log) -> None:
    index = CHUNK + 17
    with log.events.tampered(log.rows[:index] + log.rows[index + 1 :]):
        log.same_failure(index)
    # A genuine record's payload under another stream, inserted: the rest move on.
    forged: Row = (log.rows[index][0], str(UUID(int=43)), *log.rows[3][2:])
    later = [(p + 1, o, v, t, b) for p, o, v, t, b in log.rows[index:]]
    with log.events.tampered([*log.rows[:index], forged, *later]):
        log.same_failure(index)
    rows = list(log.rows)
    i, j = 2 * CHUNK + 5, 2 * CHUNK + 900
    rows[i], rows[j] = (rows[i][0], *rows[j][1:]), (rows[j][0], *rows[i][1:])
    with log.events.tampered(rows):
        log.same_failure(i)


# (table, rows, tampering, first bad index): a leaf, inner nodes within a chunk,
# a chunk's root, a node above the chunks, a position, a deleted leaf (the one
# before a worker's first chunk), a deleted node, a node of the partial chunk.
LEDGER_TAMPERING = [
    ("nodes", "level = 0 AND idx = 5000", "UPDATE {t} SET hash = ? WHERE {w}", 5000),
    ("nodes", "level = 5 AND idx = 200", "UPDATE {t} SET hash = ? WHERE {w}", 200 << 5),
    ("nodes", "level = 12 AND idx = 2", "UPDATE {t} SET hash = ? WHERE {w}", 2 * CHUNK),
    ("nodes", "level = 13 AND idx = 0", "UPDATE {t} SET hash = ? WHERE {w}", 0),
    ("leaves", "idx = 9000", "UPDATE {t} SET position = position + 1 WHERE {w}", 9000),
    ("leaves", "idx = 8191", "DELETE FROM {t} WHERE {w}", 8191),
    ("nodes", "level = 3 AND idx = 600", "DELETE FROM {t} WHERE {w}", 600 << 3),
    # In the partial last chunk, which no checkpoint covers.
    (
        "nodes",
        f"level = 2 AND idx = {(3 * CHUNK + 100) >> 2}",
        "UPDATE {t} SET hash = ? WHERE {w}",
        3 * CHUNK + 100,
    ),
]


# SQLite keeps any type in any column: a position stored as a blob of its digits
# reads back as bytes, not as the record's position (both engines concatenate it
# to the same text, so whole-chunk checking must refuse the type, as rows do).
SQLITE_TYPE_TAMPERING = [
    (
        "leaves",
        "idx = 7000",
        "UPDATE {t} SET position = CAST(CAST(position AS TEXT) AS BLOB) WHERE {w}",
        7000,
    ),
]


def test_tampering_with_the_ledger_tables_is_found_the_same_every_way(log: Log) -> None:
    events = log.events
    extra = SQLITE_TYPE_TAMPERING if events.sqlite else []
    for name, where, tampering, index in [*LEDGER_TAMPERING, *extra]:
        table = events.table(f"rete_ledger_{name}")
        columns = "level, idx, hash" if name == "nodes" else "idx, position"
        saved = events.execute(f"SELECT {columns} FROM {table} WHERE {where}")
        statement = tampering.format(t=table, w=where)
        events.execute(statement, (b"\x07" * 32,) if "?" in statement else ())
        log.same_failure(index)
        events.execute(f"DELETE FROM {table} WHERE {where}")
        marks = ", ".join("?" * len(saved[0]))
        for row in saved:
            events.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks})", tuple(row))
    assert log.outcomes()["workers"] == (TOTAL, CHECKPOINTS[-1])  # all restored


def test_rete_ledger_verify_jobs_uses_the_workers_and_reports_as_ever(
    log: Log, built: tuple[Log, dict[str, str]], pools: list[int]
) -> None:
    ledger_env = built[1]

    def rete_verify(*args: str) -> Result:
        return CliRunner().invoke(
            main, ["ledger", "verify", *args], env=ledger_env, catch_exceptions=False
        )

    result = rete_verify("--jobs", "2")
    assert result.exit_code == 0, result.output
    assert f"OK: {TOTAL} records, {len(CHECKPOINTS)} checkpoint(s) verified" in result.stdout
    assert f"{TOTAL}/{TOTAL}" in result.stderr  # the progress bar reached the end
    assert pools == [1]
    assert rete_verify("--jobs", "1").exit_code == 0
    assert pools == [1]  # one process only
    with log.events.tampered(_altered(log, 2 * CHUNK + 1)):
        failed = rete_verify("--jobs", "2")
    assert failed.exit_code == 1
    assert f"FAILED: leaf {2 * CHUNK + 1}: the record at position" in failed.stderr
    assert rete_verify("--jobs", "0").exit_code == 2  # a usage error


def test_a_verification_whose_process_is_killed_leaves_no_worker_behind(
    built: tuple[Log, dict[str, str]],
) -> None:
    """SIGKILL on ``rete ledger verify --jobs 2`` while its workers check chunks: the
    workers end within a second or so, rather than wait for their next task for
    ever, holding their connections."""
    workers = kill_when_working([str(CHILD)], built[1])
    assert all_ended(workers, within=5), "a worker outlived its verification"
