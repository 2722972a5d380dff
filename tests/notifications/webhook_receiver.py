"""A service's webhook endpoint, as the tests run it: a real HTTP server that checks
each request's signature with the Standard Webhooks algorithm and keeps what came."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


@dataclass
class Received:
    id: str
    body: bytes
    payload: dict[str, Any]


@dataclass
class Receiver:
    """What the endpoint answers (``status``), the secrets it accepts, and what it got."""

    secrets: list[str] = field(default_factory=list)
    status: int = 204
    received: list[Received] = field(default_factory=list)  # verified, in arrival order
    refused: int = 0  # requests whose signature did not verify
    attempts: int = 0
    url: str = ""
    delay: float = 0.0  # seconds before answering: a slow receiver
    lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, headers: dict[str, str], body: bytes) -> int:
        if self.delay:
            time.sleep(self.delay)
        with self.lock:
            self.attempts += 1
            if self.status >= 300:
                return self.status
            for secret in self.secrets:
                try:
                    payload = Webhook(secret).verify(body, headers)
                except WebhookVerificationError:
                    assert not by_hand(secret, headers, body)
                    continue
                assert by_hand(secret, headers, body)  # as docs/NOTIFICATIONS.md writes it
                self.received.append(Received(headers["webhook-id"], body, payload))
                return self.status
            self.refused += 1
            return 401

    def ids(self) -> list[str]:
        with self.lock:
            return [r.id for r in self.received]

    def unique_ids(self) -> list[str]:
        """What a receiver keeps once it drops repeats by id, in first-arrival order."""
        return list(dict.fromkeys(self.ids()))

    def payloads(self) -> list[dict[str, Any]]:
        with self.lock:
            return [r.payload for r in self.received]

    def raw(self) -> str:
        with self.lock:
            return "\n".join(r.body.decode() for r in self.received)


def by_hand(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """The check docs/NOTIFICATIONS.md gives, in a few lines of plain Python."""
    msg_id, stamp = headers["webhook-id"], headers["webhook-timestamp"]
    if abs(time.time() - int(stamp)) > 300:
        return False
    key = base64.b64decode(secret.removeprefix("whsec_"))
    mac = hmac.new(key, f"{msg_id}.{stamp}.".encode() + body, hashlib.sha256).digest()
    expected = "v1," + base64.b64encode(mac).decode()
    return any(hmac.compare_digest(expected, s) for s in headers["webhook-signature"].split())


@contextmanager
def receiving(receiver: Receiver) -> Iterator[Receiver]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", "0"))
            body = self.rfile.read(length)
            if len(body) < length:
                # The sender was cut off mid-body (a worker killed while sending):
                # no request arrived, as any HTTP server would see it, so there is
                # nothing to verify or to answer.
                self.close_connection = True
                return
            status = receiver.handle({k.lower(): v for k, v in self.headers.items()}, body)
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/rete"
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def kinds_of(receiver: Receiver) -> list[str]:
    return [p["type"] for p in receiver.payloads()]


def as_json(value: object) -> str:
    return json.dumps(value)
