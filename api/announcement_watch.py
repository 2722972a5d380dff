"""One process-wide look at the outbox's latest position, shared by every open stream.

A stream waits here between two reads of its service's announcements, holding no
database connection: one task asks the outbox for its latest position every
``interval`` seconds (a single cheap query, however many streams are open) and
wakes the streams when it moved. The task runs only while a stream waits.

What a stream may conclude: positions are committed in order, so once the latest
position ``L`` was read, every announcement up to ``L`` is readable; a stream that
read its service's announcements after learning ``L`` has seen all of them up to
``L``, and the next it needs has a position above ``L``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import anyio.to_thread

from infrastructure.logging import get_logger

log = get_logger(__name__)

UNKNOWN = -1


class AnnouncementWatch:
    def __init__(self, latest_position: Callable[[], int], interval: float) -> None:
        self._latest_position = latest_position
        self._interval = interval
        self.latest = UNKNOWN  # the latest position read, UNKNOWN before the first read
        self._moved = asyncio.Event()
        self._waiting = 0
        self._task: asyncio.Task[None] | None = None
        self._failing = False

    async def beyond(self, position: int, timeout: float) -> int:
        """Wait until the latest position is above ``position``, at most ``timeout``
        seconds; the latest position known then (``UNKNOWN`` if none was read yet)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        self._waiting += 1
        try:
            if self._task is None or self._task.done():
                self._task = loop.create_task(self._poll(), name="announcement-watch")
            while self.latest <= position:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                moved = self._moved
                try:
                    await asyncio.wait_for(moved.wait(), remaining)
                except TimeoutError:
                    break
            return self.latest
        finally:
            self._waiting -= 1

    async def _poll(self) -> None:
        while self._waiting > 0:
            latest = await self._read()
            if latest is not None and latest != self.latest:
                self.latest = latest
                # Wake every waiter, and give the next ones an event not yet set.
                moved, self._moved = self._moved, asyncio.Event()
                moved.set()
            await asyncio.sleep(self._interval)

    async def _read(self) -> int | None:
        """The outbox's latest position; None while the database does not answer
        (the streams stay open, sending their heartbeats, and resume when it does)."""
        try:
            latest = await anyio.to_thread.run_sync(self._latest_position)
        except Exception as e:
            if not self._failing:
                log.warning("announcement_watch_failing", error=type(e).__name__)
            self._failing = True
            return None
        if self._failing:
            log.info("announcement_watch_recovered")
        self._failing = False
        return latest
