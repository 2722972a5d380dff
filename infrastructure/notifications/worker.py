"""The notifications' worker: derive, announce what approaches, deliver what is due.

One round (``Notifier.step``): the follower appends what the log says since its
last batch; the deadline policy appends "deadline.approaching" for deadlines
within their lead (once per referral and deadline: the id says which, and the
outbox stores an id once, however often the policy runs); then every delivery
due is attempted, in order within each referral, until none is left due.

Everything it knows is in the database, so a restart, a SIGKILL or a database
outage loses nothing: a round that fails is logged by type and the next one
resumes. The clock is injected: the schedule of retries follows it (tests
simulate hours of outage), the webhook's own timestamp is the wall clock's.

It runs in the server (``NotifyWorker``, a background thread, on SQLite) and as
its own process (``rete notify run``, on PostgreSQL, like ``rete views run``).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from datetime import timedelta

from application.notifications import derivation
from application.notifications.ports import DeliveryFailed
from application.ports import Clock
from infrastructure.db.dialect import to_micros
from infrastructure.logging import get_logger
from infrastructure.notifications import outbox
from infrastructure.notifications.channel_delivery import ChannelDelivery
from infrastructure.notifications.deliveries import DeliveryState, Due
from infrastructure.notifications.follower import FACTS, OutboxFollower, facts_of
from infrastructure.notifications.secrets import SealedSecrets
from infrastructure.notifications.tables import NotifyTables
from infrastructure.notifications.webhook import WebhookSender
from infrastructure.periodic import BackgroundThread

log = get_logger(__name__)


class Notifier:
    def __init__(
        self,
        tables: NotifyTables,
        follower: OutboxFollower,
        deliveries: DeliveryState,
        secrets: SealedSecrets,
        sender: WebhookSender,
        clock: Clock,
        leads: Mapping[str, timedelta],
        channels: Sequence[ChannelDelivery] = (),
    ) -> None:
        self.tables = tables
        self.follower = follower
        self.deliveries = deliveries
        self._secrets = secrets
        self._sender = sender
        self._clock = clock
        self._leads = dict(leads)
        # The channels without subscriptions (email: channel_delivery.py), after the webhooks.
        self._channels = tuple(channels)

    def step(self) -> int:
        """One round; how many deliveries succeeded."""
        self.follower.catch_up()
        self.announce_approaching()
        delivered = self.deliver_due()
        return delivered + sum(channel.step() for channel in self._channels)

    def announce_approaching(self) -> int:
        """Append "deadline.approaching" for each pending deadline within its lead.
        Looked for in a read; the outbox's write is opened only for new ones."""
        now = self._clock.now()
        widest = max(self._leads.values(), default=timedelta(0))
        t = self.tables
        with t.read() as tx:
            rows = tx.query(
                t.sql(
                    FACTS + "WHERE (r.status = 'sent' AND r.acknowledge_by > %s "
                    "AND r.acknowledge_by <= %s) OR (r.status = 'acknowledged' "
                    "AND r.answer_by > %s AND r.answer_by <= %s)"
                ),
                (to_micros(now), to_micros(now + widest)) * 2,
            )
            found = []
            for row in rows:
                facts = facts_of(row)
                lead = self._leads.get(facts.urgency)
                if lead is not None:
                    found += derivation.approaching(facts, now, lead)
            fresh = outbox.unknown(t, tx, found)
        if not fresh:
            return 0
        with t.outbox_write() as tx:
            return outbox.append(t, tx, fresh)

    def deliver_due(self) -> int:
        delivered = 0
        while True:
            taken = self.deliveries.take(self._clock.now())
            if not taken:
                return delivered
            for due in taken:
                delivered += self._attempt(due)

    def _attempt(self, due: Due) -> int:
        now = self._clock.now()
        try:
            secrets = [self._secrets.open(due.secret, due.subscription_id)]
            if due.previous is not None and due.previous_until and due.previous_until > now:
                secrets.append(self._secrets.open(due.previous, due.subscription_id))
            self._sender.send(due.url, secrets, due.announcement)
        except DeliveryFailed as e:
            if self.deliveries.failed(due, str(e), self._clock.now()):
                log.warning(
                    "a webhook delivery went to the dead letters",
                    announcement_id=due.announcement.id,
                    subscription_id=str(due.subscription_id),
                )
            return 0
        self.deliveries.delivered(due)
        return 1

    def close(self) -> None:
        self._sender.close()


# How long a nudged worker waits for more writes before its round.
GATHER_SECONDS = 0.25


class NotifyWorker(BackgroundThread):
    """The worker as the server's background work (``application.background``):
    a round every ``interval`` seconds, or at once when nudged after a write."""

    def __init__(self, notifier: Notifier, interval: float) -> None:
        super().__init__("rete-notify", interval)
        self.notifier = notifier
        self._wake = threading.Event()

    def nudge(self) -> None:
        self._wake.set()

    def _run(self) -> None:
        self.run()

    def run(self, stop: threading.Event | None = None) -> None:
        """Rounds until stopped (``stop``, or ``self.stop``)."""
        stopped = stop or self._stop
        while not stopped.is_set() and not self._stop.is_set():
            try:
                self.notifier.step()
            except Exception as e:  # the database may be down for a moment: keep going
                log.warning(
                    "the notifications could not run",
                    exception_type=f"{type(e).__module__}.{type(e).__qualname__}",
                )
            if self._wake.wait(self._interval):
                # A burst of writes nudges once a write: gather it into one round
                # (as the ledger's follow step does), well within the two seconds
                # an emergency's announcement has (docs/NOTIFICATIONS.md).
                stopped.wait(GATHER_SECONDS)
            self._wake.clear()
