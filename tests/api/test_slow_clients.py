"""Slow clients cannot hold the server's connections (issue 11, finding 6): a whole
request (headers and body) must arrive within ``RETE_READ_TIMEOUT`` of the
connection or of its first byte (``api/server.py``). Raw sockets against a real
``rete serve``.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.served import Served, served

# Each test waits out read deadlines on purpose (tests/conftest.py starts these first).
pytestmark = pytest.mark.long

READ_TIMEOUT = 2.0
# How long a test waits for the server to close before calling it held open.
PATIENCE = READ_TIMEOUT + 8.0


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    tmp: Path = tmp_path_factory.mktemp("slow")
    env = {
        "RETE_DATABASE_URL": f"sqlite:///{tmp / 'rete.sqlite'}",
        "RETE_VAR_DIR": str(tmp / "var"),
        "RETE_READ_TIMEOUT": str(READ_TIMEOUT),
        "RETE_CHECKPOINT_INTERVAL": "0",
        "RETE_ESCALATION_INTERVAL": "0",
    }
    with served(env, tmp / "serve.log") as running:
        yield running


def _connect(server: Served) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", server.port), timeout=PATIENCE)
    return s


def _until_closed(s: socket.socket) -> bytes:
    """Everything the server sends until it closes; fails if it keeps it open."""
    received = b""
    try:
        while chunk := s.recv(4096):
            received += chunk
    except TimeoutError:
        pytest.fail(f"the server held the connection open for {PATIENCE} s")
    except ConnectionResetError:
        pass
    return received


def test_a_client_that_sends_nothing_is_disconnected(server: Served) -> None:
    with _connect(server) as s:
        assert _until_closed(s).startswith(b"HTTP/1.1 408 ")


def test_unfinished_headers_are_answered_408_and_closed(server: Served) -> None:
    with _connect(server) as s:
        s.sendall(b"GET /health HTTP/1.1\r\nHost: rete\r\nX-Slow: ")
        answer = _until_closed(s)
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert b"connection: close" in answer.lower()


def test_a_stalled_body_is_closed(server: Served) -> None:
    with _connect(server) as s:
        s.sendall(
            b"POST /api/v1/cases HTTP/1.1\r\nHost: rete\r\n"
            + b"Authorization: "
            + server.headers("anna")["Authorization"].encode()
            + b'\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"a'
        )
        answer = _until_closed(s)
    assert b" 201 " not in answer


def test_trickled_headers_within_the_deadline_are_served(server: Served) -> None:
    with _connect(server) as s:
        for part in (b"GET /health HTTP/1.1\r\n", b"Host: rete\r\n", b"Connection: close\r\n\r\n"):
            s.sendall(part)
            time.sleep(READ_TIMEOUT / 5)
        assert _until_closed(s).startswith(b"HTTP/1.1 200 ")


def test_a_kept_alive_connection_gets_a_fresh_deadline_for_each_request(server: Served) -> None:
    with _connect(server) as s:
        for _ in range(3):
            s.sendall(b"GET /health HTTP/1.1\r\nHost: rete\r\n\r\n")
            answer = b""
            while b"}" not in answer:  # the whole (small) JSON body
                chunk = s.recv(4096)
                assert chunk, "closed"
                answer += chunk
            assert answer.startswith(b"HTTP/1.1 200 ")
            time.sleep(READ_TIMEOUT * 0.6)  # within keep-alive; longer than half the deadline


def test_many_slow_clients_are_all_disconnected(server: Served) -> None:
    sockets = [_connect(server) for _ in range(200)]
    try:
        for s in sockets:
            s.sendall(b"GET /health HTTP/1.1\r\nHost: ")
        for s in sockets:
            _until_closed(s)
        # And the server still answers.
        with _connect(server) as s:
            s.sendall(b"GET /health HTTP/1.1\r\nHost: rete\r\nConnection: close\r\n\r\n")
            assert _until_closed(s).startswith(b"HTTP/1.1 200 ")
    finally:
        for s in sockets:
            s.close()
