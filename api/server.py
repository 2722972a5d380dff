"""The HTTP server's protocol: uvicorn's h11 protocol, with a read deadline.

uvicorn bounds the idle time between two requests of a connection
(``timeout_keep_alive``) but not the time a client takes to send one: a client
that connects and sends nothing, sends half its headers, or stops in the middle
of its body holds the connection (and, once its headers arrived, a request in the
application) for as long as it likes. Here a whole request (headers and body)
must arrive within ``RETE_READ_TIMEOUT`` seconds of the connection opening or of
its first byte; past that the server answers ``408`` if it has not read the
headers yet, and closes the connection either way (the application, if it was
reading the body, sees the client gone).

``rete serve`` gives uvicorn this class as its ``http`` protocol, so the bound
holds without a reverse proxy in front (one may still be used: docs/deploy/).
"""

from __future__ import annotations

import asyncio
import functools
import multiprocessing
import os
import signal
from typing import Any

import h11
import uvicorn
from litestar import Litestar
from uvicorn.protocols.http.h11_impl import H11Protocol

from api.app import create_app
from api.cli_waiting import until_the_database_answers
from api.long_lived import is_long_lived
from infrastructure.logging import configure_logging
from infrastructure.orphans import end_with_parent
from infrastructure.settings import load_settings

# The client's side of the connection once the request arrived whole.
_ARRIVED = (h11.DONE, h11.MUST_CLOSE, h11.CLOSED, h11.ERROR)


@functools.cache
def _read_timeout() -> float:
    return load_settings().read_timeout


class ReadDeadlineProtocol(H11Protocol):
    """h11, closing a connection whose request does not arrive whole in time."""

    read_timeout: float | None = None  # None: RETE_READ_TIMEOUT (tests set it)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._read_deadline: asyncio.TimerHandle | None = None

    def _timeout(self) -> float:
        return self.read_timeout if self.read_timeout is not None else _read_timeout()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()  # a client that connects and sends nothing

    def data_received(self, data: bytes) -> None:
        if self._read_deadline is None and not self._arrived():
            self._arm()
        super().data_received(data)
        self._disarm_if_arrived()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        # The next request of the connection may be arriving already (pipelined).
        if self._arrived():
            self._disarm()
        elif self._read_deadline is None and (
            self.conn.trailing_data[0] or self.conn.their_state is h11.SEND_BODY
        ):
            self._arm()

    def shutdown(self) -> None:
        # A stream (api/long_lived.py) would keep a stopping server waiting for ever:
        # its connection is closed now, and its client reconnects elsewhere.
        if (
            self.cycle is not None
            and not self.cycle.response_complete
            and is_long_lived(self.cycle.scope)
        ):
            self.transport.close()
            return
        super().shutdown()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arrived(self) -> bool:
        return self.conn.their_state in _ARRIVED

    def _arm(self) -> None:
        self._disarm()
        self._read_deadline = self.loop.call_later(self._timeout(), self._too_slow)

    def _disarm(self) -> None:
        if self._read_deadline is not None:
            self._read_deadline.cancel()
            self._read_deadline = None

    def _disarm_if_arrived(self) -> None:
        if self._arrived():
            self._disarm()

    def _too_slow(self) -> None:
        self._read_deadline = None
        if self.transport.is_closing() or self._arrived():
            return
        if self.conn.their_state is h11.IDLE and self.conn.our_state is h11.IDLE:
            # Nothing of the request read yet, or its headers unfinished: say so.
            try:
                body = b"the request did not arrive in time\n"
                for event in (
                    h11.Response(
                        status_code=408,
                        headers=[
                            (b"content-type", b"text/plain; charset=utf-8"),
                            (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close"),
                        ],
                    ),
                    h11.Data(data=body),
                    h11.EndOfMessage(),
                ):
                    self.transport.write(self.conn.send(event) or b"")
            except h11.LocalProtocolError:
                pass
        self.transport.close()


def create_served_app() -> Litestar:
    """Each worker's app (``rete serve``): built once the database answers. A worker
    started while the database is away or full waits, saying why, rather than
    dying (which would stop the whole server). A worker of several (``--workers``)
    shuts down as if asked to (SIGTERM: requests in flight are answered, the
    background work stops) once the process that started it is gone, killed
    without the chance to stop its workers."""
    settings = load_settings()
    configure_logging(settings.log_format)
    if multiprocessing.parent_process() is not None:
        end_with_parent(lambda: os.kill(os.getpid(), signal.SIGTERM))
    return until_the_database_answers(settings, lambda: create_app(settings))


def run_server(factory: str, host: str, port: int, workers: int) -> None:
    """uvicorn as ``rete serve`` runs it (the load benchmark's baseline too, so that
    both are served alike); ``factory`` names the function that makes the app."""
    uvicorn.run(
        factory,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=False,
        log_config=None,
        server_header=False,
        # A request must arrive whole within RETE_READ_TIMEOUT.
        http=ReadDeadlineProtocol,
    )
