"""The email channel: a service's duty address hears of emergencies and missed deadlines.

A ``Channel`` (``application/notifications/ports.py``): the delivery worker asks
``wants`` of every announcement and calls ``deliver`` (retrying it, with back-off,
when it raises ``DeliveryFailed``). The text is Italian and carries what the
announcement carries, nothing more (``application/notifications/email_text.py``).

Each message's ``Message-ID`` is derived from the announcement's id, and the id
is in an ``X-Rete-Announcement`` header too: a delivery retried after the server
took the message but the answer was lost yields the same message again, which a
mail system or a person can recognise as a repeat.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from email.message import EmailMessage
from email.utils import format_datetime

from application.notifications.announcement import Announcement
from application.notifications.email_text import email_text
from application.notifications.ports import DeliveryFailed
from infrastructure.network_file import load_duty_addresses
from infrastructure.notifications.smtp import SmtpFailed, send
from infrastructure.settings import Settings, SmtpSettings

# What reaches a duty address: an emergency just received, a deadline missed,
# an escalation. The rest reaches the service's software (webhooks, SSE).
EMERGENCY_KINDS = frozenset({"referral.received"})
ALWAYS_KINDS = frozenset({"deadline.missed", "referral.escalated"})


def emailed(announcement: Announcement) -> bool:
    """Whether this announcement is one a duty address is written to about."""
    if announcement.kind in ALWAYS_KINDS:
        return True
    return announcement.kind in EMERGENCY_KINDS and announcement.urgency == "emergency"


class EmailChannel:
    """Emails to each service's duty address, through one SMTP server."""

    name = "email"

    def __init__(
        self,
        smtp: SmtpSettings,
        duty_addresses: Mapping[str, str],
        *,
        public_url: str | None = None,
    ) -> None:
        self._smtp = smtp
        self._to = dict(duty_addresses)
        self._public_url = public_url

    @property
    def services(self) -> Sequence[str]:
        """The services it writes to: those with a duty address."""
        return sorted(self._to)

    def wants(self, announcement: Announcement) -> bool:
        # A service without a duty address is not written to (it has the others).
        return emailed(announcement) and announcement.service in self._to

    def message(self, announcement: Announcement) -> EmailMessage:
        """The email for ``announcement`` (built apart from sending, to be read)."""
        text = email_text(announcement, base_url=self._public_url)
        message = EmailMessage()
        message["From"] = self._smtp.sender
        message["To"] = self._to[announcement.service]
        message["Subject"] = text.subject
        message["Date"] = format_datetime(announcement.occurred_at)
        message["Message-ID"] = _message_id(announcement.id, self._smtp.sender)
        message["X-Rete-Announcement"] = announcement.id
        message["Content-Language"] = "it"
        # An automatic message: no out-of-office replies back to it.
        message["Auto-Submitted"] = "auto-generated"
        message.set_content(text.body, charset="utf-8")
        return message

    def deliver(self, announcement: Announcement) -> None:
        if announcement.service not in self._to:
            raise DeliveryFailed(f"service {announcement.service} has no duty email address")
        try:
            send(self._smtp, self.message(announcement))
        except SmtpFailed as e:
            raise DeliveryFailed(str(e)) from None


def _message_id(announcement_id: str, sender: str) -> str:
    """``<hash@domain-of-the-sender>``: stable for one announcement, and made only of
    characters a Message-ID may hold whatever the announcement id looks like."""
    digest = hashlib.sha256(announcement_id.encode()).hexdigest()[:32]
    domain = sender.rpartition("@")[2].strip(">") or "rete"
    return f"<{digest}@{domain}>"


def email_channels(settings: Settings) -> list[EmailChannel]:
    """The email channel when an SMTP server is configured (``RETE_SMTP_URL``), to the
    duty addresses of the directory (``RETE_DIRECTORY_FILE``); none otherwise."""
    if settings.smtp is None:
        return []
    addresses = load_duty_addresses(settings.directory_file)
    return [EmailChannel(settings.smtp, addresses, public_url=settings.public_url)]
