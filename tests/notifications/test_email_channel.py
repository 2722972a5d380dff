"""The email channel against a real SMTP server the test starts (aiosmtpd): what a
service's duty address receives, in Italian, and how a failure is reported."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from smtp_server import smtp_server
from support.processes import free_port

from application.notifications.announcement import Announcement
from application.notifications.ports import DeliveryFailed
from infrastructure.network_file import load_duty_addresses
from infrastructure.notifications.email import EmailChannel
from infrastructure.settings import SmtpSettings, load_settings

POLICE_DUTY = "turno@polizialocale.cesano-boscone.example"
AT = datetime(2026, 12, 5, 13, 30, tzinfo=UTC)

# The login tests' server asks for a password over plain SMTP: a loopback in a test.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


def announcement(**overrides: object) -> Announcement:
    fields: dict[str, object] = {
        "id": "ann-0001",
        "position": 1,
        "kind": "referral.received",
        "service": "pl-cesano",
        "occurred_at": AT,
        "referral_id": "ref-7f3a",
        "case_ref": "CB-2026-0042",
        "urgency": "emergency",
        "deadline": AT + timedelta(hours=1),
        "link": "/api/v1/referrals/ref-7f3a",
    }
    return Announcement(**{**fields, **overrides})  # type: ignore[arg-type]


def channel(port: int, *, login: tuple[str, str] | None = None) -> EmailChannel:
    url = f"smtp://127.0.0.1:{port}"
    if login is not None:
        url = f"smtp://{login[0]}:{login[1]}@127.0.0.1:{port}"
    env = {
        "RETE_SMTP_URL": url,
        "RETE_SMTP_FROM": "rete@cesano-boscone.example",
        "RETE_SMTP_TIMEOUT": "5",
        "RETE_PUBLIC_URL": "https://rete.cesano-boscone.example",
    }
    settings = load_settings(env)
    assert isinstance(settings.smtp, SmtpSettings)
    return EmailChannel(settings.smtp, load_duty_addresses(), public_url=settings.public_url)


def test_an_emergency_reaches_the_duty_address_in_italian() -> None:
    with smtp_server() as mailbox:
        channel(mailbox.port).deliver(announcement())
        [mail] = mailbox.wait_for(1, timeout=10)
    assert mail.recipients == [POLICE_DUTY]
    assert mail.sender == "rete@cesano-boscone.example"
    assert mail.message["Subject"] == "[Rete] EMERGENZA: Nuovo invio ricevuto (invio ref-7f3a)"
    assert mail.message["X-Rete-Announcement"] == "ann-0001"
    body = mail.message.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    assert "Invio: ref-7f3a" in text
    assert "Fascicolo: CB-2026-0042" in text
    assert "Urgenza: EMERGENZA" in text
    # The deadline in the reader's time (Rome, UTC+1 in December) and in UTC.
    assert "Scadenza: 05/12/2026 15:30 (ora italiana; 14:30 UTC)" in text
    assert "Collegamento: https://rete.cesano-boscone.example/api/v1/referrals/ref-7f3a" in text
    assert "non contiene dati personali" in text


def test_a_missed_deadline_and_an_escalation_are_emailed_whatever_the_urgency() -> None:
    email = channel(free_port())
    assert email.wants(announcement(kind="deadline.missed", urgency="routine"))
    assert email.wants(announcement(kind="referral.escalated", urgency="urgent"))
    assert email.wants(announcement(kind="referral.received", urgency="emergency"))


def test_what_is_not_an_emergency_or_a_missed_deadline_is_not_emailed() -> None:
    email = channel(free_port())
    assert not email.wants(announcement(urgency="urgent"))
    assert not email.wants(announcement(urgency="routine"))
    for kind in ("referral.acknowledged", "referral.accepted", "deadline.approaching"):
        assert not email.wants(announcement(kind=kind))
    # The observatory has no duty address: it is written to about nothing.
    assert not email.wants(announcement(kind="deadline.missed", service="osservatorio"))


def test_the_same_announcement_sent_twice_is_recognisably_the_same_message() -> None:
    with smtp_server() as mailbox:
        email = channel(mailbox.port)
        email.deliver(announcement())
        email.deliver(announcement())
        first, second = mailbox.wait_for(2, timeout=10)
    assert first.message["Message-ID"] == second.message["Message-ID"]
    other = email.message(announcement(id="ann-0002"))
    assert other["Message-ID"] != first.message["Message-ID"]


def test_a_server_asking_for_a_login_gets_it() -> None:
    with smtp_server(login=("rete", "s3gr3t0")) as mailbox:
        channel(mailbox.port, login=("rete", "s3gr3t0")).deliver(announcement())
        [mail] = mailbox.wait_for(1, timeout=10)
    assert mail.recipients == [POLICE_DUTY]


def test_a_wrong_login_fails_cleanly() -> None:
    refused = pytest.raises(DeliveryFailed, match="answered 535")
    with smtp_server(login=("rete", "s3gr3t0")) as mailbox, refused as failed:
        channel(mailbox.port, login=("rete", "sbagliata")).deliver(announcement())
    assert "sbagliata" not in str(failed.value)
    assert mailbox.received == []


def test_the_server_down_is_a_delivery_failure_worth_retrying() -> None:
    port = free_port()  # nobody listens there
    with pytest.raises(DeliveryFailed, match=f"SMTP server 127.0.0.1:{port}"):
        channel(port).deliver(announcement())


def test_a_refused_duty_address_is_a_delivery_failure() -> None:
    with smtp_server() as mailbox:
        mailbox.refuse.add(POLICE_DUTY)
        with pytest.raises(DeliveryFailed, match="refused"):
            channel(mailbox.port).deliver(announcement())
    assert mailbox.received == []


def test_the_server_back_after_a_failure_takes_the_message() -> None:
    port = free_port()
    email = channel(port)
    with pytest.raises(DeliveryFailed):
        email.deliver(announcement())
    with smtp_server(port=port) as mailbox:
        # The same address, now answering: the retry the worker makes goes through.
        email.deliver(announcement())
        assert len(mailbox.wait_for(1, timeout=10)) == 1
