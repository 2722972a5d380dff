"""Worker processes that end with the process that started them.

A process killed with SIGKILL (by an operator, a time limit, the kernel's
out-of-memory killer) cannot stop its workers. A worker of a
``concurrent.futures`` process pool, reparented, waits for its next task for ever:
the pipe it reads from never closes, since its siblings hold the other end open
too. It keeps its database connection (on PostgreSQL, one of the server's) and its
memory until someone finds it. A worker of ``rete serve --workers N`` goes on
serving, and running the background work, with the code it started with, and holds
the port a restarted server needs.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from typing import Final

# How often a worker looks whether its parent is still there.
_EVERY: Final = 0.5


def end_with_parent(ending: Callable[[], None] | None = None, every: float = _EVERY) -> None:
    """Call in a worker (a pool's initializer): once the process that started it is
    gone, ``ending`` is called (by default the worker exits at once: what it was
    doing is lost, which its parent, gone, would have lost anyway; its connections
    close as the process ends)."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(every)
        if ending is None:
            os._exit(1)
        ending()

    threading.Thread(target=watch, name="rete-parent-watch", daemon=True).start()
