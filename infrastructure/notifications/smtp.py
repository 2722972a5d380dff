"""Sending one message through the configured SMTP server (stdlib ``smtplib``).

One connection per message: emails go out for emergencies and missed deadlines,
a few a day, so a connection kept open would be one more thing to fail silently.
Every failure, from the connection refused to a recipient rejected, is raised as
``SmtpFailed`` with a message that names the server and what went wrong, never
the message's text.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage

from infrastructure.settings import SmtpSettings


class SmtpFailed(Exception):
    """The server could not be reached, or did not take the message."""


def _connect(smtp: SmtpSettings) -> smtplib.SMTP:
    if smtp.security == "tls":
        return smtplib.SMTP_SSL(
            smtp.host, smtp.port, timeout=smtp.timeout, context=ssl.create_default_context()
        )
    client = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout)
    if smtp.security == "starttls":
        client.starttls(context=ssl.create_default_context())
    return client


def send(smtp: SmtpSettings, message: EmailMessage) -> None:
    """Send ``message`` (its From, To and headers already set) through ``smtp``."""
    where = f"SMTP server {smtp.host}:{smtp.port}"
    try:
        with _connect(smtp) as client:
            if smtp.username is not None:
                client.login(smtp.username, smtp.password or "")
            refused = client.send_message(message)
    except smtplib.SMTPRecipientsRefused as e:
        raise SmtpFailed(f"{where} refused the recipient(s): {_codes(e.recipients)}") from None
    except smtplib.SMTPResponseException as e:
        raise SmtpFailed(f"{where} answered {e.smtp_code}") from None
    except (smtplib.SMTPException, OSError) as e:
        raise SmtpFailed(f"{where}: {type(e).__name__}: {e}") from None
    if refused:
        raise SmtpFailed(f"{where} refused the recipient(s): {_codes(refused)}")


def _codes(refused: dict[str, tuple[int, bytes]]) -> str:
    return ", ".join(f"{address} ({code})" for address, (code, _) in sorted(refused.items()))
