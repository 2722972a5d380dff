"""PostgreSQL stopped under load (issue 11, finding 2): every request is answered
within the request timeout, 503 ``database-unreachable`` with ``Retry-After``
while the database is down, never a 500; service resumes without a restart
within 5 s of the database's return; every acknowledged note is stored exactly
once, and no write is refused (4xx).

A private cluster (``support.private_postgres``) is stopped and started; the
server is a real ``rete serve`` driven over HTTP. The default run does a 5 s
outage; 30 and 90 s ones are marked ``slow``.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from support.private_postgres import PrivateCluster, private_postgres  # noqa: F401
from support.served import Served, served

CLIENTS = 4
REQUEST_TIMEOUT = 10.0  # RETE_REQUEST_TIMEOUT, the default
SLACK = 2.0  # the client's own scheduling on a busy machine
BACK_WITHIN = 5.0
CASES = "/api/v1/cases"
# While the database is away: 503 with one of these problem types.
UNAVAILABLE = {"database-unreachable", "outcome-unknown"}


@dataclass
class Answer:
    started: float
    took: float
    status: int
    text: str | None  # the note's text, for a note
    retry_after: str | None
    code: str | None


def _load(server: Served, case: str, stop: threading.Event, answers: list[Answer], n: int) -> None:
    """One caseworker adding notes to her case (and reading it), as fast as answered."""
    headers = server.headers("anna")
    with httpx.Client(base_url=server.base, timeout=60) as client:
        i = 0
        while not stop.is_set():
            i += 1
            text = f"note {n}-{i}"
            started = time.monotonic()
            if i % 3:
                body = {"category": "violence", "text": text}
                response = client.post(f"{CASES}/{case}/notes", json=body, headers=headers)
            else:
                text = None
                response = client.get(f"{CASES}/{case}", headers=headers)
            code = None
            if response.headers.get("content-type", "").startswith("application/problem+json"):
                code = response.json().get("code")
            answers.append(
                Answer(
                    started,
                    time.monotonic() - started,
                    response.status_code,
                    text,
                    response.headers.get("retry-after"),
                    code,
                )
            )
            if response.status_code == 503:
                time.sleep(0.2)


def _outage(cluster: PrivateCluster, tmp_path: Path, down_for: float) -> None:
    url = cluster.create_database("rete")
    env = {
        "RETE_DATABASE_URL": url,
        "RETE_VAR_DIR": str(tmp_path / "var"),
        "RETE_CHECKPOINT_INTERVAL": "1",
        "RETE_ESCALATION_INTERVAL": "1",
        "RETE_LOG_FORMAT": "json",
    }
    with served(env, tmp_path / "serve.log") as server:
        headers = server.headers("anna")
        cases = []
        for _ in range(CLIENTS):  # a case each: two writers of one case conflict (409)
            opened = httpx.post(f"{server.base}{CASES}", headers=headers, timeout=30)
            assert opened.status_code == 201, opened.text
            cases.append(opened.json()["reference_code"])

        answers: list[Answer] = []
        stop = threading.Event()
        clients = [
            threading.Thread(target=_load, args=(server, case, stop, answers, n))
            for n, case in enumerate(cases)
        ]
        for client in clients:
            client.start()
        time.sleep(1.5)
        cluster.stop()
        # While it is down a request is answered 503 at once, whatever the load
        # clients happen to be waiting on.
        probe = httpx.get(
            f"{server.base}{CASES}/{cases[0]}", headers=headers, timeout=REQUEST_TIMEOUT + SLACK
        )
        time.sleep(down_for)
        cluster.start()
        back = time.monotonic()
        time.sleep(BACK_WITHIN + 2)
        stop.set()
        for client in clients:
            client.join(REQUEST_TIMEOUT * 3)

        stored = ""
        for case in cases:
            page = httpx.get(f"{server.base}{CASES}/{case}", headers=headers, timeout=30)
            assert page.status_code == 200, page.text
            stored += page.text

    statuses = sorted({a.status for a in answers})
    assert not [a for a in answers if a.status >= 500 and a.status != 503], statuses
    slowest = max(a.took for a in answers)
    assert slowest <= REQUEST_TIMEOUT + SLACK, f"a request took {slowest:.1f} s"
    assert probe.status_code == 503, probe.text
    assert probe.json()["code"] in UNAVAILABLE and probe.headers["retry-after"]
    refused = [a for a in answers if a.status == 503]
    assert all(a.code in UNAVAILABLE and a.retry_after for a in refused), refused[:3]
    late = [a for a in answers if a.started >= back + BACK_WITHIN]
    assert late and all(a.status in (200, 201) for a in late), [a.status for a in late]
    # Every acknowledged note once; none twice.
    committed_but_refused = []
    for a in answers:
        count = 0 if a.text is None else stored.count(f'"{a.text}"')
        if a.status == 201:
            assert count == 1, (a.text, count)
        else:
            assert count <= 1, (a.text, count)
        if 400 <= a.status < 500:
            assert count == 1, f"{a.status} {a.code} for a request that did not write"
            committed_but_refused.append(a)
    # Issue 11, finding 3: a write the server could not confirm is settled by
    # reading the log, never answered "nothing was written".
    assert not committed_but_refused, committed_but_refused


@pytest.mark.postgres
@pytest.mark.long
def test_a_5_second_outage_under_load(private_postgres: PrivateCluster, tmp_path: Path) -> None:  # noqa: F811
    _outage(private_postgres, tmp_path, 5.0)


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.parametrize("down_for", [30.0, 90.0])
def test_a_long_outage_under_load(
    private_postgres: PrivateCluster,  # noqa: F811
    tmp_path: Path,
    down_for: float,
) -> None:
    _outage(private_postgres, tmp_path, down_for)
