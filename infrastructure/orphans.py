"""Worker processes that end with the process that started them.

A process killed with SIGKILL (by an operator, a time limit, the kernel's
out-of-memory killer) cannot stop its workers. A worker of a
``concurrent.futures`` process pool, reparented, waits for its next task for ever:
the pipe it reads from never closes, since its siblings hold the other end open
too. It keeps its database connection (on PostgreSQL, one of the server's) and its
memory until someone finds it.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Final

# How often a worker looks whether its parent is still there.
_EVERY: Final = 0.5


def end_with_parent(every: float = _EVERY) -> None:
    """Call in a worker (a pool's initializer): it exits, at once, once the process
    that started it is gone. What it was doing is lost, which its parent, gone,
    would have lost anyway; its connections close as the process ends."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(every)
        os._exit(1)

    threading.Thread(target=watch, name="rete-parent-watch", daemon=True).start()
