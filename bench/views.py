"""Rebuilding the views from the log, against reading the same log with no processing.

On fresh storage, ``stories`` stories fill the log (the throughput benchmark's
story, with a note and a risk assessment, so that every view gets rows: eight
records a story, each read by a view). Then, in
interleaved rounds, in the same run:

* **read**: every notification of the log, page by page through the recorder's
  ``select_notifications`` (the page size a rebuild uses), and nothing else;
* **rebuild**: ``Rebuild.build`` + ``swap`` (``rete views rebuild --jobs N``), at
  each number of processes of ``--jobs`` (1 and 2 by default): fresh tables, the
  whole log pulled (by topic), each outer seal opened, the rows written in
  batches, then swapped in place of the live views.

The ratio is read time over rebuild time (rebuild throughput as a share of plain
reading; the target is at least 0.5). Also reported: one ``catch_up`` when
nothing is new, as the API calls it before each read.

With ``--throughput``, also the command-throughput ratio of the walking skeleton's
benchmark (``bench.throughput``: Rete against the baseline, paired rounds) with the
views on. Rete is assembled as the API assembles it (``build_rete``): the views are
opened beside the store and caught up before every read, and the story's two moves
read the referral from them, so every event of every story is projected in the
timed rounds (at the latest by the next story's first move).

    python -m bench.views [--backend sqlite|postgres|both] [--stories N] [--repeat N]
                          [--jobs 1,2,4] [--throughput] [--throughput-stories N] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import resource
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rich.console import Console
from rich.table import Table

from bench import throughput
from bench.backends import Backend, add_backend_options, chosen_backends
from bench.sealing import NOTE
from bench.stories import Ours, rete_settings
from bench.tables import by_backend
from infrastructure.views import Views, open_views
from infrastructure.views.rebuild import REBUILD_PAGE, Rebuild

INSTRUMENT = "rete-screening-v1"

# 8 records a story: 2,250 stories are 18,000 records (``make bench``), 6,750 are
# 54,000 (``make bench-full``).
QUICK_STORIES = 2250
FULL_STORIES = 6750
JOBS = (1, 2)  # processes the rebuild is timed with; more with --jobs 1,2,4,8


@dataclass(frozen=True)
class ViewsComparison:
    backend: str
    events: int  # records in the log
    applied: int  # records the views read (the others, by topic, are not fetched)
    rebuild_s: dict[int, float]  # median, by number of processes (``--jobs``)
    read_s: float  # median
    raw_read_s: float  # median
    idle_catch_up_us: float  # one catch_up with nothing new
    # By processes: the ratio on a machine with a free core per process, from CPU
    # times: the read's over this process's plus one worker's share of the rebuild
    # (SQLite only: on PostgreSQL the server's CPU is in neither).
    cpu_ratio: dict[int, float]

    def ratio(self, jobs: int) -> float:
        """Rebuild throughput over plain-reading throughput (same records)."""
        return self.read_s / self.rebuild_s[jobs]


def _fill(runner: Ours, stories: int) -> None:
    """The throughput story, each case also given a note and a risk assessment."""
    cases = runner.rete.cases
    items = runner.rete.ctx.instrument(INSTRUMENT).items
    answers = {item.id: i % 3 == 0 for i, item in enumerate(items)}

    def enrich(ref: str) -> None:
        cases.add_note(runner.sender, ref, "violence", NOTE)
        cases.assess_risk(runner.sender, ref, INSTRUMENT, answers, None, None)

    for _ in range(stories):
        runner.story(enrich)


Step = Callable[[Views], int]


def _read_all(views: Views) -> int:
    recorder, start, count = views.recorder, 1, 0
    while True:
        page = recorder.select_notifications(start=start, limit=REBUILD_PAGE)
        count += len(page)
        if len(page) < REBUILD_PAGE:
            return count
        start = page[-1].id + 1


def _raw_read(views: Views) -> int:
    topics, after, count = views.runner.views.topics, 0, 0
    with views.tables.write() as tx:  # as a rebuild's batches read it
        head = views.log.head(tx)
        while True:
            batch = views.log.records(tx, after, head, REBUILD_PAGE, topics)
            count += len(batch)
            if len(batch) < REBUILD_PAGE:
                return count
            after = batch[-1].position


def _rebuild(jobs: int) -> Step:
    """``rete views rebuild --jobs N``: the whole of it, swap included."""

    def rebuild(views: Views) -> int:
        job = Rebuild(views.tables, views.log, views.keys, mac=views.mac, workers=views.workers)
        applied = job.build(jobs=jobs)
        job.swap()
        return applied

    return rebuild


def _children_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def _timed(step: Step, views: Views) -> tuple[float, int, float, float]:
    """Wall time, the step's result, this process's CPU time and its (ended)
    worker processes' CPU time."""
    start, cpu, children = time.perf_counter(), time.process_time(), _children_cpu()
    result = step(views)
    return (
        time.perf_counter() - start,
        result,
        time.process_time() - cpu,
        _children_cpu() - children,
    )


