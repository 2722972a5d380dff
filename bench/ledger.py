"""``rete ledger verify`` against SHA-256 of the same leaves in a tight loop, in one run.

A store is filled with real sealed records (a numbering sequence's events,
saved a thousand at a time: cheap to write, the same on-disk records as any
other), the ledger follows it and signs a checkpoint. Then, for each number of
worker processes (``--jobs``, by default 1, 2 and 16), both are timed,
interleaved: the whole live verification as ``rete ledger verify`` runs it
(every record re-read, every leaf re-hashed, the tree rebuilt and compared with
the checkpoint and every stored node), and ``sha256(0x00 || leaf)`` over the same
leaves, precomputed. Also the proofs at that size, served from stored nodes.

Peak memory is that of one more verification: the real command, ``rete ledger
verify --jobs N``, in a process of its own, as proportional set size (PSS: each
page shared between processes counted once, split among them): the sum of the
``Pss`` of the command and of every worker, sampled every 20 ms while it runs.

``python -m bench.ledger`` runs this part alone (``--records 1000000`` is what
``make bench-full`` measures; ``--keep DIR`` builds the filled log once, a SQLite
file in DIR or a PostgreSQL schema named after the size, and reuses it in later
runs), and ``--breakdown`` says where one process's time goes, per record.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import chain
from pathlib import Path
from typing import Final

import psycopg
from psycopg import sql
from rich.console import Console
from rich.table import Table

from bench.backends import Backend, Storage, add_backend_options, chosen_backends
from bench.stories import rete_settings
from bench.tables import by_backend
from domain.reference import ReferenceSequence
from infrastructure.bootstrap import build_store
from infrastructure.ledger.chunks import CHUNK, levels_of
from infrastructure.ledger.db import LedgerTables
from infrastructure.ledger.ledger import open_ledger
from infrastructure.ledger.merkle import encode_leaf
from infrastructure.ledger.records import LeafHasher
from infrastructure.ledger.signing import load_signing_key
from infrastructure.ledger.store import LedgerStore
from infrastructure.ledger.verification import verify_live
from infrastructure.ledger.whole_chunks import BATCH
from infrastructure.settings import Settings
from infrastructure.store import ReteEventStore

JOBS: Final = (1, 2, 16)
"""Worker processes measured: one, the cores here, and the issue's memory bound."""

SAMPLE_S: Final = 0.02  # how often the command's memory is sampled


@dataclass(frozen=True)
class LedgerResult:
    backend: str
    records: int
    jobs: int
    verify_s: float
    baseline_s: float
    inclusion_ms: float
    consistency_ms: float
    peak_pss_mib: float  # ``rete ledger verify --jobs N``: the command and its workers
    processes: int  # how many there were when the peak was sampled
    load: float  # the machine's 1-minute load average before the timed rounds
    verify_cpu_s: float = 0.0  # CPU of this process and of its workers (not the server's)
    baseline_cpu_s: float = 0.0

    @property
    def ratio(self) -> float:
        return self.baseline_s / self.verify_s

    @property
    def idle_ratio(self) -> float:
        """The ratio were the machine idle: the baseline's CPU time against the
        verification's CPU time spread over ``min(jobs, CPUs)`` cores. An estimate for
        a loaded machine, where the timed ratio says more about the load than about
        verification; on PostgreSQL it leaves out the server's share."""
        cores = min(self.jobs, os.cpu_count() or 1)
        return self.baseline_cpu_s / (self.verify_cpu_s / cores) if self.verify_cpu_s else 0.0


def _cpu_s() -> float:
    """CPU seconds of this process and of its children that ended (the workers, once
    their pool is shut down)."""
    own, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _fill(store: object, records: int) -> None:
    at = datetime.now(UTC)
    sequence = ReferenceSequence.start("BENCH", at)
    for n in range(records - 1):
        sequence.issue(at)
        if n % 1000 == 999:
            store.save(sequence)  # type: ignore[attr-defined]
    store.save(sequence)  # type: ignore[attr-defined]


