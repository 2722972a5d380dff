"""The pool of a process on PostgreSQL: the eventsourcing library's pool
(psycopg_pool), made to answer within the request's budget whatever the
database is doing.

- Every connection is checked as it leaves the pool: one found dead (the server
  stopped or restarted, an administrator ended it) is dropped, and so is every
  other idle one then, since they died together; the thread gets a fresh one.
  The check costs no round trip while the connection's socket is quiet: a server
  that ends a connection (a stop, a restart, ``pg_terminate_backend``) or a peer
  that resets it always leaves something to read (its last message, the end of
  the stream, an error), and only then is an empty query sent, which tells. (A
  silent peer, which the empty query could not tell in time either, is
  ``tcp_user_timeout``'s: see below.) A story made 32 checks, 32 round trips.
- While the last attempt to connect failed (the server stopped, unreachable, or
  out of connections), a thread waits for a connection only ``away_wait``: the
  request answers 503 at once instead of hanging for the outage.
- A failed attempt to connect is retried about every second for two seconds,
  then given up until a thread asks again; so service resumes within about a
  second of the database's return, without a restart (psycopg_pool's own
  back-off doubles up to five minutes).
- Statements and lock waits are cancelled by the server past the request's
  budget; connecting gives up past half of it; a connection whose peer stopped
  acknowledging is dropped by the kernel (``tcp_user_timeout``).
"""

from __future__ import annotations

import select
from time import monotonic
from typing import Any, Final

import psycopg
from eventsourcing.postgres import ConnectionPool, PostgresDatastore
from psycopg_pool import PoolTimeout

from infrastructure.db.timeouts import DatabaseTimeouts
from infrastructure.logging import get_logger

log = get_logger(__name__)

# A failed connection attempt is retried for this long, then given up until a
# thread next asks for a connection.
_RECONNECT_FOR: Final = 2.0
# A waiting thread looks this often whether the database has been found away.
_SLICE: Final = 0.25


class RetePool(ConnectionPool[Any]):
    """The library's pool, with the behaviour above."""

    def __init__(self, *args: Any, timeouts: DatabaseTimeouts, **kwargs: Any) -> None:
        self._timeouts = timeouts
        self._away = False  # the last attempt to connect failed
        self._last_failure: Exception | None = None  # and why, for the message
        super().__init__(*args, **kwargs)

    @property
    def database_away(self) -> bool:
        """The last attempt to connect failed, and none succeeded since."""
        return self._away

    def _connect(self, timeout: float | None = None) -> Any:
        try:
            conn = super()._connect(timeout=timeout)
        except Exception as e:
            if not self._away:
                log.warning(
                    "the database does not accept connections", exception_type=type(e).__name__
                )
            self._away, self._last_failure = True, e
            raise
        if self._away:
            log.info("the database accepts connections again")
        self._away = False
        return conn

    def getconn(self, timeout: float | None = None) -> Any:
        deadline = monotonic() + (self.timeout if timeout is None else timeout)
        cut = False
        while True:
            now = monotonic()
            if self._away and not cut:
                # Found away while waiting: wait only a little more.
                deadline, cut = min(deadline, now + self._timeouts.away_wait), True
            if deadline <= now:
                if self._away:
                    # Chained to why connecting failed: the message names it.
                    raise PoolTimeout("the database does not answer") from self._last_failure
                raise PoolTimeout("no connection of the pool became free in time")
            try:
                # In slices, so that a thread that started waiting while the
                # database answered stops soon after it is found away.
                return super().getconn(timeout=min(deadline - now, _SLICE))
            except PoolTimeout:
                continue

    def _check_connection(self, conn: Any) -> None:
        if _quiet(conn):
            return
        try:
            super()._check_connection(conn)
        except Exception:
            # One dead connection: the others idle beside it died with it (the
            # server restarted). Check them all now rather than one a request.
            self._check_idle()
            raise

    def _check_idle(self) -> None:
        try:
            self.check()
        except Exception as e:  # the check must not replace the original error
            log.warning("checking the pool failed", exception_type=type(e).__name__)


def _quiet(conn: psycopg.Connection[Any]) -> bool:
    """Open, idle, and nothing arrived on its socket since it was last used: as
    alive as an empty query would show (see the module's docstring)."""
    if conn.closed or conn.broken:
        return False
    if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        return False
    try:
        poll = select.poll()
        poll.register(conn.pgconn.socket, select.POLLIN | select.POLLPRI)
        return not poll.poll(0)
    except (OSError, ValueError, AttributeError, psycopg.Error):
        # No socket any more (or no poll() on this platform): the empty query tells.
        return False


def install_pool(datastore: PostgresDatastore, timeouts: DatabaseTimeouts) -> None:
    """Replace the datastore's pool (not yet opened) by a ``RetePool`` of the same
    size and connection parameters, with the timeouts above."""
    unused = datastore.pool
    if not isinstance(unused.kwargs, dict):
        raise TypeError("the library's pool takes its connection parameters as a dict")
    conninfo: dict[str, Any] = dict(unused.kwargs)
    options = (
        f"-c statement_timeout={timeouts.statement_ms} -c lock_timeout={timeouts.statement_ms}"
    )
    conninfo.update(
        connect_timeout=timeouts.connect,
        options=options,
        keepalives=1,
        keepalives_idle=max(1, int(timeouts.request)),
        keepalives_interval=1,
        keepalives_count=3,
        tcp_user_timeout=timeouts.unacknowledged_ms,
    )
    datastore.pool = RetePool(
        get_password_func=unused.get_password_func,
        connection_class=psycopg.Connection,
        kwargs=conninfo,
        min_size=unused.min_size,
        max_size=unused.max_size,
        open=False,
        configure=datastore.after_connect_func(),
        check=ConnectionPool.check_connection,
        timeout=timeouts.pool_wait,
        max_lifetime=unused.max_lifetime,
        reconnect_timeout=_RECONNECT_FOR,
        timeouts=timeouts,
    )
    unused.close()