def _idle_catch_up_us(views: Views, calls: int = 2000) -> float:
    views.catch_up()
    start = time.perf_counter()
    for _ in range(calls):
        views.catch_up()
    return (time.perf_counter() - start) / calls * 1e6


def _profile(views: Views, backend: str, lines: int = 30) -> None:
    """One rebuild in this process under ``cProfile``, by CPU time (not wall time,
    which a loaded machine and PostgreSQL's round trips would blur), printed."""
    profiler = cProfile.Profile(time.process_time)
    profiler.runcall(_rebuild(1), views)
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(lines)
    stats.sort_stats("cumulative").print_stats(lines)
    print(f"-- profile of one rebuild, 1 process, {backend} (CPU time) --")
    print(out.getvalue())


def measure(
    backend: Backend,
    stories: int,
    repeat: int,
    jobs: Sequence[int] = JOBS,
    profile: bool = False,
) -> ViewsComparison:
    with backend.fresh() as storage:
        runner = Ours(storage.database_url, storage.var_dir)
        try:
            _fill(runner, stories)
            settings = rete_settings(storage.database_url, storage.var_dir)
            with open_views(settings, runner.store.recorder, runner.store.keys) as views:
                views.catch_up()
                rebuilds = {n: _rebuild(n) for n in jobs}
                times: dict[Step, list[float]] = {}
                critical: dict[Step, list[float]] = {}  # CPU: this one + one worker's share
                counts: dict[Step, int] = {}
                steps = [_read_all, *rebuilds.values(), _raw_read]
                parts = {step: n for n, step in rebuilds.items()}
                for rep in range(repeat):  # interleaved, in turning orders
                    turn = rep % len(steps)
                    for step in steps[turn:] + steps[:turn]:
                        seconds, counts[step], cpu, children = _timed(step, views)
                        times.setdefault(step, []).append(seconds)
                        share = children / parts[step] if step in parts else 0.0
                        critical.setdefault(step, []).append(cpu + share)
                idle = _idle_catch_up_us(views)
                if profile:
                    _profile(views, backend.name)
        finally:
            runner.close()
    applied = {counts[step] for step in rebuilds.values()}
    assert len(applied) == 1, f"the rebuilds applied different counts: {applied}"
    return ViewsComparison(
        backend.name,
        counts[_read_all],
        applied.pop(),
        {n: statistics.median(times[step]) for n, step in rebuilds.items()},
        statistics.median(times[_read_all]),
        statistics.median(times[_raw_read]),
        idle,
        {
            n: statistics.median(critical[_read_all]) / statistics.median(critical[step])
            for n, step in rebuilds.items()
        },
    )


def run(
    backends: list[Backend],
    stories: int = QUICK_STORIES,
    repeat: int = 5,
    jobs: Sequence[int] = JOBS,
    profile: bool = False,
) -> list[ViewsComparison]:
    return [measure(backend, stories, repeat, jobs, profile) for backend in backends]


