"""``rete serve`` as a child process, driven over HTTP like a real deployment."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

from api.auth import mint_token
from infrastructure.dev_secret import load_or_create_dev_secret
from infrastructure.settings import load_settings
from support.people import PEOPLE
from support.processes import PROJECT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Served:
    def __init__(self, env: dict[str, str], process: subprocess.Popen[str], log: Path) -> None:
        self.env = env
        self.process = process
        self.log = log
        self.port = int(env["RETE_PORT"])
        self.base = f"http://127.0.0.1:{self.port}"
        settings = load_settings(env)
        self._secret = load_or_create_dev_secret(settings.jwt_secret_file).key
        self._settings = settings

    def headers(self, who: str) -> dict[str, str]:
        service, roles = PEOPLE[who]
        s = self._settings
        token = mint_token(
            self._secret, s.jwt_issuer, s.jwt_audience, who, service, roles, timedelta(hours=1)
        )
        return {"Authorization": f"Bearer {token}"}


def stop(process: subprocess.Popen[Any]) -> None:
    """Ask it to stop (SIGTERM); kill it if it has not within 20 s."""
    process.terminate()
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)


def rete_command(*args: str) -> list[str]:
    return ["-c", "from api.cli import main; main()", *args]


@contextmanager
def served(env: dict[str, str], log: Path, *args: str, ready: float = 60.0) -> Iterator[Served]:
    """``rete serve`` with ``env`` (``RETE_PORT`` chosen here unless given), once its
    ``/health`` answers; stopped (SIGTERM, then SIGKILL) afterwards."""
    env = {"RETE_PORT": str(free_port()), **env}
    with log.open("w") as sink:
        # Its output to a file: a pipe nobody reads would block it once full.
        process = subprocess.Popen(
            [sys.executable, *rete_command("serve", *args)],
            cwd=PROJECT,
            env={**os.environ, **env},
            stdout=sink,
            stderr=subprocess.STDOUT,
            text=True,
        )
    try:
        base = f"http://127.0.0.1:{env['RETE_PORT']}"
        deadline = time.monotonic() + ready
        while True:
            if process.poll() is not None:
                raise AssertionError(f"rete serve exited: {log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"rete serve did not start: {log.read_text()[-2000:]}")
            time.sleep(0.2)
        yield Served(env, process, log)
    finally:
        stop(process)
