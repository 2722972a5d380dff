"""The outbox's follower: reads the log from where it stopped and derives announcements.

One batch is one transaction (``NotifyTables.outbox_write``): the facts it keeps,
the announcements it appends and its new position in the log commit together or
not at all. A process killed at any point (SIGKILL too) leaves the outbox as
after the last committed batch, and the next batch, in any process, starts right
after it; and since an announcement's id is made of its event's position, an
announcement derived twice is stored once (``outbox.append``).

The records are opened as the views open them (the outer seal only,
``BatchOpener``); no personal field is ever read: they stay sealed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import singledispatchmethod
from typing import Any, Final

from eventsourcing.utils import get_topic

from application.notifications import derivation
from application.notifications.announcement import Announcement
from application.notifications.derivation import ReferralFacts
from application.ports import KeyStore
from domain.case import Case
from domain.referral import Referral
from domain.subscription import Subscription
from infrastructure.db import EventsTable, Tx
from infrastructure.db.dialect import from_micros, to_micros
from infrastructure.notifications import outbox
from infrastructure.notifications.tables import NotifyTables
from infrastructure.views.events import decoded
from infrastructure.views.log import EventLog
from infrastructure.views.records import BatchOpener

LOG_POSITION: Final = "log"
PAGE: Final = 500

_READ: Final = (
    Case.Opened,
    Case.ConsentWithdrawn,
    Case.ErasureRecorded,
    Referral.Sent,
    Referral.Moved,
    Referral.Suspended,
    Referral.Escalated,
    Subscription.Created,
    Subscription.Changed,
    Subscription.SecretRotated,
    Subscription.Removed,
)
TOPICS: Final = tuple(sorted(get_topic(cls) for cls in _READ))

FACTS: Final = (
    "SELECT r.id, r.case_id, r.sender, r.recipient, r.urgency, r.consent_id, r.status, "
    "r.acknowledge_by, r.answer_by, c.reference_code FROM {REFERRALS} r "
    "LEFT JOIN {CASES} c ON c.case_id = r.case_id "
)


def facts_of(row: tuple[Any, ...]) -> ReferralFacts:
    rid, case_id, sender, recipient, urgency, consent, status, ack, answer, ref = row
    return ReferralFacts(
        id=str(rid),
        case_id=str(case_id),
        sender=str(sender),
        recipient=str(recipient),
        urgency=str(urgency),
        consent_id=None if consent is None else str(consent),
        status=str(status),
        acknowledge_by=from_micros(int(ack)),
        answer_by=from_micros(int(answer)),
        case_ref=None if ref is None else str(ref),
    )


class _Batch:
    """One batch's work inside its transaction: keeps facts, gathers announcements."""

    def __init__(self, tables: NotifyTables, tx: Tx) -> None:
        self.tables = tables
        self.tx = tx
        self.found: list[Announcement] = []
        self.appended = 0

    def flush(self) -> None:
        """Append what was found so far: before a subscription changes, so that an
        announcement goes to the subscriptions that stood when it happened."""
        self.appended += outbox.append(self.tables, self.tx, self.found)
        self.found = []

    def _facts(self, where: str, params: tuple[Any, ...]) -> list[ReferralFacts]:
        rows = self.tx.query(self.tables.sql(FACTS + where), params)
        return [facts_of(row) for row in rows]

    def _status(self, referral_id: str, status: str) -> None:
        self.tx.command(
            self.tables.sql("UPDATE {REFERRALS} SET status = %s WHERE id = %s"),
            (status, referral_id),
        )

    def _referral(self, referral_id: str) -> ReferralFacts | None:
        found = self._facts("WHERE r.id = %s", (referral_id,))
        return found[0] if found else None

    @singledispatchmethod
    def handle(self, event: object, position: int, stream: str) -> None:
        """Events the notifications do not read pass by."""

    @handle.register
    def _opened(self, event: Case.Opened, position: int, stream: str) -> None:
        self.tx.command(self.tables.sql("DELETE FROM {CASES} WHERE case_id = %s"), (stream,))
        self.tx.command(
            self.tables.sql("INSERT INTO {CASES} (case_id, reference_code) VALUES (%s, %s)"),
            (stream, event.reference_code),
        )

    @handle.register
    def _sent(self, event: Referral.Sent, position: int, stream: str) -> None:
        self.tx.command(self.tables.sql("DELETE FROM {REFERRALS} WHERE id = %s"), (stream,))
        self.tx.command(
            self.tables.sql(
                "INSERT INTO {REFERRALS} (id, case_id, sender, recipient, urgency, consent_id, "
                "status, acknowledge_by, answer_by) VALUES (%s, %s, %s, %s, %s, %s, 'sent', %s, %s)"
            ),
            (
                stream,
                str(event.case_id),
                event.sender_service,
                event.recipient_service,
                event.urgency,
                event.consent_id,
                to_micros(event.acknowledge_by),
                to_micros(event.answer_by),
            ),
        )
        facts = self._referral(stream)
        assert facts is not None
        self.found += derivation.sent(position, facts, event.timestamp)

    @handle.register
    def _moved(self, event: Referral.Moved, position: int, stream: str) -> None:
        facts = self._referral(stream)
        if facts is None:
            return
        self._status(stream, event.to_status)
        self.found += derivation.moved(position, facts, event.move, event.timestamp)

    @handle.register
    def _suspended(self, event: Referral.Suspended, position: int, stream: str) -> None:
        facts = self._referral(stream)
        if facts is None:
            return
        self._status(stream, "suspended")
        self.found += derivation.suspended(position, facts, event.timestamp)

    @handle.register
    def _escalated(self, event: Referral.Escalated, position: int, stream: str) -> None:
        facts = self._referral(stream)
        if facts is not None:
            self.found += derivation.escalated(position, facts, event.due, event.timestamp)

    @handle.register
    def _consent_withdrawn(self, event: Case.ConsentWithdrawn, position: int, stream: str) -> None:
        held = self._facts("WHERE r.case_id = %s AND r.consent_id = %s", (stream, event.consent_id))
        self.found += derivation.consent_withdrawn(position, held, event.timestamp)

    @handle.register
    def _erased(self, event: Case.ErasureRecorded, position: int, stream: str) -> None:
        held = self._facts("WHERE r.case_id = %s ORDER BY r.id", (stream,))
        self.found += derivation.case_erased(position, held, event.timestamp)

    @handle.register
    def _subscribed(self, event: Subscription.Created, position: int, stream: str) -> None:
        self.flush()
        self.tx.command(self.tables.sql("DELETE FROM {SUBSCRIPTIONS} WHERE id = %s"), (stream,))
        self.tx.command(
            self.tables.sql(
                "INSERT INTO {SUBSCRIPTIONS} (id, service, url, kinds, secret, previous, "
                "previous_until, created_at, removed) VALUES (%s, %s, %s, %s, %s, NULL, NULL, %s, 0)"
            ),
            (
                stream,
                event.service,
                event.url,
                json.dumps(sorted(event.kinds)),
                event.secret_sealed,
                to_micros(event.timestamp),
            ),
        )

    @handle.register
    def _changed(self, event: Subscription.Changed, position: int, stream: str) -> None:
        self.flush()
        self.tx.command(
            self.tables.sql("UPDATE {SUBSCRIPTIONS} SET url = %s, kinds = %s WHERE id = %s"),
            (event.url, json.dumps(sorted(event.kinds)), stream),
        )

    @handle.register
    def _rotated(self, event: Subscription.SecretRotated, position: int, stream: str) -> None:
        self.flush()
        self.tx.command(
            self.tables.sql(
                "UPDATE {SUBSCRIPTIONS} SET previous = secret, previous_until = %s, secret = %s "
                "WHERE id = %s"
            ),
            (to_micros(event.previous_until), event.secret_sealed, stream),
        )

    @handle.register
    def _removed(self, event: Subscription.Removed, position: int, stream: str) -> None:
        self.flush()
        self.tx.command(
            self.tables.sql("UPDATE {SUBSCRIPTIONS} SET removed = 1 WHERE id = %s"), (stream,)
        )


