"""schemathesis against the served OpenAPI document, as an integrator runs it.

``run_schemathesis`` serves ``create_app(settings)`` with uvicorn on a free
local port, mints a token for anna at the CAV as caseworker and coordinator (legal holds,
erasure and expiry are exercised too), and runs the
``st run`` command on ``/schema/openapi.json`` with every check and every
phase (examples, coverage, fuzzing, stateful), the hooks of
``tests/api/conformance_hooks.py`` and a fixed seed. It answers the exit code,
the report and the number of requests schemathesis generated.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import uvicorn

from api.app import create_app
from infrastructure.settings import Settings
from support.http import dev_token

HOOKS_DIR = Path(__file__).resolve().parent.parent / "api"
CONFIG = HOOKS_DIR / "schemathesis.toml"
ST = Path(sys.executable).parent / "st"
GENERATED = re.compile(r"(\d+) generated")


@dataclass(frozen=True)
class Run:
    returncode: int
    output: str
    generated: int


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def run_schemathesis(
    settings: Settings,
    examples: int,
    seed: int,
    workdir: Path,
    phases: str = "examples,coverage,fuzzing,stateful",
    timeout: float = 3600,
    only: str | None = None,
) -> Run:
    """Schemathesis against a served document; ``only``: a regex of the paths to try."""
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_config=None)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError("the server did not start")
            time.sleep(0.05)
        token = dev_token(
            settings, "anna", "cav-scirocco", ["caseworker", "coordinator"], timedelta(hours=2)
        )
        command = [
            str(ST),
            f"--config-file={CONFIG}",
            "run",
            f"http://127.0.0.1:{port}/schema/openapi.json",
            "--checks=all",
            f"--max-examples={examples}",
            f"--seed={seed}",
            f"--phases={phases}",
            "--generation-database=none",
            "--no-color",
            "--header",
            f"Authorization: Bearer {token}",
            *([f"--include-path-regex={only}"] if only else []),
        ]
        env = {
            **os.environ,
            "SCHEMATHESIS_HOOKS": "conformance_hooks",
            "PYTHONPATH": os.pathsep.join([str(HOOKS_DIR), os.environ.get("PYTHONPATH", "")]),
        }
        done = subprocess.run(
            command, cwd=workdir, env=env, capture_output=True, text=True, timeout=timeout
        )
    finally:
        server.should_exit = True
        thread.join(timeout=30)
    output = done.stdout + done.stderr
    found = GENERATED.findall(output)
    return Run(done.returncode, output, int(found[-1]) if found else 0)