def _leaves(store: object) -> list[bytes]:
    recorder = store.recorder  # type: ignore[attr-defined]
    leaves, start = [], 1
    while batch := recorder.select_notifications(start=start, limit=5000):
        for n in batch:
            digest = hashlib.sha256(n.state).digest()
            leaves.append(encode_leaf(n.id, n.originator_id, n.originator_version, n.topic, digest))
        start = batch[-1].id + 1
    return leaves


def _baseline(leaves: list[bytes]) -> float:
    """RFC 6962 leaf hashes of the same leaves, nothing else: the issue's yardstick."""
    sha = hashlib.sha256
    start = time.perf_counter()
    for leaf in leaves:
        sha(b"\x00" + leaf).digest()
    return time.perf_counter() - start


def _proof_ms(store: LedgerStore, size: int, calls: int = 200) -> tuple[float, float]:
    start = time.perf_counter()
    for k in range(calls):
        store.inclusion_proof((k * 7919) % size, size)
    inclusion = (time.perf_counter() - start) / calls * 1e3
    start = time.perf_counter()
    for k in range(calls):
        store.consistency_proof(1 + (k * 7919) % (size - 1), size)
    return inclusion, (time.perf_counter() - start) / calls * 1e3


def _pss_kib(pid: int) -> int:
    """``Pss`` of one process (0 once it is gone)."""
    try:
        rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0
    return next(
        (int(line.split()[1]) for line in rollup.splitlines() if line.startswith("Pss:")), 0
    )


