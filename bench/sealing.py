"""Sealing one event, against raw AES-256-GCM on the same bytes, in the same run.

Two comparisons:

* **primitive**: ``sealing.seal`` + ``sealing.open_`` (header, fresh nonce, bound
  associated data) against ``AESGCM.encrypt`` + ``AESGCM.decrypt`` of the same
  plaintext with the same key (a cipher object made once, as a best case);
* **mapper**: one domain event through the ``SealingMapper`` and back (encoding,
  both seals, both opens, typed decoding) against the same event through the
  library's plain mapper (JSON transcoder, no cipher).
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID, uuid4

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.persistence import JSONTranscoder, Mapper
from eventsourcing.utils import get_topic

from bench.stories import rete_settings
from domain.case import Case
from infrastructure.bootstrap import build_store
from infrastructure.crypto import sealing

# A note as a caseworker writes one: a few hundred characters.
NOTE = (
    "Synthetic note for the benchmark. She describes months of control and threats; "
    "the last episode was last week, in front of the children. She asks for a safe "
    "place to talk and for information about a protection order. " * 2
)


@dataclass(frozen=True)
class Comparison:
    name: str
    ours_us: float
    baseline_us: float

    @property
    def ratio(self) -> float:
        return self.ours_us / self.baseline_us


def _per_call_us(fn: Callable[[], object], rounds: int, calls: int) -> float:
    """Median over ``rounds`` of the mean time of ``calls`` calls, in microseconds."""
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        samples.append((time.perf_counter() - start) / calls * 1e6)
    return statistics.median(samples)


def _alternate(
    ours: Callable[[], object], base: Callable[[], object], rounds: int, calls: int
) -> tuple[float, float]:
    o, b = [], []
    for _ in range(rounds):  # interleaved, so noise falls on both alike
        o.append(_per_call_us(ours, 1, calls))
        b.append(_per_call_us(base, 1, calls))
    return statistics.median(o), statistics.median(b)


def primitive(rounds: int = 7, calls: int = 20_000) -> Comparison:
    key, key_id = os.urandom(32), os.urandom(16)
    plaintext = NOTE.encode()
    context = sealing.context("rete", "personal", str(uuid4()), 7, get_topic(Case.NoteAdded))
    aes = AESGCM(key)
    nonce = os.urandom(12)

    def ours() -> object:
        return sealing.open_(key, sealing.seal(key_id, key, plaintext, context), context)

    def raw() -> object:
        return aes.decrypt(nonce, aes.encrypt(nonce, plaintext, None), None)

    ours_us, raw_us = _alternate(ours, raw, rounds, calls)
    return Comparison("seal + open one value vs raw AES-256-GCM", ours_us, raw_us)


def mapper(rounds: int = 7, calls: int = 5_000) -> Comparison:
    with tempfile.TemporaryDirectory(prefix="rete-bench-") as tmp:
        settings = rete_settings(f"sqlite:///{Path(tmp) / 'bench.sqlite'}", Path(tmp))
        store = build_store(settings)
        try:
            event = _note_event()
            sealing_mapper = store.mapper
            plain: Mapper[UUID] = Mapper(transcoder=_plain_transcoder(store))

            def ours() -> object:
                return sealing_mapper.to_domain_event(sealing_mapper.to_stored_event(event))

            def base() -> object:
                return plain.to_domain_event(plain.to_stored_event(event))

            ours_us, base_us = _alternate(ours, base, rounds, calls)
        finally:
            store.close()
    return Comparison("one event through the mapper and back vs plain mapper", ours_us, base_us)


def _plain_transcoder(store: object) -> JSONTranscoder:
    transcoder = JSONTranscoder()
    store.register_transcodings(transcoder)  # type: ignore[attr-defined]
    return transcoder


def _note_event() -> Case.NoteAdded:
    case_id = uuid4()
    return Case.NoteAdded(  # type: ignore[call-arg]
        originator_id=case_id,
        originator_version=3,
        timestamp=Case.NoteAdded.create_timestamp(),
        entry_id=str(uuid4()),
        category="violence",
        text=NOTE,
        by_user="bench.caseworker",
        by_service="cav-scirocco",
    )


def run_all() -> list[Comparison]:
    return [primitive(), mapper()]
