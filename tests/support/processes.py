"""Child processes of the tests: another worker, started with the project's Python in
the project's folder, and killed without warning when the test says so; a free port
for a server, waiting until it answers, and stopping it. Nothing here imports the
rest of ``support``: the benchmarks use it too (as ``tests.support.processes``)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

PROJECT = Path(__file__).resolve().parents[2]


def start(
    args: list[str], env: dict[str, str], stderr: int = subprocess.DEVNULL
) -> subprocess.Popen[str]:
    """``python *args`` with ``env`` over this process's environment; its stdout piped."""
    return subprocess.Popen(
        [sys.executable, *args],
        cwd=PROJECT,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
    )


def kill_when_ready(args: list[str], env: dict[str, str], after: float) -> None:
    """Start a child that prints ``ready`` once it works, and kill it (SIGKILL: no
    clean-up of any kind) ``after`` seconds later."""
    child = start(args, env)
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
        time.sleep(after)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(30)
    assert child.returncode == -signal.SIGKILL


def free_port() -> int:
    """A port on the loopback interface nobody listens on (now)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_answering(
    base: str, process: subprocess.Popen[Any], within: float, log: Path | None = None
) -> None:
    """Wait until the server ``process`` started answers ``base``'s health check;
    RuntimeError (with the tail of its ``log``) if it exits first or does not answer
    within ``within`` seconds."""
    deadline = time.monotonic() + within
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"the server stopped at start: {_tail(log)}")
        try:
            if httpx.get(f"{base}/health", timeout=2.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"the server did not answer within {within:.0f} s: {_tail(log)}")
        time.sleep(0.2)


def stop(process: subprocess.Popen[Any]) -> None:
    """Ask it to stop (SIGTERM); kill it if it has not within 20 s."""
    process.terminate()
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)


def _tail(log: Path | None) -> str:
    return log.read_text()[-2000:] if log is not None else "(no log)"


def kill_when_working(args: list[str], env: dict[str, str]) -> list[int]:
    """Start a child that prints ``ready`` and its workers' process ids once they
    work, and kill it then (SIGKILL: it cannot stop them); the workers' ids.
    AssertionError if it ended before the kill."""
    child = start(args, env)
    try:
        assert child.stdout is not None
        said = child.stdout.readline().split()
        assert said and said[0] == "ready" and len(said) > 1, said
        workers = [int(pid) for pid in said[1:]]
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(30)
    assert child.returncode == -signal.SIGKILL, "the child ended before it was killed"
    return workers


def ended(pid: int) -> bool:
    """The process has ended (gone, or a zombie its new parent has not reaped)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    return "\nState:\tZ" in status


def all_ended(pids: list[int], within: float) -> bool:
    """Whether every one of ``pids`` has ended, waiting up to ``within`` seconds."""
    deadline = time.monotonic() + within
    while not all(ended(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    return all(ended(pid) for pid in pids)
