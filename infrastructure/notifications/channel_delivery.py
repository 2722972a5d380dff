"""Delivering the outbox through a channel that has no subscriptions of its own (email).

The notifications' worker runs ``step`` each round, after the webhooks. Each
service has its own cursor for the channel: the outbox position up to which every
announcement of that service the channel wants was delivered (or given up). So a
duty address that refuses mail holds back only its own service's emails, never
another service's emergency.

All of it lives in the state table (``rete_notify_state``), so a restart, a
SIGKILL or a database outage loses nothing:

* ``<channel>:<service>``: the cursor, moved past an announcement only once it was
  delivered: a crash between the two sends it again (at least once; the email's
  ``Message-ID`` is the same, so a repeat is recognisable);
* ``<channel>:<service>:attempts`` and ``:next_at``: the failed attempts at the
  announcement after the cursor, and when it is tried again (the webhooks'
  schedule, ``application/notifications/retries.py``); after the last attempt it
  is given up, logged by id, and the cursor moves on;
* ``<channel>:lease``: until when one worker delivers for the channel: several
  workers may run (``rete notify run`` beside a server), one sends.

A channel starts with what is announced from the moment it is first opened:
configuring email does not send the history of the network.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Protocol

from application.notifications.announcement import Announcement
from application.notifications.ports import Channel, DeliveryFailed
from application.notifications.retries import next_wait
from application.ports import Clock
from infrastructure.db import Tx
from infrastructure.db.dialect import to_micros
from infrastructure.logging import get_logger
from infrastructure.notifications import outbox
from infrastructure.notifications.tables import NotifyTables

log = get_logger(__name__)

PAGE = 100


class ServiceChannel(Channel, Protocol):
    """A channel that writes to some services only (email: those with a duty address)."""

    @property
    def services(self) -> Sequence[str]: ...


class ChannelDelivery:
    """One channel's deliveries, for the services it names."""

    def __init__(
        self,
        tables: NotifyTables,
        channel: Channel,
        services: Sequence[str],
        clock: Clock,
        lease: timedelta = timedelta(seconds=30),
    ) -> None:
        self._tables = tables
        self.channel = channel
        self._services = tuple(services)
        self._clock = clock
        self._lease = lease
        self._outbox = outbox.Outbox(tables)
        # Serialised with the outbox's writers: two workers starting at once agree.
        with tables.outbox_write() as tx:
            latest = self._latest(tx)
            for service in self._services:
                if not tx.query(self._select(), (self._name(service),)):
                    outbox.write_counter(tables, tx, self._name(service), latest)

    def step(self) -> int:
        """Deliver what is due for every service; how many were delivered."""
        if not self._behind():
            return 0  # a read, no write: the usual round
        if not self._take_lease():
            return 0
        try:
            return sum(self._service_step(service) for service in self._services)
        finally:
            self._release_lease()

    def _behind(self) -> bool:
        """Whether the outbox holds anything past some service's cursor."""
        t = self._tables
        with t.read() as tx:
            latest = self._latest(tx)
            return any(
                outbox.read_counter(t, tx, self._name(service)) < latest
                for service in self._services
            )

    def _service_step(self, service: str) -> int:
        t = self._tables
        name = self._name(service)
        with t.read() as tx:
            cursor = outbox.read_counter(t, tx, name)
            next_at = outbox.read_counter(t, tx, f"{name}:next_at")
            # Positions commit in order: everything up to ``latest`` is readable now,
            # so once this service's part is read, its cursor may move up to it.
            latest = self._latest(tx)
        if next_at > to_micros(self._clock.now()):
            return 0
        delivered = 0
        saved = cursor
        while True:
            page = self._outbox.after(cursor, service=service, limit=PAGE)
            for announcement in page:
                if self.channel.wants(announcement):
                    try:
                        self.channel.deliver(announcement)
                    except DeliveryFailed as e:
                        if not self._failed(name, announcement, str(e)):
                            # Tried again later; what it skipped before stays skipped.
                            if cursor != saved:
                                self._save(name, cursor, reset=False)
                            return delivered
                    else:
                        delivered += 1
                    cursor = announcement.position
                    self._save(name, cursor, reset=True)
                    saved = cursor
                else:
                    cursor = announcement.position
            if len(page) < PAGE:
                cursor = max(cursor, latest)
            if cursor != saved:
                self._save(name, cursor, reset=False)
                saved = cursor
            if len(page) < PAGE:
                return delivered

    def _failed(self, name: str, announcement: Announcement, error: str) -> bool:
        """Count a failed attempt; True when the announcement is given up."""
        t = self._tables
        with t.write() as tx:
            attempts = outbox.read_counter(t, tx, f"{name}:attempts") + 1
            wait = next_wait(attempts)
            if wait is not None:
                outbox.write_counter(t, tx, f"{name}:attempts", attempts)
                at = to_micros(self._clock.now() + wait)
                outbox.write_counter(t, tx, f"{name}:next_at", at)
        given_up = wait is None
        (log.error if given_up else log.warning)(
            "a delivery was given up after its last attempt"
            if given_up
            else "a delivery failed; it is tried again later",
            channel=self.channel.name,
            announcement_id=announcement.id,
            attempts=attempts,
            error=error,
        )
        return given_up

    def _save(self, name: str, cursor: int, *, reset: bool) -> None:
        """Move the cursor; ``reset``: past an announcement delivered or given up,
        whose attempts no longer count."""
        t = self._tables
        with t.write() as tx:
            outbox.write_counter(t, tx, name, cursor)
            if reset:
                outbox.write_counter(t, tx, f"{name}:attempts", 0)
                outbox.write_counter(t, tx, f"{name}:next_at", 0)

    def _take_lease(self) -> bool:
        """Hold the channel for one round, unless another worker holds it."""
        t = self._tables
        name = f"{self.channel.name}:lease"
        now = to_micros(self._clock.now())
        until = to_micros(self._clock.now() + self._lease)
        with t.outbox_write() as tx:
            rows = tx.query(self._select(), (name,))
            if not rows:
                outbox.write_counter(t, tx, name, until)
                return True
            held = int(rows[0][0])
            if held > now:
                return False
            # Compare and set: of two workers reading the same expired lease, one wins.
            changed = tx.command(
                t.sql("UPDATE {STATE} SET value = %s WHERE name = %s AND value = %s"),
                (until, name, held),
            )
            return changed == 1

    def _release_lease(self) -> None:
        t = self._tables
        with t.write() as tx:
            outbox.write_counter(t, tx, f"{self.channel.name}:lease", 0)

    def _name(self, service: str) -> str:
        return f"{self.channel.name}:{service}"

    def _select(self) -> str:
        return self._tables.sql("SELECT value FROM {STATE} WHERE name = %s")

    def _latest(self, tx: Tx) -> int:
        return outbox.read_counter(self._tables, tx, outbox.OUTBOX_POSITION)
