"""``rete serve`` as a child process, driven over HTTP like a real deployment."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from api.auth import mint_token
from infrastructure.dev_secret import load_or_create_dev_secret
from infrastructure.settings import load_settings
from support.people import PEOPLE
from support.processes import PROJECT, free_port, stop, wait_answering


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
        wait_answering(f"http://127.0.0.1:{env['RETE_PORT']}", process, ready, log)
        yield Served(env, process, log)
    finally:
        stop(process)
