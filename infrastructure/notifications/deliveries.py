"""The webhooks' delivery state: which announcement each subscription still owes.

A delivery is ``pending`` (with when it is next tried), ``delivered`` or ``dead``.
Within one subscription and one referral (its ``stream``) only the delivery with
the lowest position that is not delivered may be tried: announcement n + 1 of a
referral never reaches a receiver before n did. A delivery taken for an attempt
is leased (its ``next_at`` moved a lease ahead, ``RETE_NOTIFY_LEASE``) in the same transaction that
picks it, so two workers never try it at once, and a worker killed mid-attempt
leaves it to be tried again once the lease ends: at least once, never lost.

A delivery that exhausts the retry schedule is ``dead``, and so are the pending
ones behind it in its referral (still in order, each with why). Those arriving
later for that referral wait behind the dead letter until a coordinator replays:
a replay makes them ``pending`` again, to be tried at once, in order.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final
from uuid import UUID

from application.notifications.announcement import Announcement
from application.notifications.ports import DeadLetter, SubscriptionRow
from application.notifications.retries import next_wait
from infrastructure.db.dialect import from_micros, to_micros
from infrastructure.db.tx import Row
from infrastructure.notifications.outbox import decode
from infrastructure.notifications.tables import NotifyTables

LEASE: Final = timedelta(seconds=30)
HELD: Final = "held behind an earlier dead letter of the same referral"

_HEADS: Final = (
    "SELECT d.subscription_id, d.announcement_id, d.attempts, d.stream, s.url, s.secret, "
    "s.previous, s.previous_until, o.body FROM {DELIVERIES} d "
    "JOIN {SUBSCRIPTIONS} s ON s.id = d.subscription_id "
    "JOIN {OUTBOX} o ON o.id = d.announcement_id "
    "WHERE d.state = 'pending' AND d.next_at <= %s AND s.removed = 0 "
    "AND NOT EXISTS (SELECT 1 FROM {DELIVERIES} e WHERE e.subscription_id = d.subscription_id "
    "AND e.stream = d.stream AND e.state IN ('pending', 'dead') AND e.position < d.position) "
    "ORDER BY d.position LIMIT %s"
)


@dataclass(frozen=True)
class Due:
    """A delivery taken for one attempt."""

    subscription_id: UUID
    announcement: Announcement
    attempts: int  # failed attempts so far
    stream: str
    url: str
    secret: bytes  # sealed
    previous: bytes | None  # sealed, while its overlap lasts
    previous_until: datetime | None


class DeliveryState:
    """Implements ``application.notifications.ports.Deliveries`` and what the worker needs."""

    def __init__(
        self,
        tables: NotifyTables,
        catch_up: Callable[[], object] = lambda: None,
        lease: timedelta = LEASE,
    ) -> None:
        self._tables = tables
        self._lease = lease
        # Run before a coordinator's read: the follower applies the latest changes of
        # the log first (a subscription just changed is listed as changed).
        self._catch_up = catch_up
        self._lock = f"rete notify deliveries {tables.dialect.schema}"

    # -- the worker ------------------------------------------------------------------

    def take(self, now: datetime, limit: int = 20) -> list[Due]:
        """The deliveries due now that head their referral, leased for one attempt."""
        t = self._tables
        with t.read() as tx:  # idle, the common case: no write transaction
            if not tx.query(t.sql(_HEADS), (to_micros(now), 1)):
                return []
        with t.database.write(self._lock) as tx:
            rows = tx.query(t.sql(_HEADS), (to_micros(now), limit))
            for row in rows:
                tx.command(
                    t.sql(
                        "UPDATE {DELIVERIES} SET next_at = %s "
                        "WHERE subscription_id = %s AND announcement_id = %s"
                    ),
                    (to_micros(now + self._lease), row[0], row[1]),
                )
        return [
            Due(
                subscription_id=UUID(str(sub)),
                announcement=decode(str(body)),
                attempts=int(attempts),
                stream=str(stream),
                url=str(url),
                secret=bytes(secret),
                previous=None if previous is None else bytes(previous),
                previous_until=None if until is None else from_micros(int(until)),
            )
            for sub, _, attempts, stream, url, secret, previous, until, body in rows
        ]

    def delivered(self, due: Due) -> None:
        with self._tables.write() as tx:
            tx.command(
                self._tables.sql(
                    "UPDATE {DELIVERIES} SET state = 'delivered', attempts = attempts + 1, "
                    "last_error = '' WHERE subscription_id = %s AND announcement_id = %s"
                ),
                (str(due.subscription_id), due.announcement.id),
            )

    def failed(self, due: Due, error: str, now: datetime) -> bool:
        """Record a failed attempt; True when the delivery is now a dead letter."""
        attempts = due.attempts + 1
        wait = next_wait(attempts)
        t = self._tables
        key = (str(due.subscription_id), due.announcement.id)
        with t.write() as tx:
            if wait is not None:
                tx.command(
                    t.sql(
                        "UPDATE {DELIVERIES} SET attempts = %s, next_at = %s, last_error = %s "
                        "WHERE subscription_id = %s AND announcement_id = %s"
                    ),
                    (attempts, to_micros(now + wait), error, *key),
                )
                return False
            tx.command(
                t.sql(
                    "UPDATE {DELIVERIES} SET state = 'dead', attempts = %s, last_error = %s, "
                    "failed_at = %s WHERE subscription_id = %s AND announcement_id = %s"
                ),
                (attempts, error, to_micros(now), *key),
            )
            tx.command(
                t.sql(
                    "UPDATE {DELIVERIES} SET state = 'dead', last_error = %s, failed_at = %s "
                    "WHERE subscription_id = %s AND stream = %s AND state = 'pending' "
                    "AND position > %s"
                ),
                (HELD, to_micros(now), key[0], due.stream, due.announcement.position),
            )
            return True

    # -- the coordinator -------------------------------------------------------------

    def _read_caught_up(self, statement: str, params: Sequence[object]) -> list[Row]:
        """A coordinator's read: the log followed first, then ``statement`` (its table
        names in braces) in a read transaction."""
        self._catch_up()
        with self._tables.read() as tx:
            return tx.query(self._tables.sql(statement), params)

    def subscriptions(self, service: str) -> Sequence[SubscriptionRow]:
        rows = self._read_caught_up(
            "SELECT id, url, kinds, created_at, previous_until FROM {SUBSCRIPTIONS} "
            "WHERE service = %s AND removed = 0 ORDER BY created_at, id",
            (service,),
        )
        return [
            SubscriptionRow(
                id=str(i),
                url=str(url),
                kinds=list(json.loads(str(kinds))),
                created_at=from_micros(int(created)),
                previous_secret_until=None if until is None else from_micros(int(until)),
            )
            for i, url, kinds, created, until in rows
        ]

    def dead_letters(self, service: str, limit: int = 100) -> Sequence[DeadLetter]:
        rows = self._read_caught_up(
            "SELECT d.subscription_id, o.body, d.attempts, d.last_error, d.failed_at "
            "FROM {DELIVERIES} d JOIN {SUBSCRIPTIONS} s ON s.id = d.subscription_id "
            "JOIN {OUTBOX} o ON o.id = d.announcement_id "
            "WHERE d.state = 'dead' AND s.service = %s AND s.removed = 0 "
            "ORDER BY d.position LIMIT %s",
            (service, limit),
        )
        return [
            DeadLetter(
                subscription_id=str(sub),
                announcement=decode(str(body)),
                attempts=int(attempts),
                last_error=str(error),
                failed_at=from_micros(int(failed)),
            )
            for sub, body, attempts, error, failed in rows
        ]

    def replay(self, service: str, announcement_ids: Sequence[str] | None, at: datetime) -> int:
        t = self._tables
        named = ""
        params: list[object] = [to_micros(at), service]
        if announcement_ids is not None:
            # PostgreSQL's text holds no NUL: an id with one names no announcement.
            announcement_ids = [i for i in announcement_ids if "\x00" not in i]
            if not announcement_ids:
                return 0
            named = f" AND announcement_id IN ({', '.join(['%s'] * len(announcement_ids))})"
            params += list(announcement_ids)
        with t.write() as tx:
            return tx.command(
                t.sql(
                    "UPDATE {DELIVERIES} SET state = 'pending', attempts = 0, next_at = %s, "
                    "last_error = '', failed_at = NULL WHERE state = 'dead' AND subscription_id "
                    "IN (SELECT id FROM {SUBSCRIPTIONS} WHERE service = %s AND removed = 0)" + named
                ),
                params,
            )

    def counts(self) -> dict[str, int]:
        """How many deliveries are in each state (for ``rete notify status``)."""
        with self._tables.read() as tx:
            rows = tx.query(
                self._tables.sql("SELECT state, COUNT(*) FROM {DELIVERIES} GROUP BY state")
            )
        return {str(state): int(n) for state, n in rows}
