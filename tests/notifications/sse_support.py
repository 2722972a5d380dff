"""The API served by uvicorn over the test's application, and a Server-Sent Events
client that reads a stream in a thread so that a test can wait for what comes.

The server runs with the protocol ``rete serve`` runs (``api.server``), so its read
deadline and its stop apply to the streams as in production.
"""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
import uvicorn
from support.people import PEOPLE
from support.processes import free_port

from api.app import create_app
from api.auth import mint_token
from api.server import ReadDeadlineProtocol
from application.rete import Rete
from infrastructure.dev_secret import load_or_create_dev_secret
from infrastructure.settings import Settings

STREAM = "/api/v1/announcements/stream"


@dataclass
class Message:
    """One message of a stream: an event (``event`` set) or a comment with an id."""

    id: str | None
    event: str | None
    data: str | None
    comments: list[str]

    @property
    def announcement(self) -> dict[str, Any]:
        assert self.data is not None
        value = json.loads(self.data)
        assert isinstance(value, dict)
        return value


END = object()  # what the reader puts in the queue when the stream ended


@dataclass
class Stream:
    """An open stream; ``close`` disconnects it as a client that goes away."""

    response: httpx.Response
    client: httpx.Client
    messages: queue.Queue[Any] = field(default_factory=queue.Queue)
    ended: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None

    def read(self) -> None:
        fields: dict[str, str] = {}
        comments: list[str] = []
        try:
            for line in self.response.iter_lines():
                if line == "":
                    if fields or comments:
                        self.messages.put(
                            Message(
                                fields.get("id"), fields.get("event"), fields.get("data"), comments
                            )
                        )
                    fields, comments = {}, []
                elif line.startswith(":"):
                    comments.append(line[1:].strip())
                else:
                    name, _, value = line.partition(":")
                    value = value[1:] if value.startswith(" ") else value
                    fields[name] = fields[name] + "\n" + value if name in fields else value
        except BaseException as e:  # the stream cut: what a stopped server does
            self.error = e
        finally:
            self.ended.set()
            self.messages.put(END)

    def next(self, timeout: float) -> Message:
        """The next message; fails if none comes within ``timeout`` or the stream ends."""
        try:
            message = self.messages.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"nothing on the stream for {timeout} s") from None
        assert message is not END, f"the stream ended ({self.error!r})"
        assert isinstance(message, Message)
        return message

    def next_event(self, timeout: float) -> Message:
        """The next event, skipping comments (heartbeats)."""
        deadline = time.monotonic() + timeout
        while True:
            message = self.next(max(deadline - time.monotonic(), 0.01))
            if message.event is not None:
                return message

    def events_until_quiet(self, timeout: float) -> list[Message]:
        """Every event up to the first heartbeat: the heartbeat comes only once the
        stream has sent all there was to send."""
        events = []
        deadline = time.monotonic() + timeout
        while True:
            message = self.next(max(deadline - time.monotonic(), 0.01))
            if message.event is None and "keep-alive" in message.comments:
                return events
            if message.event is not None:
                events.append(message)

    def close(self) -> None:
        self.response.close()
        self.client.close()


@dataclass
class Served:
    base: str
    settings: Settings
    server: uvicorn.Server
    thread: threading.Thread
    streams: list[Stream] = field(default_factory=list)

    def token(self, who: str, ttl: timedelta = timedelta(hours=1)) -> str:
        service, roles = PEOPLE[who]
        s = self.settings
        secret = load_or_create_dev_secret(s.jwt_secret_file).key
        return mint_token(secret, s.jwt_issuer, s.jwt_audience, who, service, roles, ttl)

    def headers(self, who: str, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(who)}", **extra}

    def get(self, who: str, path: str, **headers: str) -> httpx.Response:
        return httpx.get(self.base + path, headers=self.headers(who, **headers), timeout=30)

    def stream(
        self, who: str, *, after: int | None = None, token: str | None = None, **headers: str
    ) -> Stream:
        """Open a stream as ``who`` (or with ``token``), after position ``after`` if
        given, with ``headers``; fails unless it answers 200."""
        path = STREAM if after is None else f"{STREAM}?after={after}"
        client = httpx.Client(base_url=self.base, timeout=httpx.Timeout(30, read=None))
        sent = {
            "Authorization": f"Bearer {token or self.token(who)}",
            "Accept": "text/event-stream",
            **headers,
        }
        response = client.send(client.build_request("GET", path, headers=sent), stream=True)
        if response.status_code != 200:
            response.read()
            client.close()
            raise AssertionError(f"{response.status_code}: {response.text}")
        assert response.headers["content-type"].startswith("text/event-stream")
        stream = Stream(response, client)
        threading.Thread(target=stream.read, daemon=True).start()
        self.streams.append(stream)
        return stream

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(30)


@contextmanager
def serving(settings: Settings, rete: Rete, read_timeout: float = 10.0) -> Iterator[Served]:
    """The API over ``rete`` on a free port, with ``rete serve``'s protocol."""
    port = free_port()

    class Protocol(ReadDeadlineProtocol):
        pass

    Protocol.read_timeout = read_timeout
    config = uvicorn.Config(
        create_app(settings, rete), host="127.0.0.1", port=port, log_config=None, http=Protocol
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("the server did not start")
        time.sleep(0.02)
    served = Served(f"http://127.0.0.1:{port}", settings, server, thread)
    try:
        yield served
    finally:
        for stream in served.streams:
            stream.close()
        served.stop()
