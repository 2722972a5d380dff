"""SIGKILLs under concurrent writes, on each backend (issue 11, done-when 3).

Runs the fault harness (``tests/support/fault_harness.py``): the real server
(``rete serve``, and on PostgreSQL ``rete views run``) on fresh storage, client
threads writing over HTTP with an ``Idempotency-Key`` on every write, and
``--kills`` SIGKILLs at random moments (on PostgreSQL alternately the server and
the runner), each followed by a restart. Then every write is read back: each
acknowledged write present exactly once, nothing unacknowledged half-done, and
``rete ledger verify`` and ``rete views check`` pass. Prints one line per backend
and every problem found; exits 1 if there is any.

    python -m bench.faults [--kills 20] [--clients 4] [--settle 65] [--seed N]
                           [--backend sqlite|postgres|both] [--postgres-url URL]

``--settle``: seconds the writes in flight at the end may still be retried, with
no more faults (a request killed mid-flight holds its key for the reservation's
lease, 60 s); 0 to stop at once and count them unacknowledged.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from rich.console import Console

from bench.backends import add_backend_options, chosen_backends
from tests.support.fault_harness import run_faults


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.faults", description=__doc__)
    parser.add_argument("--kills", type=int, default=20, help="SIGKILLs per backend")
    parser.add_argument("--clients", type=int, default=4, help="writing threads")
    parser.add_argument("--settle", type=float, default=65.0, help="seconds to finish retries")
    parser.add_argument("--seed", type=int, default=None, help="seed of the kill times")
    add_backend_options(parser)
    args = parser.parse_args(argv)
    console = Console()
    failed = False
    for backend in chosen_backends(args, console):
        # The servers' and runners' logs are kept (a 5xx is explained there).
        logs = tempfile.mkdtemp(prefix=f"rete-faults-{backend.name}-")
        with backend.fresh() as storage:
            report = run_faults(
                {"RETE_DATABASE_URL": storage.database_url, "RETE_VAR_DIR": str(storage.var_dir)},
                backend="sqlite" if backend.server_url is None else "postgres",
                kills=args.kills,
                clients=args.clients,
                settle=args.settle,
                log_dir=Path(logs),
                seed=args.seed,
            )
        console.print(report.summary(), highlight=False)
        console.print(f"  logs: {logs}", highlight=False)
        for error in report.server_errors:
            console.print(f"  5xx: {error}", highlight=False)
        for problem in report.problems:
            console.print(f"  PROBLEM: {problem}", highlight=False)
        failed = failed or bool(report.problems)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
