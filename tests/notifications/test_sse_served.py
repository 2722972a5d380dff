"""The announcements' stream on a real ``rete serve`` (a child process): the read
deadline does not end it, and SIGTERM stops the server at once rather than wait
for a stream that never ends."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from sse_support import STREAM
from support.served import served

WAIT = 10.0


@pytest.mark.slow
def test_a_stream_outlives_the_read_deadline_and_ends_with_the_server(tmp_path: Path) -> None:
    env = {
        "RETE_DATABASE_URL": f"sqlite:///{tmp_path / 'rete.sqlite'}",
        "RETE_VAR_DIR": str(tmp_path / "var"),
        "RETE_READ_TIMEOUT": "1",
        "RETE_STREAM_HEARTBEAT": "1",
        "RETE_CHECKPOINT_INTERVAL": "0",
    }
    with served(env, tmp_path / "serve.log") as server:
        headers = {**server.headers("paolo"), "Accept": "text/event-stream"}
        with httpx.stream(
            "GET", server.base + STREAM, headers=headers, timeout=httpx.Timeout(WAIT)
        ) as response:
            assert response.status_code == 200
            lines = response.iter_lines()
            heartbeats = 0
            while heartbeats < 3:  # three seconds: the read deadline passed thrice
                if next(lines) == ": keep-alive":
                    heartbeats += 1

            server.process.terminate()  # SIGTERM, the stream still open
            with pytest.raises(httpx.RemoteProtocolError):  # cut: the client reconnects
                for more, line in enumerate(lines):
                    # Heartbeats still coming WAIT seconds on: the server waits for it.
                    assert not (line == ": keep-alive" and more > 3 * WAIT), "still open"
        # It stopped by itself, gracefully (SIGKILL comes only after 20 s, in
        # ``served``; uvicorn ends by raising the SIGTERM it deferred).
        server.process.wait(WAIT)
        assert "Finished server process" in server.log.read_text()
