"""A rebuild across two worker processes, in batches of one record, to be killed.

Run by ``test_partitioned_rebuild.py`` with the RETE_* settings in its environment.
Each batch's write is slowed down (the workers are forked, so they inherit it):
the workers have seconds of work left whenever the kill lands. Once a worker has
written its first batch this prints ``ready`` and the workers' process ids, then
goes on until the workers are done (or it is killed).
"""

from __future__ import annotations

import multiprocessing
import sys
import time
from typing import Any

from infrastructure.bootstrap import build_store
from infrastructure.settings import load_settings
from infrastructure.views import open_views
from infrastructure.views.rebuild import Rebuild
from infrastructure.views.rows import RowSet

PAUSE = 0.1  # seconds before each batch's write


def _slowly(write: Any) -> Any:
    def slow(*args: Any) -> None:
        time.sleep(PAUSE)
        write(*args)

    return staticmethod(slow)


def main() -> None:
    RowSet.write = _slowly(RowSet.write)  # type: ignore[method-assign]
    settings = load_settings()
    store = build_store(settings)
    views = open_views(settings, store.recorder, store.keys)
    job = Rebuild(views.tables, views.log, views.keys, page=1, mac=views.mac, workers=views.workers)
    said = False

    def report(reached: int, head: int) -> None:
        nonlocal said
        if not said:
            workers = [str(p.pid) for p in multiprocessing.active_children()]
            print("ready", *workers, flush=True)
            said = True

    job.build(report, jobs=2)
    job.swap()
    sys.exit(0)


if __name__ == "__main__":
    main()
