"""A webhook: one announcement POSTed to a subscription's endpoint, signed as the
Standard Webhooks specification says.

Headers ``webhook-id`` (the announcement's id: receivers drop repeats by it),
``webhook-timestamp`` (seconds since 1970, when this attempt was made: the
receiver refuses stale ones) and ``webhook-signature``: ``v1,<base64 HMAC-SHA256
of "{id}.{timestamp}.{body}">`` under each secret that signs now (two, space
separated, while a rotated secret's overlap lasts). Signing is the specification's
reference library's (``standardwebhooks``). The body is
``{"type": kind, "timestamp": ..., "data": announcement}``: ids, kinds, urgency,
deadlines and a link, never anything of her.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Final

import httpx
import msgspec
from standardwebhooks.webhooks import Webhook

from application.notifications.announcement import Announcement
from application.notifications.ports import DeliveryFailed

# Short: a slow receiver must not hold the worker; it is tried again later.
TIMEOUT: Final = httpx.Timeout(5.0, connect=3.0)
USER_AGENT: Final = "Rete-Webhooks/1"


class Envelope(msgspec.Struct, frozen=True):
    type: str
    timestamp: datetime
    data: Announcement


_encoder = msgspec.json.Encoder()


def body_of(announcement: Announcement) -> bytes:
    return _encoder.encode(Envelope(announcement.kind, announcement.occurred_at, announcement))


def signature(secrets: Sequence[str], msg_id: str, at: datetime, body: bytes) -> str:
    """The ``webhook-signature`` header: one ``v1,…`` per secret, space separated."""
    return " ".join(Webhook(secret).sign(msg_id, at, body) for secret in secrets)


def signed_headers(
    secrets: Sequence[str], announcement: Announcement, at: datetime, body: bytes
) -> dict[str, str]:
    stamp = int(at.timestamp())
    moment = datetime.fromtimestamp(stamp, UTC)
    return {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": announcement.id,
        "webhook-timestamp": str(stamp),
        "webhook-signature": signature(secrets, announcement.id, moment, body),
    }


class WebhookSender:
    """POSTs signed announcements; raises ``DeliveryFailed`` on anything but a 2xx."""

    def __init__(
        self,
        client: httpx.Client | None = None,
        wall: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        # ``wall``: the attempt's real time, which the receiver checks against its
        # own clock (the worker's schedule may run on another, simulated in tests).
        self._client = client
        self._wall = wall
        self._lock = threading.Lock()

    def _http(self) -> httpx.Client:
        """The client, made at the first delivery: making one loads the system's
        certificate store (tens of milliseconds), which every process that builds the
        application would otherwise pay, whether or not it ever sends a webhook."""
        with self._lock:
            if self._client is None:
                self._client = httpx.Client(timeout=TIMEOUT, follow_redirects=False)
            return self._client

    def send(self, url: str, secrets: Sequence[str], announcement: Announcement) -> None:
        body = body_of(announcement)
        headers = signed_headers(secrets, announcement, self._wall(), body)
        try:
            response = self._http().post(url, content=body, headers=headers)
        except httpx.HTTPError as e:
            raise DeliveryFailed(f"no answer: {type(e).__name__}") from None
        if not 200 <= response.status_code < 300:
            raise DeliveryFailed(f"answered {response.status_code}")

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()


class WebhookChannel:
    """One subscription as a ``Channel`` (``application.notifications.ports``)."""

    name = "webhook"

    def __init__(
        self, sender: WebhookSender, url: str, kinds: Sequence[str], secrets: Sequence[str]
    ) -> None:
        self._sender = sender
        self._url = url
        self._kinds = frozenset(kinds)
        self._secrets = tuple(secrets)

    def wants(self, announcement: Announcement) -> bool:
        return announcement.kind in self._kinds

    def deliver(self, announcement: Announcement) -> None:
        self._sender.send(self._url, self._secrets, announcement)
