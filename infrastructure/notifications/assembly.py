"""The notifications assembled beside an event store: what the composition root,
``rete notify`` and the tests build them with."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from application.ports import Clock, KeyStore
from infrastructure.db import Database, EventsTable, events_table_name
from infrastructure.notifications.channel_delivery import ChannelDelivery, ServiceChannel
from infrastructure.notifications.deliveries import DeliveryState
from infrastructure.notifications.follower import OutboxFollower
from infrastructure.notifications.outbox import Outbox
from infrastructure.notifications.secrets import SealedSecrets
from infrastructure.notifications.tables import NotifyTables
from infrastructure.notifications.webhook import WebhookSender
from infrastructure.notifications.worker import Notifier, NotifyWorker
from infrastructure.settings import NotifySettings


@dataclass(frozen=True)
class NotificationParts:
    tables: NotifyTables
    outbox: Outbox  # the ``AnnouncementFeed`` the other channels read
    deliveries: DeliveryState
    secrets: SealedSecrets
    notifier: Notifier
    worker: NotifyWorker

    def close(self) -> None:
        self.worker.stop()
        self.notifier.close()


def open_notifications(
    database: Database,
    recorder: object,
    keys: KeyStore,
    clock: Clock,
    settings: NotifySettings,
    sender: WebhookSender | None = None,
    channels: Sequence[ServiceChannel] = (),
) -> NotificationParts:
    """The notifications on ``database``, beside ``recorder``'s events table; with
    ``channels`` (email) delivered by the same worker (``channel_delivery.py``)."""
    tables = NotifyTables(database)
    secrets = SealedSecrets(keys)
    follower = OutboxFollower(
        tables, EventsTable(database.dialect, events_table_name(recorder)), keys
    )
    deliveries = DeliveryState(tables, follower.catch_up, timedelta(seconds=settings.lease_seconds))
    notifier = Notifier(
        tables,
        follower,
        deliveries,
        secrets,
        sender or WebhookSender(),
        clock,
        settings.leads,
        [
            ChannelDelivery(tables, c, c.services, clock, timedelta(seconds=settings.lease_seconds))
            for c in channels
        ],
    )
    return NotificationParts(
        tables=tables,
        outbox=Outbox(tables, follower.catch_up),
        deliveries=deliveries,
        secrets=secrets,
        notifier=notifier,
        worker=NotifyWorker(notifier, settings.interval_seconds),
    )
