"""Followers of the log racing each other: each on its own thread, catching up in a
loop while the test writes, as several processes would."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Protocol


class Follower(Protocol):
    def catch_up(self) -> object: ...


@contextmanager
def catching_up(followers: Sequence[Follower]) -> Iterator[list[BaseException]]:
    """Inside the block every follower calls ``catch_up`` again and again on its own
    thread; on leaving, they stop and are joined. Yields the list of what they
    raised, filled in by the time the block is left."""
    stop = threading.Event()
    errors: list[BaseException] = []

    def follow(follower: Follower) -> None:
        try:
            while not stop.is_set():
                follower.catch_up()
        except BaseException as e:  # reported by the test, after the block
            errors.append(e)

    threads = [threading.Thread(target=follow, args=(f,)) for f in followers]
    for thread in threads:
        thread.start()
    try:
        yield errors
    finally:
        stop.set()
        for thread in threads:
            thread.join(60)