def _descendants(pid: int) -> list[int]:
    """The process and every process it started, still running."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        try:
            threads = os.listdir(f"/proc/{current}/task")
        except OSError:
            continue
        for thread in threads:
            with suppress(OSError):
                todo += [
                    int(c)
                    for c in Path(f"/proc/{current}/task/{thread}/children").read_text().split()
                ]
    return found


def peak_pss(settings: Settings, jobs: int) -> tuple[float, int]:
    """``rete ledger verify --jobs N`` on the live database, in a process of its own:
    the peak, over the run, of the sum of the PSS of the command and of its workers
    (MiB), and how many processes that sum covered. Linux only (``smaps_rollup``)."""
    env = {
        **os.environ,
        "RETE_DATABASE_URL": settings.database_url,
        "RETE_VAR_DIR": str(settings.var_dir),
    }
    command = [sys.executable, "-c", "from api.cli import main; main()", "ledger", "verify"]
    child = subprocess.Popen(
        [*command, "--jobs", str(jobs)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    peak, processes = 0, 1
    while child.poll() is None:
        pids = _descendants(child.pid)
        total = sum(_pss_kib(pid) for pid in pids)
        if total > peak:
            peak, processes = total, len(pids)
        time.sleep(SAMPLE_S)
    _, err = child.communicate()
    if child.returncode != 0:
        raise RuntimeError(f"rete ledger verify failed: {err.decode(errors='replace')[-2000:]}")
    return peak / 1024, processes


@dataclass(frozen=True)
class _Filled:
    settings: Settings
    store: ReteEventStore
    leaves: list[bytes]


@contextmanager
def _storage(backend: Backend, records: int, keep: Path | None) -> Iterator[Storage]:
    """Fresh storage, dropped afterwards; or, with ``keep``, the log of this size kept
    there from an earlier run (a SQLite file in ``keep``, a PostgreSQL schema named
    after the size), built on first use and left for the next run."""
    if keep is None:
        with backend.fresh() as storage:
            yield storage
        return
    keep.mkdir(parents=True, exist_ok=True)
    if backend.server_url is None:
        yield Storage(f"sqlite:///{keep / f'ledger-{records}.sqlite'}", keep)
        return
    schema = f"bench_ledger_{records}"
    with psycopg.connect(backend.server_url, autocommit=True, connect_timeout=5) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
    yield Storage(f"{backend.server_url}?schema={schema}", keep)


@contextmanager
def _filled(backend: Backend, records: int, keep: Path | None = None) -> Iterator[_Filled]:
    """A database of ``backend`` holding ``records`` events (filled now, or kept from
    an earlier run), its store open (closed after the block), and the ledger's
    leaves of those events."""
    with _storage(backend, records, keep) as storage:
        settings = rete_settings(storage.database_url, storage.var_dir)
        store = build_store(settings)
        try:
            have = store.recorder.max_notification_id() or 0
            if have == 0:
                _fill(store, records)
            elif have != records:
                raise SystemExit(
                    f"{storage.database_url} holds {have} records, not {records}: "
                    "remove it (an interrupted fill?) or keep elsewhere"
                )
            yield _Filled(settings, store, _leaves(store))
        finally:
            store.close()


def measure(
    backend: Backend,
    records: int,
    repeat: int,
    jobs: Sequence[int] = JOBS,
    keep: Path | None = None,
) -> list[LedgerResult]:
    results = []
    with _filled(backend, records, keep) as filled:
        settings, leaves = filled.settings, filled.leaves
        with open_ledger(settings, filled.store.recorder) as ledger:
            ledger.catch_up()
            ledger.sign_checkpoint()
            verifier = load_signing_key(settings).signer.verifier()
            inclusion, consistency = _proof_ms(LedgerStore(ledger.tables), len(leaves))
            for n in jobs:
                load = os.getloadavg()[0]
                ours, base, ours_cpu, base_cpu = [], [], [], []
                for _ in range(repeat):
                    start, cpu = time.perf_counter(), _cpu_s()
                    verify_live(ledger.tables, [verifier], settings.ledger_origin, jobs=n)
                    ours.append(time.perf_counter() - start)
                    ours_cpu.append(_cpu_s() - cpu)
                    cpu = time.process_time()
                    base.append(_baseline(leaves))
                    base_cpu.append(time.process_time() - cpu)
                peak, processes = peak_pss(settings, n)
                results.append(
                    LedgerResult(
                        backend.name,
                        len(leaves),
                        n,
                        statistics.median(ours),
                        statistics.median(base),
                        inclusion,
                        consistency,
                        peak,
                        processes,
                        load,
                        statistics.median(ours_cpu),
                        statistics.median(base_cpu),
                    )
                )
    return results


def run(
    backends: list[Backend],
    records: int,
    repeat: int,
    jobs: Sequence[int] = JOBS,
    keep: Path | None = None,
) -> list[LedgerResult]:
    return [r for backend in backends for r in measure(backend, records, repeat, jobs, keep)]


def ledger_table(results: list[LedgerResult]) -> Table:
    return by_backend(
        "rete ledger verify vs SHA-256 of the same leaves, in the same run",
        (
            "median of interleaved rounds; ratio = baseline time / verify time (target >= 0.3 "
            "on SQLite, >= 0.25 on PostgreSQL, 1,000,000 records, 2 cores); proofs: mean of "
            "200 from stored nodes; peak PSS: `rete ledger verify --jobs N` run once more, the "
            "sum of its processes' proportional set sizes (shared pages counted once), its "
            "peak over the run (target <= 200 MiB at 16 jobs); load: 1-min load average "
            "before the rounds; CPU s: verification's CPU, its workers' included (not the "
            "server's); idle est.: the ratio from CPU times, verification's spread over "
            "min(jobs, CPUs) cores, what an idle machine would give at best"
        ),
        (
            "records",
            "jobs",
            "verify s",
            "sha-256 s",
            "ratio",
            "CPU s",
            "idle est.",
            "inclusion ms",
            "consistency ms",
            "peak PSS MiB (processes)",
            "load",
        ),
        [
            (
                r.backend,
                f"{r.records:,}",
                str(r.jobs),
                f"{r.verify_s:.3f}",
                f"{r.baseline_s:.3f}",
                f"{r.ratio:.2f}x",
                f"{r.verify_cpu_s:.3f}",
                f"{r.idle_ratio:.2f}x",
                f"{r.inclusion_ms:.2f}",
                f"{r.consistency_ms:.2f}",
                f"{r.peak_pss_mib:.0f} ({r.processes})",
                f"{r.load:.1f}",
            )
            for r in results
        ],
    )


# --------------------------------------------------------------------------
# Where one process's time goes (``--breakdown``)


class _Clock:
    """CPU and wall time spent per named step."""

    def __init__(self) -> None:
        self.cpu: dict[str, float] = {}
        self.wall: dict[str, float] = {}

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        cpu, wall = time.process_time(), time.perf_counter()
        yield
        self.cpu[name] = self.cpu.get(name, 0.0) + time.process_time() - cpu
        self.wall[name] = self.wall.get(name, 0.0) + time.perf_counter() - wall


def breakdown(tables: LedgerTables, leaves: list[bytes]) -> dict[str, tuple[float, float]]:
    """Microseconds per record, CPU and wall, of each step of checking whole chunks
    as ``whole_chunks.check_chunk`` does (records streamed a batch at a time, each
    batch hashed as it comes) over every complete chunk, in this process: a
    worker does the same on its share. On PostgreSQL the server's work shows in
    the wall time of the reads only."""
    with tables.read() as tx:
        head = tx.head()
    clock, hasher, after, chunks = _Clock(), LeafHasher(), 0, head.size // CHUNK
    for number in range(chunks):
        hashes: list[bytes] = []
        positions: list[str] = []
        with tables.read() as tx:
            batches = tx.record_batches(after, head.last_position, CHUNK, BATCH)
            while True:
                with clock.step(f"read records ({BATCH} at a time)"):
                    rows = next(batches, None)
                if rows is None:
                    break
                with clock.step("leaf hashes (2 SHA-256 each)"):
                    hashes += hasher.hashes(rows)
                with clock.step("positions as text"):
                    positions.append(",".join([str(row[0]) for row in rows]))
                after = rows[-1][0]
            with clock.step("read stored nodes and positions"):
                stored = tx.stored_chunk(number * CHUNK, CHUNK)
        with clock.step("tree (1 SHA-256 each)"):
            levels = levels_of(hashes)
        with clock.step("compare"):
            same = stored.nodes == b"".join(chain.from_iterable(levels))
            same &= stored.positions == ",".join(positions)
        assert same, f"chunk {number} is not as stored"
    with clock.step("sha-256 baseline (for scale)"):
        _baseline(leaves[: chunks * CHUNK])
    per = max(1, chunks * CHUNK) / 1e6
    return {step: (clock.cpu[step] / per, clock.wall[step] / per) for step in clock.cpu}


def _print_breakdown(
    backend: Backend, records: int, console: Console, keep: Path | None = None
) -> None:
    with (
        _filled(backend, records, keep) as filled,
        open_ledger(filled.settings, filled.store.recorder) as ledger,
    ):
        ledger.catch_up()
        costs = breakdown(ledger.tables, filled.leaves)
    table = Table(title=f"one process, whole chunks, {backend.name}: us per record")
    table.add_column("step")
    table.add_column("cpu us", justify="right")
    table.add_column("wall us", justify="right")
    for step, (cpu, wall) in costs.items():
        table.add_row(step, f"{cpu:.3f}", f"{wall:.3f}")
    table.add_row("load (1 min)", f"{os.getloadavg()[0]:.1f}", "")
    console.print(table)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ledger", description=__doc__)
    parser.add_argument("--records", type=int, default=20_000, help="default: 20,000")
    parser.add_argument("--repeat", type=int, default=3, help="interleaved rounds")
    parser.add_argument(
        "--jobs",
        type=lambda text: [int(n) for n in text.split(",")],
        default=list(JOBS),
        help="worker processes to measure, comma-separated (default: 1,2,16)",
    )
    parser.add_argument(
        "--keep",
        type=Path,
        help="build the log once here (PostgreSQL: a schema named after the size) and reuse it",
    )
    add_backend_options(parser)
    parser.add_argument(
        "--breakdown", action="store_true", help="instead, one process's CPU cost per step"
    )
    args = parser.parse_args(argv)
    console = Console() if sys.stdout.isatty() else Console(width=160)
    backends = chosen_backends(args, console)
    if args.breakdown:
        for backend in backends:
            _print_breakdown(backend, args.records, console, args.keep)
        return 0
    console.print(ledger_table(run(backends, args.records, args.repeat, args.jobs, args.keep)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