def views_table(results: list[ViewsComparison]) -> Table:
    jobs = sorted(results[0].rebuild_s) if results else list(JOBS)
    columns = (
        "events",
        "applied",
        "read ms",
        *(
            c
            for n in jobs
            for c in (f"rebuild ms, {n} proc", f"ratio, {n} proc", f"CPU ratio, {n} proc")
        ),
        "raw read ms",
        "idle µs",
    )
    return by_backend(
        "Rebuilding the views from the log vs reading it, in the same run",
        (
            "median of interleaved rounds; read = the recorder's notifications; ratio = read "
            "time / rebuild time (target >= 0.5 on 2 cores), per number of processes "
            "(rete views rebuild --jobs N); CPU ratio = the same from CPU times, this "
            "process's plus one worker's share (what a free core per process would give; "
            "SQLite only); raw read = the log as the rebuild reads it; "
            f"idle = one catch_up() with nothing new; {os.cpu_count()} cores, load average "
            f"{os.getloadavg()[0]:.1f}"
        ),
        columns,
        [
            (
                r.backend,
                f"{r.events:,}",
                f"{r.applied:,}",
                f"{r.read_s * 1000:,.1f}",
                *(
                    c
                    for n in jobs
                    for c in (
                        f"{r.rebuild_s[n] * 1000:,.1f}",
                        f"{r.ratio(n):.2f}x",
                        f"{r.cpu_ratio[n]:.2f}x" if r.backend == "sqlite" else "-",
                    )
                ),
                f"{r.raw_read_s * 1000:,.1f}",
                f"{r.idle_catch_up_us:.0f}",
            )
            for r in results
        ],
    )


@dataclass(frozen=True)
class ThroughputWithViews:
    backend: str
    ratios: tuple[float, ...]  # rete / baseline, one per repetition (paired rounds)
    rete_stories_per_s: float
    baseline_stories_per_s: float

    @property
    def ratio(self) -> float:
        return statistics.median(self.ratios)


def throughput_with_views(
    backends: list[Backend], stories: int, repeat: int, warmup: int
) -> list[ThroughputWithViews]:
    """The walking skeleton's benchmark as it is (``bench.throughput``): Rete as the
    API assembles it, the views on, against the baseline."""
    summaries = throughput.run(backends, stories, repeat, warmup)
    results = []
    for backend in backends:
        rates = {s.implementation: s for s in summaries if s.backend == backend.name}
        results.append(
            ThroughputWithViews(
                backend.name,
                tuple(throughput.paired_ratios(summaries, backend.name)),
                rates[throughput.OURS].stories_per_s,
                rates[throughput.BASELINE].stories_per_s,
            )
        )
    return results


def throughput_table(results: list[ThroughputWithViews], stories: int) -> Table:
    return by_backend(
        "Command throughput with the views on (the walking skeleton's benchmark)",
        (
            f"{stories} stories per round; rete as the API assembles it (views caught up "
            "before every read); ratio = median of the paired rete / baseline ratios"
        ),
        ("rete stories/s", "baseline stories/s", "rete / baseline", "range"),
        [
            (
                r.backend,
                f"{r.rete_stories_per_s:,.1f}",
                f"{r.baseline_stories_per_s:,.1f}",
                f"{r.ratio:.2f}",
                f"{min(r.ratios):.2f}-{max(r.ratios):.2f}",
            )
            for r in results
        ],
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.views", description=__doc__)
    add_backend_options(parser)
    parser.add_argument("--stories", type=int, default=QUICK_STORIES)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--jobs",
        type=lambda text: tuple(int(n) for n in text.split(",")),
        default=JOBS,
        help="processes to time the rebuild with, comma-separated (default 1,2)",
    )
    parser.add_argument(
        "--throughput", action="store_true", help="also the command throughput, views on"
    )
    parser.add_argument("--throughput-stories", type=int, default=300)
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also profile one rebuild in this process (cProfile, CPU time), per backend",
    )
    args = parser.parse_args(argv)
    console = Console() if sys.stdout.isatty() else Console(width=140)
    backends = chosen_backends(args, console)
    with console.status("measuring the views"):
        results = run(backends, args.stories, args.repeat, args.jobs, args.profile)
    console.print(views_table(results))
    if args.throughput:
        with console.status("measuring command throughput with the views on"):
            rates = throughput_with_views(backends, args.throughput_stories, args.repeat, warmup=30)
        console.print(throughput_table(rates, args.throughput_stories))
    return 0


if __name__ == "__main__":
    sys.exit(main())
