"""``rete notify run``, the worker as its own process (PostgreSQL's way, and
SQLite's), sends the emails too when ``RETE_SMTP_URL`` is set."""

from __future__ import annotations

import signal
import subprocess
from types import SimpleNamespace

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
