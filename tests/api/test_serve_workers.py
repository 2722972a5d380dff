"""``rete serve --workers N`` killed without the chance to stop its workers (SIGKILL
of the process that started them): the workers shut down by themselves, as if
asked to, and the port is free for the server's restart. Before, they went on
serving, and running the background work, with the code they started with."""

from __future__ import annotations

import signal
from pathlib import Path

import httpx
import pytest
from support.processes import all_ended
from support.served import served


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


@pytest.mark.long
def test_the_workers_of_a_killed_server_stop_and_free_its_port(
    sqlite_env: dict[str, str], tmp_path: Path
) -> None:
    with served(sqlite_env, tmp_path / "serve.log", "--workers", "2") as server:
        workers = _children(server.process.pid)
        assert len(workers) >= 2, workers  # the workers (and multiprocessing's tracker)
        server.process.send_signal(signal.SIGKILL)
        server.process.wait(30)

        assert all_ended(workers, within=15), server.log.read_text()[-2000:]
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{server.base}/health", timeout=2)
