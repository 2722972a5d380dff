"""How long the database may keep a request waiting, derived from one budget.

``RETE_REQUEST_TIMEOUT`` (default 10 s) is what a request may take on the
server's side. Every wait on the database fits inside it: a statement or a lock
is cancelled by the server past it, a connection attempt gives up well before
it, and a thread waiting for a free connection of the pool waits at most half of
it (the event store's library retries a failed call up to ten times, so that
once the database is known to be away, a wait is cut to ``away_wait``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

DEFAULT_REQUEST_TIMEOUT: Final = 10.0


@dataclass(frozen=True)
class DatabaseTimeouts:
    request: float = DEFAULT_REQUEST_TIMEOUT

    @property
    def statement_ms(self) -> int:
        """A statement (a lock wait included) the server cancels past this."""
        return int(self.request * 1000)

    @property
    def connect(self) -> int:
        """libpq's ``connect_timeout``: whole seconds, at least 2 (libpq's minimum)."""
        return max(2, int(self.request / 2))

    @property
    def pool_wait(self) -> float:
        """How long a thread waits for a free connection while the database answers."""
        return min(5.0, self.request / 2)

    @property
    def away_wait(self) -> float:
        """How long it waits once the last attempt to connect failed: the request
        ends with 503 quickly rather than after the library's retries."""
        return min(0.5, self.pool_wait)

    @property
    def unacknowledged_ms(self) -> int:
        """``tcp_user_timeout``: a connection whose sent data stays unacknowledged
        this long (the database's machine gone, not just its server) is dropped."""
        return int(self.request * 1000)
