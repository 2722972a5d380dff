"""Child processes of the tests: another worker, started with the project's Python in
the project's folder, and killed without warning when the test says so."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

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