class OutboxFollower:
    """Thread-safe in the sense that matters: batches of several followers, in any
    process, are serialised by the outbox's lock and each reads the position inside."""

    def __init__(
        self,
        tables: NotifyTables,
        events: EventsTable,
        keys: KeyStore,
        page: int = PAGE,
        on_append: Callable[[int], None] | None = None,
    ) -> None:
        self._tables = tables
        self._log = EventLog(events)
        self._keys = keys
        self._page = page
        self._on_append = on_append

    def catch_up(self) -> int:
        """Derive from every record written since the last batch; how many
        announcements were appended."""
        appended = 0
        while True:
            added, done = self.step()
            appended += added
            if done:
                break
        if appended and self._on_append is not None:
            self._on_append(appended)
        return appended

    def step(self) -> tuple[int, bool]:
        """One batch: (announcements appended, whether it reached the head)."""
        tables = self._tables
        with tables.read() as tx:
            head = self._log.head(tx)
            if head <= outbox.read_counter(tables, tx, LOG_POSITION):
                return 0, True
        with tables.outbox_write() as tx:
            start = outbox.read_counter(tables, tx, LOG_POSITION)
            head = self._log.head(tx)
            if start >= head:
                return 0, True
            records = self._log.records(tx, start, head, self._page, TOPICS)
            reached = records[-1].position if len(records) == self._page else head
            batch = _Batch(tables, tx)
            opener = BatchOpener(self._keys)
            for stored in records:
                place = opener.open(stored)
                batch.handle(decoded(place), stored.position, stored.stream)
            batch.flush()
            outbox.write_counter(tables, tx, LOG_POSITION, reached)
            return batch.appended, reached >= head
