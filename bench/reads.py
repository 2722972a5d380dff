"""Reads as the store grows: lists and a case page from the views, against the same
inbox answered from the event store's aggregates (how lists were served before
the views, and what any read model must beat).

On fresh storage the throughput benchmark's stories are added until the store
holds each size in turn; at each size, in the same run, each read is timed
(median of ``calls`` calls, interleaved):

* **inbox**: the recipient's first page of 50 (``Referrals.list``, from the views);
* **cases**: the sender's first page of 50 (``Cases.list``, from the views);
* **case**: one case page (``Cases.get``: the views, its sealed parts opened, and
  the access-log event every read of personal data writes);
* **inbox from aggregates**: every referral loaded from the event store, the
  recipient's filtered and sorted in DOMAIN.md's order, the first 50 kept.

The ratio is the aggregates' time over the views' for the same inbox page.

    python -m bench.reads [--backend sqlite|postgres|both] [--sizes 100,400,1600] [--calls N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

from rich.console import Console
from rich.table import Table

from bench.backends import Backend, add_backend_options, chosen_backends
from bench.stories import Ours
from bench.tables import by_backend
from domain.referral import Referral
from domain.vocabulary import Urgency

PAGE = 50
_RANK = {Urgency.EMERGENCY: 0, Urgency.URGENT: 1, Urgency.ROUTINE: 2}


@dataclass(frozen=True)
class ReadTimes:
    backend: str
    stories: int
    inbox_ms: float
    cases_ms: float
    case_ms: float
    aggregates_inbox_ms: float

    @property
    def ratio(self) -> float:
        """How many times faster the views answer the inbox than the aggregates."""
        return self.aggregates_inbox_ms / self.inbox_ms


def inbox_from_aggregates(runner: Ours) -> list[str]:
    """The recipient's first inbox page, computed from every referral aggregate."""
    store = runner.rete.ctx.store
    mine = [
        r
        for r in (store.get(Referral, i) for i in store.ids_of(Referral))
        if r.recipient_service == runner.recipient.service.id
    ]
    # The boxes' order: the most urgent first, then in the order sent (the log's,
    # which ``ids_of`` keeps: the sort is stable).
    mine.sort(key=lambda r: _RANK[r.urgency])
    return [str(r.id) for r in mine[:PAGE]]


def _median_ms(read: Callable[[], object], calls: int) -> float:
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        read()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def _time_reads(runner: Ours, calls: int) -> dict[str, float]:
    rete, sender, recipient = runner.rete, runner.sender, runner.recipient
    some_case = rete.cases.list(sender, limit=1).items[0].reference_code
    view_page = [r.id for r in rete.referrals.list(recipient, "inbox", limit=PAGE).items]
    if view_page != inbox_from_aggregates(runner):
        raise AssertionError("the two inboxes differ: the comparison would be void")
    reads: dict[str, Callable[[], object]] = {
        "inbox": lambda: rete.referrals.list(recipient, "inbox", limit=PAGE),
        "cases": lambda: rete.cases.list(sender, limit=PAGE),
        "case": lambda: rete.cases.get(recipient, some_case),
        "aggregates": lambda: inbox_from_aggregates(runner),
    }
    return {name: _median_ms(read, calls) for name, read in reads.items()}


def measure(backend: Backend, sizes: list[int], calls: int) -> list[ReadTimes]:
    found: list[ReadTimes] = []
    with backend.fresh() as storage:
        runner = Ours(storage.database_url, storage.var_dir)
        try:
            stored = 0
            for size in sorted(sizes):
                for _ in range(size - stored):
                    runner.story()
                stored = size
                ms = _time_reads(runner, calls)
                found.append(
                    ReadTimes(
                        backend.name, size, ms["inbox"], ms["cases"], ms["case"], ms["aggregates"]
                    )
                )
        finally:
            runner.close()
    return found


def run(backends: list[Backend], sizes: list[int], calls: int) -> list[ReadTimes]:
    return [t for backend in backends for t in measure(backend, sizes, calls)]


def reads_table(results: list[ReadTimes]) -> Table:
    return by_backend(
        "Reads as the store grows: views vs aggregates, in the same run",
        (
            f"median ms per call; first page of {PAGE}; case = one case page with its "
            "access-log write; ratio = inbox from aggregates / inbox from the views"
        ),
        ("stories", "inbox", "cases", "case", "inbox from aggregates", "ratio"),
        [
            (
                r.backend,
                f"{r.stories:,}",
                f"{r.inbox_ms:.2f}",
                f"{r.cases_ms:.2f}",
                f"{r.case_ms:.2f}",
                f"{r.aggregates_inbox_ms:,.1f}",
                f"{r.ratio:,.0f}x",
            )
            for r in results
        ],
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.reads", description=__doc__)
    add_backend_options(parser)
    parser.add_argument("--sizes", default="100,400,1600", help="stories stored, comma-separated")
    parser.add_argument("--calls", type=int, default=15)
    args = parser.parse_args(argv)
    console = Console() if sys.stdout.isatty() else Console(width=140)
    backends = chosen_backends(args, console)
    sizes = [int(s) for s in args.sizes.split(",")]
    with console.status("measuring reads"):
        results = run(backends, sizes, args.calls)
    console.print(reads_table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
