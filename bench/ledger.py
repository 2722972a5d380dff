"""``rete ledger verify`` against SHA-256 of the same leaves in a tight loop, in one run.

A store is filled with real sealed records (a numbering sequence's events,
saved a thousand at a time: cheap to write, the same on-disk records as any
other), the ledger follows it and signs a checkpoint, then both are timed,
interleaved: the whole live verification (every record re-read, every leaf
re-hashed, the tree rebuilt and compared with the checkpoint and the stored
nodes), and ``sha256(0x00 || leaf)`` over the same leaves, precomputed.
Also the proofs at that size, served from stored nodes.
"""

from __future__ import annotations

import hashlib
import resource
import statistics
import time
from dataclasses import dataclass

from rich.table import Table

from bench.backends import Backend
from bench.stories import rete_settings
from domain.reference import ReferenceSequence
from infrastructure.bootstrap import build_store
from infrastructure.ledger.ledger import open_ledger
from infrastructure.ledger.merkle import encode_leaf
from infrastructure.ledger.signing import load_signing_key
from infrastructure.ledger.store import LedgerStore
from infrastructure.ledger.verification import verify_live


@dataclass(frozen=True)
class LedgerResult:
    backend: str
    records: int
    verify_s: float
    baseline_s: float
    inclusion_ms: float
    consistency_ms: float
    peak_mib: float

    @property
    def ratio(self) -> float:
        return self.baseline_s / self.verify_s


def _fill(store: object, records: int) -> None:
    sequence = ReferenceSequence.start("BENCH")
    for n in range(records - 1):
        sequence.issue()
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


def _proof_ms(store: LedgerStore, size: int, calls: int = 200) -> tuple[float, float]:
    start = time.perf_counter()
    for k in range(calls):
        store.inclusion_proof((k * 7919) % size, size)
    inclusion = (time.perf_counter() - start) / calls * 1e3
    start = time.perf_counter()
    for k in range(calls):
        store.consistency_proof(1 + (k * 7919) % (size - 1), size)
    return inclusion, (time.perf_counter() - start) / calls * 1e3


def measure(backend: Backend, records: int, repeat: int) -> LedgerResult:
    with backend.fresh() as storage:
        settings = rete_settings(storage.database_url, storage.var_dir)
        store = build_store(settings)
        try:
            _fill(store, records)
            leaves = _leaves(store)
            with open_ledger(settings, store.recorder) as ledger:
                ledger.sign_checkpoint()
                verifier = load_signing_key(settings).signer.verifier()
                ours, base = [], []
                for _ in range(repeat):
                    start = time.perf_counter()
                    verify_live(ledger.tables, [verifier], settings.ledger_origin)
                    ours.append(time.perf_counter() - start)
                    start = time.perf_counter()
                    for leaf in leaves:
                        hashlib.sha256(b"\x00" + leaf).digest()
                    base.append(time.perf_counter() - start)
                inclusion, consistency = _proof_ms(LedgerStore(ledger.tables), len(leaves))
        finally:
            store.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return LedgerResult(
        backend.name,
        len(leaves),
        statistics.median(ours),
        statistics.median(base),
        inclusion,
        consistency,
        peak,
    )


def run(backends: list[Backend], records: int, repeat: int) -> list[LedgerResult]:
    return [measure(backend, records, repeat) for backend in backends]


def ledger_table(results: list[LedgerResult]) -> Table:
    table = Table(
        title="rete ledger verify vs SHA-256 of the same leaves, in the same run",
        caption=(
            "median of interleaved rounds; ratio = baseline time / verify time (target >= 0.3); "
            "proofs: mean of 200 from stored nodes; peak = the whole benchmark process's max RSS "
            "(it also holds the baseline's leaves)"
        ),
    )
    table.add_column("backend")
    for column in (
        "records",
        "verify s",
        "sha-256 s",
        "ratio",
        "inclusion ms",
        "consistency ms",
        "peak MiB",
    ):
        table.add_column(column, justify="right")
    for r in results:
        table.add_row(
            r.backend,
            f"{r.records:,}",
            f"{r.verify_s:.3f}",
            f"{r.baseline_s:.3f}",
            f"{r.ratio:.2f}x",
            f"{r.inclusion_ms:.2f}",
            f"{r.consistency_ms:.2f}",
            f"{r.peak_mib:.0f}",
        )
    return table
