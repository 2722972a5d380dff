"""Command throughput: the same stories through Rete and through the baseline.

Each repetition gives both implementations fresh storage and a freshly built
application (not timed), then runs ``stories`` stories through each in chunks,
alternating A B, B A, A B... so that whatever else the machine is doing falls on
both alike. Each chunk is timed with ``perf_counter`` (wall) and
``process_time`` (this process's CPU; on PostgreSQL the rest is waiting for the
server). Rates are medians over the repetitions; the ratio is the median of the
per-repetition ratios, each taken between rounds run side by side.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from time import perf_counter, process_time

from bench.backends import Backend
from bench.stories import IMPLEMENTATIONS, Runner

CHUNK = 25
OURS, BASELINE = "rete", "baseline"


@dataclass(frozen=True)
class Round:
    backend: str
    implementation: str
    stories: int
    events: int
    seconds: float
    cpu_seconds: float

    @property
    def stories_per_s(self) -> float:
        return self.stories / self.seconds

    @property
    def events_per_s(self) -> float:
        return self.events / self.seconds


@dataclass(frozen=True)
class Summary:
    backend: str
    implementation: str
    rounds: tuple[Round, ...]

    @property
    def stories_per_s(self) -> float:
        return statistics.median(r.stories_per_s for r in self.rounds)

    @property
    def events_per_s(self) -> float:
        return statistics.median(r.events_per_s for r in self.rounds)

    @property
    def events_per_story(self) -> float:
        return statistics.median(r.events / r.stories for r in self.rounds)

    @property
    def ms_per_story(self) -> float:
        return 1000 / self.stories_per_s

    @property
    def cpu_ms_per_story(self) -> float:
        return statistics.median(1000 * r.cpu_seconds / r.stories for r in self.rounds)

    @property
    def spread(self) -> tuple[float, float]:
        rates = [r.stories_per_s for r in self.rounds]
        return min(rates), max(rates)


def _chunks(total: int, size: int) -> Iterator[int]:
    for start in range(0, total, size):
        yield min(size, total - start)


def _open_runners(stack: ExitStack, backend: Backend) -> dict[str, Runner]:
    """Both implementations, each on its own fresh storage, closed before it is dropped."""
    runners: dict[str, Runner] = {}
    for name, implementation in IMPLEMENTATIONS.items():
        storage = stack.enter_context(backend.fresh())
        runner = implementation(storage.database_url, storage.var_dir)
        stack.callback(runner.close)
        runner.story()  # the year's numbering sequence exists before timing starts
        runners[name] = runner
    return runners


def measure_pair(backend: Backend, stories: int, flip: bool = False) -> list[Round]:
    """One repetition: ``stories`` stories through each implementation, interleaved."""
    with ExitStack() as stack:
        runners = _open_runners(stack, backend)
        names = list(reversed(runners)) if flip else list(runners)
        before = {name: runner.events() for name, runner in runners.items()}
        wall = dict.fromkeys(names, 0.0)
        cpu = dict.fromkeys(names, 0.0)
        for i, size in enumerate(_chunks(stories, CHUNK)):
            for name in names if i % 2 == 0 else reversed(names):
                story = runners[name].story
                start, start_cpu = perf_counter(), process_time()
                for _ in range(size):
                    story()
                wall[name] += perf_counter() - start
                cpu[name] += process_time() - start_cpu
        return [
            Round(
                backend.name,
                name,
                stories,
                runners[name].events() - before[name],
                wall[name],
                cpu[name],
            )
            for name in runners
        ]


def run(
    backends: Iterable[Backend],
    stories: int,
    repeat: int,
    warmup: int,
    progress: Callable[[str], None] = lambda _: None,
) -> list[Summary]:
    backends = list(backends)
    for backend in backends:
        progress(f"warm-up on {backend.name}")
        measure_pair(backend, warmup)
    rounds: list[Round] = []
    for rep in range(repeat):
        for backend in backends:
            progress(f"repetition {rep + 1}/{repeat} on {backend.name}")
            rounds += measure_pair(backend, stories, flip=rep % 2 == 1)
    return [
        Summary(
            b.name, n, tuple(r for r in rounds if r.backend == b.name and r.implementation == n)
        )
        for b in backends
        for n in IMPLEMENTATIONS
    ]


def paired_ratios(summaries: list[Summary], backend: str) -> list[float]:
    """Rete's throughput over the baseline's, repetition by repetition, on one backend."""
    by_name = {s.implementation: s for s in summaries if s.backend == backend}
    pairs = zip(by_name[OURS].rounds, by_name[BASELINE].rounds, strict=True)
    return [ours.stories_per_s / base.stories_per_s for ours, base in pairs]


def ratio(summaries: list[Summary], backend: str) -> float:
    return statistics.median(paired_ratios(summaries, backend))
