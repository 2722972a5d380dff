"""``rete ledger verify`` against SHA-256 of the same leaves in a tight loop, in one run.

A store is filled with real sealed records (a numbering sequence's events,
saved a thousand at a time: cheap to write, the same on-disk records as any
other), the ledger follows it and signs a checkpoint, then both are timed,
interleaved: the whole live verification as ``rete ledger verify`` runs it
(every record re-read, every leaf re-hashed, the tree rebuilt and compared with
the checkpoint and every stored node; ``--jobs`` worker processes, by default
one per CPU), and ``sha256(0x00 || leaf)`` over the same leaves, precomputed.
Also the proofs at that size, served from stored nodes.

Peak memory is that of one more verification, run in a fresh interpreter that
holds nothing else (the baseline's leaves stay in this process): its own peak
RSS and its largest worker's. ``python -m bench.ledger`` runs this part alone
(``--records 1000000`` is what ``make bench-full`` measures), and
``--breakdown`` says where one process's time goes, per record.
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing
import os
import resource
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import chain
from multiprocessing.connection import Connection
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench.backends import Backend, add_backend_options, chosen_backends
from bench.stories import rete_settings
from bench.tables import by_backend
from domain.reference import ReferenceSequence
from infrastructure.bootstrap import build_store
from infrastructure.ledger.chunks import CHUNK, levels_of
from infrastructure.ledger.db import LedgerTables, open_tables
from infrastructure.ledger.ledger import open_ledger
from infrastructure.ledger.merkle import encode_leaf
from infrastructure.ledger.records import LeafHasher
from infrastructure.ledger.signing import load_signing_key
from infrastructure.ledger.store import LedgerStore
from infrastructure.ledger.verification import verify_live
from infrastructure.settings import Settings
from infrastructure.store import ReteEventStore

JOBS = os.cpu_count() or 1  # what ``rete ledger verify`` uses unless told


@dataclass(frozen=True)
class LedgerResult:
    backend: str
    records: int
    jobs: int
    verify_s: float
    baseline_s: float
    inclusion_ms: float
    consistency_ms: float
    peak_mib: float  # the verifying process
    worker_peak_mib: float  # its largest worker (0 with one job)
    load: float  # the machine's 1-minute load average before the timed rounds

    @property
    def ratio(self) -> float:
        return self.baseline_s / self.verify_s

    @property
    def total_peak_mib(self) -> float:
        """An upper bound: workers share pages with the process they were forked from."""
        return self.peak_mib + self.jobs * self.worker_peak_mib


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


def _verify_once(database_url: str, events: str, var_dir: str, jobs: int, out: Connection) -> None:
    """In a fresh interpreter: one verification; sends its peak RSS and its largest
    worker's, in MiB (Linux reports ru_maxrss in KiB; a worker's counts the pages it
    shares with this process since the fork)."""
    settings = rete_settings(database_url, Path(var_dir))
    verifier = load_signing_key(settings).signer.verifier()
    tables = open_tables(database_url, events, create=False)
    try:
        verify_live(tables, [verifier], settings.ledger_origin, jobs=jobs)
    finally:
        tables.close()
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    out.send((_own_peak_mib(), workers if jobs > 1 else 0.0))
    out.close()


def _own_peak_mib() -> float:
    """This process's peak RSS since it started its program. Not ru_maxrss: Linux
    carries that across exec, so a spawned child would report the RSS of the
    benchmark it was forked from (and its million leaves)."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kib = next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:"))
    return int(kib) / 1024


def _peak_mib(tables: LedgerTables, var_dir: Path, jobs: int) -> tuple[float, float]:
    assert tables.address is not None
    context = multiprocessing.get_context("spawn")  # nothing of this process's memory
    receive, send = context.Pipe(duplex=False)
    address = tables.address
    child = context.Process(
        target=_verify_once,
        args=(address.database_url, address.events_table, str(var_dir), jobs, send),
    )
    child.start()
    send.close()
    own, workers = receive.recv()
    child.join()
    return float(own), float(workers)


@dataclass(frozen=True)
class _Filled:
    settings: Settings
    var_dir: Path
    store: ReteEventStore
    leaves: list[bytes]


@contextmanager
def _filled(backend: Backend, records: int) -> Iterator[_Filled]:
    """A fresh database of ``backend`` holding ``records`` events, its store open
    (closed after the block), and the ledger's leaves of those events."""
    with backend.fresh() as storage:
        settings = rete_settings(storage.database_url, storage.var_dir)
        store = build_store(settings)
        try:
            _fill(store, records)
            yield _Filled(settings, storage.var_dir, store, _leaves(store))
        finally:
            store.close()


