"""How long an emergency referral takes to reach the police's desk (the event stream)
and duty address (email), as the server runs: its own notifications worker at the
default interval (``RETE_NOTIFY_INTERVAL``, 1 s, woken by a write made over HTTP;
here the referral is made on the application, so the worker's interval counts),
the stream's watch at the default poll (``RETE_STREAM_POLL_INTERVAL``, 0.5 s)::

    .venv/bin/python -m bench.announcements [--samples 20] [--backend both]

Each sample: a referral, then the wait until its event is on a police caseworker's
stream and its email at the test SMTP server (aiosmtpd, a dev dependency).
"""

from __future__ import annotations

import argparse
import queue
import statistics
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import httpx
import uvicorn
from aiosmtpd.controller import Controller
from rich.console import Console
from rich.table import Table

from api.app import create_app
from api.auth import mint_token
from api.server import ReadDeadlineProtocol
from application.rete import Rete
from bench.backends import Backend, add_backend_options, chosen_backends
from infrastructure.bootstrap import build_rete
from infrastructure.dev_secret import load_or_create_dev_secret
from infrastructure.settings import Settings, load_settings
from tests.support.processes import free_port


class _Inbox:
    def __init__(self) -> None:
        self.arrived: queue.Queue[float] = queue.Queue()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.arrived.put(time.monotonic())
        return "250 OK"


@contextmanager
def _serving(settings: Settings, rete: Rete) -> Iterator[str]:
    port = free_port()
    config = uvicorn.Config(
        create_app(settings, rete),
        host="127.0.0.1",
        port=port,
        log_config=None,
        http=ReadDeadlineProtocol,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)


def _listen(base: str, token: str, events: queue.Queue[float], stop: threading.Event) -> None:
    headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}
    timeout = httpx.Timeout(30, read=None)
    url = base + "/api/v1/announcements/stream"
    try:
        with httpx.stream("GET", url, headers=headers, timeout=timeout) as r:
            for line in r.iter_lines():
                if line.startswith("event: referral.received"):
                    events.put(time.monotonic())
                if stop.is_set():
                    return
    except httpx.HTTPError:
        return  # the server stopped: it cuts its streams


def measure(backend: Backend, samples: int) -> dict[str, list[float]]:
    inbox = _Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    try:
        with backend.fresh() as storage:
            settings = load_settings(
                {
                    "RETE_DATABASE_URL": storage.database_url,
                    "RETE_VAR_DIR": str(storage.var_dir / "var"),
                    "RETE_CHECKPOINT_INTERVAL": "0",
                    "RETE_SMTP_URL": f"smtp://127.0.0.1:{smtp.port}",
                    "RETE_SMTP_FROM": "rete@cesano-boscone.example",
                }
            )
            rete = build_rete(settings)
            try:
                return _samples(settings, rete, inbox, samples)
            finally:
                rete.close()
    finally:
        smtp.stop()


def _samples(settings: Settings, rete: Rete, inbox: _Inbox, samples: int) -> dict[str, list[float]]:
    anna = rete.identify("anna", "cav-scirocco", ["caseworker"])
    chiara = rete.identify("chiara", "cav-scirocco", ["coordinator"])
    secret = load_or_create_dev_secret(settings.jwt_secret_file).key
    token = mint_token(
        secret, settings.jwt_issuer, settings.jwt_audience, "paolo", "pl-cesano",
        ["caseworker"], timedelta(hours=1),
    )  # fmt: skip
    found: dict[str, list[float]] = {"stream": [], "email": []}
    events: queue.Queue[float] = queue.Queue()
    stop = threading.Event()
    with _serving(settings, rete) as base:
        threading.Thread(target=_listen, args=(base, token, events, stop), daemon=True).start()
        time.sleep(1.0)  # the stream open
        for _ in range(samples):
            case = rete.cases.open(anna)
            rete.referrals.refer(
                chiara,
                case.reference_code,
                recipient_service="pl-cesano",
                kind="protection_measures",
                urgency="emergency",
                reason="threat",
                scope=["safety", "violence"],
                legal_basis="vital_interest",
                justification="danger",
            )
            sent = time.monotonic()
            found["stream"].append(events.get(timeout=30) - sent)
            found["email"].append(inbox.arrived.get(timeout=30) - sent)
        stop.set()
    return found


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.announcements", description=__doc__)
    parser.add_argument("--samples", type=int, default=20)
    add_backend_options(parser)
    args = parser.parse_args(argv)
    console = Console()
    table = Table(title="An emergency referral to the police: seconds until it reaches")
    for column in ("backend", "channel", "median", "p95", "max"):
        table.add_column(column)
    for backend in chosen_backends(args, console):
        for channel, seconds in measure(backend, args.samples).items():
            ordered = sorted(seconds)
            p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
            table.add_row(
                backend.name,
                channel,
                f"{statistics.median(ordered):.2f}",
                f"{p95:.2f}",
                f"{ordered[-1]:.2f}",
            )
    console.print(table)


if __name__ == "__main__":
    main()
