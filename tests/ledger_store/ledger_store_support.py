"""Helpers of the ledger store tests: a log of real sealed records, and the events
table read and rewritten with plain SQL, the way someone with write access to
the database (or to a backup) could."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from support.clock import MONDAY
from support.rawdb import connect, is_sqlite, table_of

from application.rete import Rete
from domain.case import Case
from domain.vocabulary import Category

Row = tuple[int, str, int, str, bytes]  # position, stream id (text), version, topic, state


def write_cases(rete: Rete, cases: int, notes: int, start: int = 0) -> int:
    """``cases`` cases of ``1 + notes`` events each, one save per case: real sealed
    records through the application's store, written cheaply. Returns the events."""
    anna = rete.ctx.identify("anna", "cav-scirocco", ["caseworker"])
    at = MONDAY
    for n in range(start, start + cases):
        case = Case.open(f"CB-2026-{n:05d}", anna, at)
        for k in range(notes):
            at += timedelta(seconds=1)
            category = (Category.VIOLENCE, Category.SAFETY, Category.HEALTH)[k % 3]
            case.add_note(category, f"note {k} of case {n}", anna, at)
        rete.ctx.store.save(case)
    return cases * (1 + notes)


@dataclass
class EventsTable:
    """The event store's table, past the application."""

    backend: dict[str, str]

    @property
    def sqlite(self) -> bool:
        return is_sqlite(self.backend)

    def _conn(self) -> Any:
        return connect(self.backend)

    def table(self, name: str = "events") -> str:
        """A table of the test's database by name (``events``: the event store's)."""
        if self.sqlite:
            return {"events": "stored_events"}.get(name, name)
        table = {"events": "rete_events"}.get(name, name)
        return str(table_of(self.backend, table).as_string())

    @property
    def _pos(self) -> str:
        return "rowid" if self.sqlite else "notification_id"

    def _q(self, statement: str) -> str:
        statement = statement.format(t=self.table(), pos=self._pos)
        return statement if self.sqlite else statement.replace("?", "%s")

    def execute(self, statement: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Run SQL on any table: ``{t}`` is the events table, ``{pos}`` its position."""
        with self._conn() as conn:
            cursor = conn.execute(self._q(statement), params)
            return list(cursor.fetchall()) if cursor.description else []

    def rows(self) -> list[Row]:
        rows = self.execute(
            "SELECT {pos}, originator_id, originator_version, topic, state FROM {t} ORDER BY {pos}"
        )
        return [(int(p), str(o), int(v), str(t), bytes(s)) for p, o, v, t, s in rows]

    def count(self) -> int:
        return int(self.execute("SELECT COUNT(*) FROM {t}")[0][0])

    def replace_all(self, rows: list[Row]) -> None:
        """Rewrite the table to hold exactly ``rows`` (positions included), in one
        transaction that touches only the rows that change."""
        self._rewrite(self.rows(), rows)

    def _rewrite(self, before: list[Row], after: list[Row]) -> None:
        old = {row[0]: row for row in before}
        new = {row[0]: row for row in after}
        gone = [p for p, row in old.items() if new.get(p) != row]
        added = [row for p, row in new.items() if old.get(p) != row]
        with self._conn() as conn:
            conn.execute("BEGIN IMMEDIATE" if self.sqlite else "BEGIN")
            cursor = conn.cursor()
            # Delete first, then insert: a row may move to another position.
            cursor.executemany(self._q("DELETE FROM {t} WHERE {pos} = ?"), [(p,) for p in gone])
            cursor.executemany(
                self._q(
                    "INSERT INTO {t} ({pos}, originator_id, originator_version, topic, state) "
                    "VALUES (?, ?, ?, ?, ?)"
                ),
                added,
            )
            conn.execute("COMMIT")

    @contextmanager
    def tampered(self, rows: list[Row]) -> Iterator[None]:
        """The table holds ``rows`` inside the block; the original afterwards."""
        original = self.rows()
        self._rewrite(original, rows)
        try:
            yield
        finally:
            self._rewrite(rows, original)


def flip(data: bytes, bit: int) -> bytes:
    out = bytearray(data)
    out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)
