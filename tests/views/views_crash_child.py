"""A views runner that follows the log slowly, in small batches, until killed.

Run by ``test_views_crash_safety.py`` with the RETE_* settings in its environment.
Each batch waits a little before it commits, so that a kill mostly lands inside a
transaction; it prints ``ready`` once it has opened the views.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager

from infrastructure.bootstrap import build_store
from infrastructure.settings import load_settings
from infrastructure.views import open_views
from infrastructure.views.db.base import ViewTables, ViewTx
from infrastructure.views.projection import ALL_VIEWS, NetworkViews
from infrastructure.views.runner import ViewRunner


class SlowToCommit(ViewTables):
    def __init__(self, tables: ViewTables, pause: float) -> None:
        self.dialect = tables.dialect
        self._tables = tables
        self._pause = pause

    def read(self, snapshot: bool = True) -> AbstractContextManager[ViewTx]:
        return self._tables.read(snapshot)

    @contextmanager
    def write(self, bulk: bool = False) -> Iterator[ViewTx]:
        with self._tables.write(bulk) as tx:
            yield tx
            time.sleep(self._pause)  # the rows are written, the commit not yet

    def close(self) -> None:
        self._tables.close()


def main() -> None:
    settings = load_settings()
    store = build_store(settings)
    views = open_views(settings, store.recorder, store.keys)
    tables = SlowToCommit(views.tables, float(sys.argv[2]))
    runner = ViewRunner(
        tables,
        views.log,
        store.keys,
        NetworkViews(ALL_VIEWS, tables.dialect),
        int(sys.argv[1]),
    )
    print("ready", flush=True)
    while True:
        runner.catch_up()
        time.sleep(0.01)


if __name__ == "__main__":
    main()
