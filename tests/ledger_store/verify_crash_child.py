"""A verification in two worker processes, slowed down, to be killed.

Run by ``test_ledger_verify_in_parallel.py`` with the RETE_* settings in its
environment (a log of three complete chunks). Workers start from two complete
chunks, one chunk per task, and each chunk waits a second before it is checked
(the workers are forked: they inherit it), so the verification has seconds left
whenever the kill lands. Once both workers are running it prints ``ready`` and
their process ids.
"""

from __future__ import annotations

import multiprocessing
import threading
import time
from typing import Any

from infrastructure.bootstrap import build_store
from infrastructure.ledger import whole_chunks
from infrastructure.ledger.ledger import open_ledger
from infrastructure.ledger.verification import verify_live
from infrastructure.settings import load_settings

PAUSE = 1.0  # seconds before each chunk is checked


def _slowly(check: Any) -> Any:
    def slow(*args: Any, **kwargs: Any) -> Any:
        time.sleep(PAUSE)
        return check(*args, **kwargs)

    return slow


def _say_when_working() -> None:
    while len(workers := multiprocessing.active_children()) < 2:
        time.sleep(0.02)
    print("ready", *(p.pid for p in workers), flush=True)


def main() -> None:
    whole_chunks.PARALLEL_MIN_CHUNKS = 2  # type: ignore[misc]
    whole_chunks.RUN_CHUNKS = 1  # type: ignore[misc]
    whole_chunks.check_chunk = _slowly(whole_chunks.check_chunk)
    settings = load_settings()
    store = build_store(settings)
    with open_ledger(settings, store.recorder) as ledger:
        threading.Thread(target=_say_when_working, daemon=True).start()
        verify_live(ledger.tables, [ledger.verifier], ledger.verifier.name, jobs=2)


if __name__ == "__main__":
    main()
