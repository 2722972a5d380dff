"""``python -m bench`` (what ``make bench`` runs) and ``python -m bench --full``."""

from __future__ import annotations

import argparse
import sys

from rich.console import Console

from bench.backends import add_backend_options, chosen_backends
from bench.ledger import ledger_table
from bench.ledger import run as run_ledger
from bench.machine import machine_facts
from bench.profiling import profile_all
from bench.reads import reads_table
from bench.reads import run as run_reads
from bench.report import facts_table, results_table, sealing_table
from bench.sealing import run_all as run_sealing
from bench.throughput import run
from bench.views import FULL_STORIES, QUICK_STORIES, views_table
from bench.views import run as run_views

QUICK = {"stories": 300, "repeat": 3, "warmup": 30}
FULL = {"stories": 2000, "repeat": 5, "warmup": 100}


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--full", action="store_true", help="more stories, more repetitions")
    parser.add_argument("--stories", type=int, help="stories per measured round")
    parser.add_argument("--repeat", type=int, help="measured rounds per implementation")
    add_backend_options(parser)
    parser.add_argument(
        "--profile",
        action="store_true",
        help="instead of measuring, profile both with cProfile (first backend) and print the top costs",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    # Piped output (a log, a file) gets room for the whole table.
    console = Console() if sys.stdout.isatty() else Console(width=140)
    backends = chosen_backends(args, console)
    if not backends:
        return 1
    sizes = dict(FULL if args.full else QUICK)
    sizes["stories"] = args.stories or sizes["stories"]
    sizes["repeat"] = args.repeat or sizes["repeat"]
    if args.profile:
        print(profile_all(backends[0], sizes["stories"]))
        return 0
    console.print(facts_table(machine_facts(backends)))
    with console.status("measuring") as status:
        summaries = run(backends, progress=status.update, **sizes)
    console.print(results_table(summaries, [b.name for b in backends], sizes))
    with console.status("measuring sealing"):
        console.print(sealing_table(run_sealing()))
    with console.status("measuring the views"):
        stories = FULL_STORIES if args.full else QUICK_STORIES  # 54,000 / 18,000 records
        console.print(views_table(run_views(backends, stories=stories, repeat=sizes["repeat"])))
    with console.status("measuring reads"):
        sizes_read = [100, 400, 1600, 6400] if args.full else [100, 400]
        console.print(reads_table(run_reads(backends, sizes_read, calls=15)))
    with console.status("measuring the ledger"):
        records = 1_000_000 if args.full else 20_000
        console.print(ledger_table(run_ledger(backends, records=records, repeat=sizes["repeat"])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
