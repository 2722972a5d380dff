"""Integrity alarms kept in the database, so that every process sees them.

On PostgreSQL the ledger may follow the log and sign in one process (a server
worker, or ``rete ledger checkpoint``) while others answer requests. An alarm
raised in one must stand in all: each one is written to ``rete_integrity_alarms``
beside the events, and every process's watch reads that table (at most once a
second, ``SharedIntegrityWatch``), so ``/health`` and the refusals of every
process follow within a second. A row is the proof that survives a restart: an
operator clears it (``rete ledger alarms --clear``) only after repair and a
successful ``rete ledger verify``, then restarts the processes.

Only kinds and ids are stored, never personal data (``application.integrity``).
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Final

from application.integrity import IntegrityAlarm, IntegrityWatch
from infrastructure.db import Database
from infrastructure.logging import get_logger

log = get_logger(__name__)

ALARMS: Final = "rete_integrity_alarms"

# The kinds the ledger raises (``application.integrity.LOG_ALARM_PREFIX``).
RECORD_ALTERED: Final = "log-record-altered"
RECORD_VANISHED: Final = "log-record-vanished"
RECORD_INSERTED: Final = "log-record-inserted"
VERSION_REUSED: Final = "log-version-reused"

_DDL: Final = """CREATE TABLE IF NOT EXISTS {t} (
    kind {text} NOT NULL,
    detail {text} NOT NULL,
    raised_at {stamp} NOT NULL,
    PRIMARY KEY (kind, detail))"""

# How long a process trusts what it last read of the table.
REREAD_SECONDS: Final = 1.0


class StoredAlarms:
    """The alarms table on the process's database; one row per (kind, detail)."""

    def __init__(self, database: Database) -> None:
        self._db = database
        dialect = database.dialect
        self._table = dialect.qualify(ALARMS)
        # Under a lock: two processes starting at once must not both create it.
        with database.write("rete integrity alarms") as tx:
            tx.command(
                _DDL.format(t=self._table, text=dialect.types["text"], stamp=dialect.types["stamp"])
            )

    def add(self, alarm: IntegrityAlarm) -> None:
        dialect = self._db.dialect
        with self._db.write() as tx:
            tx.command(
                f"INSERT INTO {self._table} (kind, detail, raised_at) VALUES (%s, %s, %s) "
                "ON CONFLICT (kind, detail) DO NOTHING",
                (alarm.kind, alarm.detail, dialect.encode("stamp", alarm.at)),
            )

    def all(self) -> list[IntegrityAlarm]:
        dialect = self._db.dialect
        with self._db.read() as tx:
            rows = tx.query(
                f"SELECT kind, detail, raised_at FROM {self._table} ORDER BY raised_at, kind"
            )
        return [
            IntegrityAlarm(str(kind), str(detail), dialect.decode("stamp", at))
            for kind, detail, at in rows
        ]

    def clear(self) -> int:
        """Forget every stored alarm (after repair); returns how many there were."""
        with self._db.write() as tx:
            return tx.command(f"DELETE FROM {self._table}")


class SharedIntegrityWatch(IntegrityWatch):
    """The process's watch, whose alarms are also every other process's: raised here,
    they are stored; asked for, the stored ones count too. A table that cannot be
    read or written (the database is down) leaves this process's own alarms, which
    always stand, and ``/health`` reports the database."""

    def __init__(self, stored: StoredAlarms, reread_seconds: float = REREAD_SECONDS) -> None:
        super().__init__()
        self._stored = stored
        self._reread = reread_seconds
        self._cache_lock = threading.Lock()
        self._read_at = float("-inf")
        self._cached: tuple[IntegrityAlarm, ...] = ()

    def raise_alarm(self, alarm: IntegrityAlarm) -> None:
        if _key(alarm) in {_key(a) for a in super().alarms()}:
            return  # found again by a later check: one alarm, one log line
        log.error("integrity alarm", alarm_kind=alarm.kind, alarm_detail=alarm.detail)
        super().raise_alarm(alarm)
        try:
            self._stored.add(alarm)
        except Exception as e:
            log.error(
                "the integrity alarm could not be stored for the other processes",
                alarm_kind=alarm.kind,
                exception_type=f"{type(e).__module__}.{type(e).__qualname__}",
            )
        with self._cache_lock:
            self._read_at = float("-inf")

    def alarms(self) -> tuple[IntegrityAlarm, ...]:
        own = super().alarms()
        seen = {_key(a) for a in own}
        return own + tuple(a for a in self._stored_alarms() if _key(a) not in seen)

    @property
    def in_doubt(self) -> bool:
        return bool(self.alarms())

    def _stored_alarms(self) -> tuple[IntegrityAlarm, ...]:
        with self._cache_lock:
            if time.monotonic() - self._read_at < self._reread:
                return self._cached
            try:
                self._cached = tuple(self._stored.all())
            except Exception:
                return self._cached  # the database is down: /health says so
            self._read_at = time.monotonic()
            return self._cached


def _key(alarm: IntegrityAlarm) -> tuple[str, str]:
    return alarm.kind, alarm.detail


def alarm(kind: str, detail: str) -> IntegrityAlarm:
    return IntegrityAlarm(kind, detail, datetime.now(UTC))
