"""A value made on first use, from whichever thread comes first, and only once.

For what is costly or may fail, and so is not made when the process starts: the
ledger a server opens, the cipher of a scope's secret (derived through the key
store, which may write).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Once(Generic[T]):
    def __init__(self, make: Callable[[], T]) -> None:
        self._make = make
        self._lock = threading.Lock()
        self._value: T | None = None

    def get(self) -> T:
        """The value, made by the first caller (the others wait for it)."""
        with self._lock:
            if self._value is None:
                self._value = self._make()
            return self._value

    def take(self) -> T | None:
        """The value if it was made, forgotten here: the caller closes it, and the
        next ``get`` makes a new one."""
        with self._lock:
            value, self._value = self._value, None
            return value
