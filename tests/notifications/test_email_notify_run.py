"""``rete notify run``, the worker as its own process (PostgreSQL's way, and
SQLite's), sends the emails too when ``RETE_SMTP_URL`` is set."""

from __future__ import annotations

import signal
import subprocess
import time
from types import SimpleNamespace

import pytest
from smtp_server import POLICE, smtp_env, smtp_server
from support.processes import start
from support.stories import refer_to_protect

from application.rete import Rete

WORKER = ["-c", "from api.cli_notify import notify; notify()", "run", "--poll", "0.1"]


def test_the_worker_process_emails_the_duty_address(
    rete: Rete, rete_env: dict[str, str], people: SimpleNamespace
) -> None:
    case = rete.cases.open(people.anna)
    referral = refer_to_protect(rete, people.chiara, case.reference_code, "threat", "danger")
    with smtp_server() as mailbox:
        child = start(WORKER, {**rete_env, **smtp_env(mailbox.port)}, stderr=subprocess.PIPE)
        try:
            [mail] = mailbox.wait_for(1, 20)
        finally:
            child.send_signal(signal.SIGTERM)
            child.communicate(timeout=30)
    assert mail.recipients == [POLICE]
    assert f"Invio: {referral.id}" in mail.text


@pytest.mark.parametrize(
    "backend", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
def test_on_postgresql_the_worker_process_is_woken_by_the_write_not_by_its_next_round(
    rete: Rete, rete_env: dict[str, str], people: SimpleNamespace
) -> None:
    """Its rounds 30 s apart, the worker hears the referral's append as it commits
    (LISTEN on the events' channel) and the duty address has its email within
    seconds."""
    slow = [*WORKER[:-1], "30"]
    case = rete.cases.open(people.anna)
    with smtp_server() as mailbox:
        child = start(slow, {**rete_env, **smtp_env(mailbox.port)}, stderr=subprocess.PIPE)
        try:
            assert child.stderr is not None
            said = ""  # a warning may come first
            while "Delivering announcements" not in said:
                line = child.stderr.readline()
                assert line, f"the worker stopped: {said}"
                said += line
            time.sleep(1.0)  # its first round is done: the next is 30 s away
            sent = time.monotonic()
            refer_to_protect(rete, people.chiara, case.reference_code, "threat", "danger")
            [mail] = mailbox.wait_for(1, 10)
            took = time.monotonic() - sent
        finally:
            child.send_signal(signal.SIGTERM)
            child.communicate(timeout=30)
    assert mail.recipients == [POLICE]
    assert took < 5, f"the email came {took:.1f} s after the referral"
