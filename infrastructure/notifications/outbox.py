"""The outbox: announcements stored in order, each once, and read back by service.

``append`` runs inside a transaction of ``NotifyTables.outbox_write``: an
announcement whose id is already stored is left as it is (deriving again after a
crash changes nothing), a new one takes the next position and, for every live
subscription of its service that wants its kind, a pending delivery.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from typing import Final

import msgspec

from application.notifications.announcement import Announcement
from infrastructure.db import Tx
from infrastructure.db.dialect import to_micros
from infrastructure.notifications.tables import NotifyTables

OUTBOX_POSITION: Final = "outbox"

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(Announcement)


def encode(announcement: Announcement) -> str:
    return _encoder.encode(announcement).decode()


def decode(body: str | bytes) -> Announcement:
    return _decoder.decode(body)


def read_counter(tables: NotifyTables, tx: Tx, name: str) -> int:
    rows = tx.query(tables.sql("SELECT value FROM {STATE} WHERE name = %s"), (name,))
    return int(rows[0][0]) if rows else 0


def write_counter(tables: NotifyTables, tx: Tx, name: str, value: int) -> None:
    changed = tx.command(tables.sql("UPDATE {STATE} SET value = %s WHERE name = %s"), (value, name))
    if not changed:
        tx.command(tables.sql("INSERT INTO {STATE} (name, value) VALUES (%s, %s)"), (name, value))


def unknown(tables: NotifyTables, tx: Tx, announcements: list[Announcement]) -> list[Announcement]:
    """Those of ``announcements`` whose id is not in the outbox yet."""
    if not announcements:
        return []
    marks = ", ".join(["%s"] * len(announcements))
    known = {
        str(row[0])
        for row in tx.query(
            tables.sql(f"SELECT id FROM {{OUTBOX}} WHERE id IN ({marks})"),
            [a.id for a in announcements],
        )
    }
    return [a for a in announcements if a.id not in known]


def append(tables: NotifyTables, tx: Tx, announcements: Iterable[Announcement]) -> int:
    """Store the announcements not stored yet, in order; how many were new."""
    fresh = unknown(tables, tx, list(announcements))
    if not fresh:
        return 0
    known: set[str] = set()
    position = read_counter(tables, tx, OUTBOX_POSITION)
    added = 0
    subscribers: dict[str, list[tuple[str, set[str]]]] = {}
    for announcement in fresh:
        if announcement.id in known:
            continue
        known.add(announcement.id)
        position += 1
        stored = msgspec.structs.replace(announcement, position=position)
        tx.command(
            tables.sql(
                "INSERT INTO {OUTBOX} (position, id, service, kind, body) VALUES (%s, %s, %s, %s, %s)"
            ),
            (position, stored.id, stored.service, stored.kind, encode(stored)),
        )
        subscriptions = subscribers.get(stored.service)
        if subscriptions is None:
            subscriptions = subscribers[stored.service] = _subscriptions(tables, tx, stored.service)
        for subscription_id, kinds in subscriptions:
            if stored.kind in kinds:
                tx.command(
                    tables.sql(
                        "INSERT INTO {DELIVERIES} (subscription_id, announcement_id, position, "
                        "stream, state, attempts, next_at, last_error) "
                        "VALUES (%s, %s, %s, %s, 'pending', 0, %s, '')"
                    ),
                    (
                        subscription_id,
                        stored.id,
                        position,
                        stored.referral_id or stored.id,  # ordered within a referral
                        to_micros(stored.occurred_at),
                    ),
                )
        added += 1
    write_counter(tables, tx, OUTBOX_POSITION, position)
    return added


def _subscriptions(tables: NotifyTables, tx: Tx, service: str) -> list[tuple[str, set[str]]]:
    rows = tx.query(
        tables.sql("SELECT id, kinds FROM {SUBSCRIPTIONS} WHERE service = %s AND removed = 0"),
        (service,),
    )
    return [(str(i), set(json.loads(str(k)))) for i, k in rows]


class Outbox:
    """Implements ``application.notifications.ports.AnnouncementFeed``."""

    def __init__(self, tables: NotifyTables, catch_up: Callable[[], object] = lambda: None) -> None:
        self._tables = tables
        # Run before each read: the follower appends what the log says since its last
        # batch (one read when there is nothing new), so a reader is never behind
        # the log by more than the time it takes to ask.
        self._catch_up = catch_up

    def after(self, position: int, *, service: str, limit: int = 100) -> Sequence[Announcement]:
        self._catch_up()
        with self._tables.read() as tx:
            rows = tx.query(
                self._tables.sql(
                    "SELECT body FROM {OUTBOX} WHERE service = %s AND position > %s "
                    "ORDER BY position LIMIT %s"
                ),
                (service, position, limit),
            )
        return [decode(str(body)) for (body,) in rows]

    def latest_position(self) -> int:
        with self._tables.read() as tx:
            rows = tx.query(self._tables.sql("SELECT MAX(position) FROM {OUTBOX}"))
        return int(rows[0][0] or 0) if rows else 0
