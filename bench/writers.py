"""Concurrent writers on SQLite, with the background tasks on and off.

Starts a real server (``rete serve``, uvicorn, ``--workers`` processes, one by default) on 127.0.0.1 and a free
port over a fresh SQLite database, then ``--writers`` clients each create cases
(``POST /api/v1/cases``) for ``--seconds`` seconds. Twice, each on a fresh
database: once with every background task on (checkpoints every
``--checkpoint`` s, following the log between; escalation every
``--escalation`` s) and once with both off. Prints, for each run, the cases
created, the 5xx answers, p50/p99 and the slowest request, and the throughput
ratio on/off (issue 11 asks for at least 0.9, 0 5xx answers, none over 2 s).
With ``--rounds N`` the two runs are split into N rounds each of ``--seconds``/N,
alternating on, off, off, on, ... so that whatever else a shared machine does
falls on both alike; the lines sum the rounds.

    python -m bench.writers [--writers 8] [--seconds 60] [--checkpoint 1] [--escalation 1]
                            [--workers 1] [--rounds 1]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.support.processes import free_port, stop, wait_answering

_RETE = str(Path(sys.executable).with_name("rete"))


@dataclass
class Run:
    label: str
    seconds: float
    latencies: list[float] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)

    @property
    def created(self) -> int:
        return sum(1 for s in self.statuses if s == 201)

    @property
    def server_errors(self) -> int:
        return sum(1 for s in self.statuses if s >= 500)

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))]

    def line(self) -> str:
        return (
            f"{self.label:>15}: {self.created:6d} cases ({self.created / self.seconds:7.1f}/s), "
            f"{self.server_errors} x 5xx, other {len(self.statuses) - self.created - self.server_errors}, "
            f"p50 {self.percentile(0.5) * 1000:6.1f} ms, p99 {self.percentile(0.99) * 1000:6.1f} ms, "
            f"max {max(self.latencies, default=0.0) * 1000:7.1f} ms"
        )


def _token(env: dict[str, str]) -> str:
    out = subprocess.run(
        [_RETE, "token", "--user", "anna", "--service", "cav-scirocco", "--role", "caseworker"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return out.strip().splitlines()[-1]


def run_once(
    label: str,
    writers: int,
    seconds: float,
    checkpoint: float,
    escalation: float,
    workers: int,
    notify: float = 1.0,
) -> Run:
    with tempfile.TemporaryDirectory(prefix="rete-writers-") as tmp:
        port = free_port()
        env = {
            **os.environ,
            "RETE_DATABASE_URL": f"sqlite:///{Path(tmp) / 'rete.sqlite'}",
            "RETE_VAR_DIR": str(Path(tmp) / "var"),
            "RETE_CHECKPOINT_INTERVAL": str(checkpoint),
            "RETE_ESCALATION_INTERVAL": str(escalation),
            # The notifications worker is background work too: on at its default
            # interval (woken after each write), off with the rest.
            "RETE_NOTIFY_INTERVAL": str(notify),
        }
        token = _token(env)
        server = subprocess.Popen(
            [_RETE, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            wait_answering(base, server, 60)
            return _drive(label, base, token, writers, seconds)
        finally:
            stop(server)


def _drive(label: str, base: str, token: str, writers: int, seconds: float) -> Run:
    run = Run(label, seconds)
    lock = threading.Lock()
    end = time.monotonic() + seconds
    headers = {"Authorization": f"Bearer {token}"}

    def write() -> None:
        with httpx.Client(base_url=base, headers=headers, timeout=30.0) as client:
            while time.monotonic() < end:
                started = time.monotonic()
                try:
                    status = client.post("/api/v1/cases").status_code
                except httpx.HTTPError:
                    status = 599  # no answer: counted as a server error
                took = time.monotonic() - started
                with lock:
                    run.latencies.append(took)
                    run.statuses.append(status)

    threads = [threading.Thread(target=write) for _ in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.writers", description=__doc__)
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--checkpoint", type=float, default=1.0, help="checkpoint interval (on)")
    parser.add_argument("--escalation", type=float, default=1.0, help="escalation interval (on)")
    parser.add_argument("--workers", type=int, default=1, help="server processes (rete serve)")
    parser.add_argument("--rounds", type=int, default=1, help="alternating rounds per run")
    args = parser.parse_args(argv)
    on, off = Run("background on", args.seconds), Run("background off", args.seconds)
    seconds = args.seconds / max(1, args.rounds)
    for i in range(max(1, args.rounds)):
        order = (True, False) if i % 2 == 0 else (False, True)
        for background in order:
            label, total = ("background on", on) if background else ("background off", off)
            checkpoint, escalation, notify = (
                (args.checkpoint, args.escalation, 1.0) if background else (0, 0, 0)
            )
            one = run_once(
                label, args.writers, seconds, checkpoint, escalation, args.workers, notify
            )
            total.latencies += one.latencies
            total.statuses += one.statuses
            if args.rounds > 1:
                print(f"  round {i + 1}: {one.line()}", flush=True)
    print(on.line(), flush=True)
    print(off.line(), flush=True)
    ratio = on.created / off.created if off.created else 0.0
    print(f"{args.writers} writers, {args.seconds:g} s: throughput on/off {ratio:.2f}")
    slowest = max(on.latencies, default=0.0)
    ok = on.server_errors == 0 and slowest < 2.0 and ratio >= 0.9
    print("meets issue 11 (0 x 5xx, none over 2 s, ratio >= 0.9):", "yes" if ok else "NO")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
