"""The notifications' tables, beside the events on the process's database.

* ``rete_notify_state``: how far the follower read the log, and the outbox's last
  position (one counter, moved under one lock, so positions commit in order).
* ``rete_notify_cases`` / ``rete_notify_referrals``: the non-personal facts the
  derivation needs (which services a referral joins, its urgency, deadlines,
  consent and status; a case's reference code), kept from the log.
* ``rete_notify_outbox``: the announcements, in order, each with its stable id.
* ``rete_notify_subscriptions``: the webhook subscriptions, as their events left
  them; the secrets only sealed.
* ``rete_notify_deliveries``: one row per announcement and subscription: pending,
  delivered or dead, its attempts and when it is next tried.

Every moment is whole microseconds since 1970 (UTC) on both backends.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

from infrastructure.db import Database, Tx

STATE: Final = "rete_notify_state"
CASES: Final = "rete_notify_cases"
REFERRALS: Final = "rete_notify_referrals"
OUTBOX: Final = "rete_notify_outbox"
SUBSCRIPTIONS: Final = "rete_notify_subscriptions"
DELIVERIES: Final = "rete_notify_deliveries"

_DDL: Final = (
    "CREATE TABLE IF NOT EXISTS {STATE} (name {text} PRIMARY KEY, value {int} NOT NULL)",
    "CREATE TABLE IF NOT EXISTS {CASES} (case_id {text} PRIMARY KEY, "
    "reference_code {text} NOT NULL)",
    "CREATE TABLE IF NOT EXISTS {REFERRALS} (id {text} PRIMARY KEY, case_id {text} NOT NULL, "
    "sender {text} NOT NULL, recipient {text} NOT NULL, urgency {text} NOT NULL, "
    "consent_id {text}, status {text} NOT NULL, acknowledge_by {int} NOT NULL, "
    "answer_by {int} NOT NULL)",
    "CREATE INDEX IF NOT EXISTS rete_notify_referrals_case ON {REFERRALS} (case_id)",
    "CREATE INDEX IF NOT EXISTS rete_notify_referrals_consent ON {REFERRALS} (consent_id)",
    "CREATE TABLE IF NOT EXISTS {OUTBOX} (position {int} PRIMARY KEY, id {text} NOT NULL UNIQUE, "
    "service {text} NOT NULL, kind {text} NOT NULL, body {text} NOT NULL)",
    "CREATE INDEX IF NOT EXISTS rete_notify_outbox_service ON {OUTBOX} (service, position)",
    "CREATE TABLE IF NOT EXISTS {SUBSCRIPTIONS} (id {text} PRIMARY KEY, "
    "service {text} NOT NULL, url {text} NOT NULL, kinds {text} NOT NULL, "
    "secret {blob} NOT NULL, previous {blob}, previous_until {int}, created_at {int} NOT NULL, "
    "removed {int} NOT NULL)",
    "CREATE TABLE IF NOT EXISTS {DELIVERIES} (subscription_id {text} NOT NULL, "
    "announcement_id {text} NOT NULL, position {int} NOT NULL, stream {text} NOT NULL, "
    "state {text} NOT NULL, attempts {int} NOT NULL, next_at {int} NOT NULL, "
    "last_error {text} NOT NULL, failed_at {int}, "
    "PRIMARY KEY (subscription_id, announcement_id))",
    "CREATE INDEX IF NOT EXISTS rete_notify_deliveries_due ON {DELIVERIES} (state, next_at)",
    "CREATE INDEX IF NOT EXISTS rete_notify_deliveries_stream "
    "ON {DELIVERIES} (subscription_id, stream, position)",
)


class NotifyTables:
    """The tables on ``database``, created when missing."""

    def __init__(self, database: Database) -> None:
        self.database = database
        dialect = database.dialect
        self.dialect = dialect
        self.names = {
            name: dialect.qualify(table)
            for name, table in (
                ("STATE", STATE),
                ("CASES", CASES),
                ("REFERRALS", REFERRALS),
                ("OUTBOX", OUTBOX),
                ("SUBSCRIPTIONS", SUBSCRIPTIONS),
                ("DELIVERIES", DELIVERIES),
            )
        }
        self._lock = f"rete notifications {dialect.schema}"
        types = {k: dialect.types[k] for k in ("text", "int", "blob")}
        # Under the lock: two processes starting at once must not both create them.
        with database.write(self._lock) as tx:
            for statement in dialect.create_schema():
                tx.command(statement)
            for statement in _DDL:
                tx.command(statement.format(**self.names, **types))

    def sql(self, statement: str) -> str:
        """``statement`` with its ``{TABLE}`` names qualified."""
        return statement.format(**self.names)

    @contextmanager
    def outbox_write(self) -> Iterator[Tx]:
        """A transaction serialised with every other writer of the outbox, in any
        process: positions are given and committed in one order."""
        with self.database.write(self._lock) as tx:
            yield tx

    @contextmanager
    def write(self) -> Iterator[Tx]:
        with self.database.write() as tx:
            yield tx

    @contextmanager
    def read(self) -> Iterator[Tx]:
        with self.database.read() as tx:
            yield tx