def measure(backend: Backend, records: int, repeat: int, jobs: int = JOBS) -> LedgerResult:
    with _filled(backend, records) as filled:
        settings, leaves = filled.settings, filled.leaves
        with open_ledger(settings, filled.store.recorder) as ledger:
            ledger.sign_checkpoint()
            verifier = load_signing_key(settings).signer.verifier()
            load = os.getloadavg()[0]
            ours, base = [], []
            for _ in range(repeat):
                start = time.perf_counter()
                verify_live(ledger.tables, [verifier], settings.ledger_origin, jobs=jobs)
                ours.append(time.perf_counter() - start)
                base.append(_baseline(leaves))
            inclusion, consistency = _proof_ms(LedgerStore(ledger.tables), len(leaves))
            peak, worker_peak = _peak_mib(ledger.tables, filled.var_dir, jobs)
    return LedgerResult(
        backend.name,
        len(leaves),
        jobs,
        statistics.median(ours),
        statistics.median(base),
        inclusion,
        consistency,
        peak,
        worker_peak,
        load,
    )


def run(backends: list[Backend], records: int, repeat: int, jobs: int = JOBS) -> list[LedgerResult]:
    return [measure(backend, records, repeat, jobs) for backend in backends]


def ledger_table(results: list[LedgerResult]) -> Table:
    return by_backend(
        "rete ledger verify vs SHA-256 of the same leaves, in the same run",
        (
            "median of interleaved rounds; ratio = baseline time / verify time (target >= 0.3); "
            "proofs: mean of 200 from stored nodes; peak: one more verify in a fresh "
            "interpreter (not holding the baseline's leaves), its own max RSS + jobs x its "
            "largest worker's (an upper bound: forked workers share pages); load: 1-min "
            "load average before the rounds (2 cores)"
        ),
        (
            "records",
            "jobs",
            "verify s",
            "sha-256 s",
            "ratio",
            "inclusion ms",
            "consistency ms",
            "peak MiB",
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
                f"{r.inclusion_ms:.2f}",
                f"{r.consistency_ms:.2f}",
                _peak(r),
                f"{r.load:.1f}",
            )
            for r in results
        ],
    )


def _peak(r: LedgerResult) -> str:
    if not r.worker_peak_mib:  # one process did it all (one job, or a small log)
        return f"{r.peak_mib:.0f}"
    return f"{r.total_peak_mib:.0f} ({r.peak_mib:.0f} + {r.jobs}x{r.worker_peak_mib:.0f})"


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
    (``whole_chunks.check_chunk``) over every complete chunk, in this process: a
    worker does the same on its share. On PostgreSQL the server's work shows in
    the wall time of the reads only."""
    with tables.read() as tx:
        head = tx.head()
    clock, hasher, after, chunks = _Clock(), LeafHasher(), 0, head.size // CHUNK
    for number in range(chunks):
        with tables.read() as tx:
            with clock.step("read records"):
                rows = tx.record_rows(after, head.last_position, CHUNK)
            with clock.step("read stored nodes and positions"):
                stored = tx.stored_chunk(number * CHUNK, CHUNK)
        with clock.step("leaf hashes (2 SHA-256 each)"):
            hashes = hasher.hashes(rows)
        with clock.step("tree (1 SHA-256 each)"):
            levels = levels_of(hashes)
        with clock.step("compare"):
            same = stored.nodes == b"".join(chain.from_iterable(levels))
            same &= stored.positions == ",".join([str(row[0]) for row in rows])
        assert same, f"chunk {number} is not as stored"
        after = rows[-1][0]
    with clock.step("sha-256 baseline (for scale)"):
        _baseline(leaves[: chunks * CHUNK])
    per = max(1, chunks * CHUNK) / 1e6
    return {step: (clock.cpu[step] / per, clock.wall[step] / per) for step in clock.cpu}


def _print_breakdown(backend: Backend, records: int, console: Console) -> None:
    with (
        _filled(backend, records) as filled,
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
    parser.add_argument("--jobs", type=int, default=JOBS, help=f"default: {JOBS} (the CPUs)")
    add_backend_options(parser)
    parser.add_argument(
        "--breakdown", action="store_true", help="instead, one process's CPU cost per step"
    )
    args = parser.parse_args(argv)
    console = Console() if sys.stdout.isatty() else Console(width=160)
    backends = chosen_backends(args, console)
    if args.breakdown:
        for backend in backends:
            _print_breakdown(backend, args.records, console)
        return 0
    console.print(ledger_table(run(backends, args.records, args.repeat, args.jobs)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
