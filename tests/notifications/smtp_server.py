"""A real SMTP server for the email tests (aiosmtpd), keeping what it receives."""

from __future__ import annotations

import email
import email.policy
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from support.processes import free_port

# The police's duty address in the seed directory.
POLICE = "turno@polizialocale.cesano-boscone.example"


def smtp_env(port: int) -> dict[str, str]:
    """The settings that send email through the test's server at ``port``."""
    return {
        "RETE_SMTP_URL": f"smtp://127.0.0.1:{port}",
        "RETE_SMTP_FROM": "rete@cesano-boscone.example",
        "RETE_SMTP_TIMEOUT": "5",
    }


@dataclass
class Received:
    """One message as the server took it: the envelope and the parsed message."""

    sender: str
    recipients: list[str]
    raw: bytes
    message: EmailMessage

    @property
    def text(self) -> str:
        """Everything a reader could see: the headers and the decoded body."""
        body = self.message.get_body(("plain",))
        content = body.get_content() if body is not None else ""
        return "\n".join(f"{k}: {v}" for k, v in self.message.items()) + "\n" + content


@dataclass
class Mailbox:
    host: str
    port: int
    received: list[Received] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)  # recipients answered 550
    arrived: threading.Condition = field(default_factory=threading.Condition)

    def wait_for(self, count: int, timeout: float) -> list[Received]:
        """The messages once ``count`` have arrived; fails after ``timeout`` seconds."""
        with self.arrived:
            if not self.arrived.wait_for(lambda: len(self.received) >= count, timeout):
                raise AssertionError(f"{len(self.received)} message(s) arrived, not {count}")
            return list(self.received)

    # aiosmtpd's handler hooks
    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = bytes(envelope.original_content or envelope.content)
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        with self.arrived:
            self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), raw, parsed))
            self.arrived.notify_all()
        return "250 Message accepted for delivery"


@contextmanager
def smtp_server(login: tuple[str, str] | None = None, port: int | None = None) -> Iterator[Mailbox]:
    """An SMTP server on 127.0.0.1 (at ``port``, or a free one) for the test's
    duration; with ``login``, it asks for that user and password (over the plain
    connection: a test's loopback)."""
    mailbox = Mailbox("127.0.0.1", port or free_port())
    options: dict[str, Any] = {}
    if login is not None:
        user, password = (part.encode() for part in login)

        def authenticator(
            server: Any, session: Any, envelope: Any, mechanism: str, data: Any
        ) -> AuthResult:
            ok = isinstance(data, LoginPassword) and (data.login, data.password) == (user, password)
            # Not "handled": aiosmtpd answers the refusal (535) itself.
            return AuthResult(success=ok, handled=False)

        options = {"authenticator": authenticator, "auth_required": True, "auth_require_tls": False}
    controller = Controller(mailbox, hostname=mailbox.host, port=mailbox.port, **options)
    controller.start()
    try:
        yield mailbox
    finally:
        controller.stop()
