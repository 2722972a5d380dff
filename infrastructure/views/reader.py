"""``ViewQueries``: the read port (``application.view_ports.ViewReader``) on the views.

Every method reads in one snapshot of the tables. ``refresh`` is called first:
on SQLite it is the runner's ``catch_up`` (a client sees its own write on its
next read); on PostgreSQL nothing by default (``rete views run`` follows the log).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

from application.view_ports import (
    Box,
    CaseRow,
    CaseRows,
    CaseStanding,
    ObservatoryFacts,
    ReferralRow,
    Slice,
)
from domain.entries import CaseStatus
from domain.referral import ReferralStatus
from infrastructure.views import decoding
from infrastructure.views.db.base import ViewTables, ViewTx
from infrastructure.views.schema import (
    ACCESS,
    ASSESSMENTS,
    CASES,
    CONSENTS,
    ENTRIES,
    PARTICIPANTS,
    REFERRALS,
    Table,
)

T = TypeVar("T")
Stored = dict[str, Any]

_REFERRAL_KINDS = (*REFERRALS.kinds, "text", "bool", "text")
_REFERRAL_NAMES = (*REFERRALS.column_names, "case_reference", "case_high_risk", "case_status")


class ViewQueries:
    def __init__(self, tables: ViewTables, refresh: Callable[[], int] | None = None) -> None:
        self._tables = tables
        self._refresh = refresh
        q = tables.dialect.qualify
        self._t = {
            t: q(t.name)
            for t in (CASES, PARTICIPANTS, REFERRALS, ENTRIES, CONSENTS, ASSESSMENTS, ACCESS)
        }
        columns = ", ".join(f"r.{n}" for n in REFERRALS.column_names)
        self._referrals = (
            f"SELECT {columns}, c.reference_code, c.high_risk, c.status FROM {self._t[REFERRALS]} r "
            f"JOIN {self._t[CASES]} c ON c.id = r.case_id"
        )

    def catch_up(self) -> int:
        return self._refresh() if self._refresh is not None else 0

    # -- the port ---------------------------------------------------------------

    def cases_of(self, service_id: str, offset: int, limit: int) -> Slice[CaseRow]:
        statement = (
            f"{self._select(CASES)} WHERE id IN (SELECT case_id FROM {self._t[PARTICIPANTS]} "
            "WHERE service_id = %s) ORDER BY opened_position DESC LIMIT %s OFFSET %s"
        )
        with self._read() as tx:
            found = self._rows(tx, CASES, statement, (service_id, limit + 1, offset))
        return _slice([decoding.case_row(r) for r in found], limit)

    def standings(
        self, case_ids: Sequence[UUID], *, caught_up: bool = True
    ) -> dict[UUID, CaseStanding]:
        keys = [str(i) for i in case_ids]
        if not keys:
            return {}
        among = ", ".join(["%s"] * len(keys))
        with self._read() if caught_up else self._tables.read() as tx:
            cases = self._rows(tx, CASES, f"{self._select(CASES)} WHERE id IN ({among})", keys)
            consents = self._rows(
                tx,
                CONSENTS,
                f"{self._select(CONSENTS)} WHERE case_id IN ({among}) ORDER BY version",
                keys,
            )
            referrals = self._referral_rows(
                tx, f"WHERE r.case_id IN ({among}) ORDER BY r.position", keys
            )
        found = {UUID(r["id"]): CaseStanding(r["owner_service"], {}, []) for r in cases}
        for r in consents:
            found[UUID(r["case_id"])].consents[r["consent_id"]] = decoding.consent(r)
        for referral in referrals:
            found[referral.case_id].referrals.append(referral)
        return found

    def case(self, case_id: UUID) -> CaseRows | None:
        key = (str(case_id),)
        with self._read() as tx:
            cases = self._rows(tx, CASES, f"{self._select(CASES)} WHERE id = %s", key)
            if not cases:
                return None
            entries = self._rows(tx, ENTRIES, self._of_case(ENTRIES, "sealed_version"), key)
            consents = self._rows(tx, CONSENTS, self._of_case(CONSENTS, "version"), key)
            assessed = self._rows(
                tx, ASSESSMENTS, self._of_case(ASSESSMENTS, "sealed_version"), key
            )
            referrals = self._referral_rows(tx, "WHERE r.case_id = %s ORDER BY r.position", key)
        return CaseRows(
            case=decoding.case_row(cases[0]),
            entries=[decoding.entry_row(r) for r in entries],
            referrals=referrals,
            consents={r["consent_id"]: decoding.consent(r) for r in consents},
            assessments=[decoding.assessment_row(r) for r in assessed],
        )

    def referral(self, referral_id: UUID) -> ReferralRow | None:
        with self._read() as tx:
            found = self._referral_rows(tx, "WHERE r.id = %s", (str(referral_id),))
        return found[0] if found else None

    def box(
        self,
        which: Box,
        service_id: str,
        at: datetime,
        statuses: frozenset[ReferralStatus],
        offset: int,
        limit: int,
    ) -> Slice[ReferralRow]:
        # DOMAIN.md's order: active first; by urgency; the most overdue (the earliest
        # deadline still owed; none owed counts as due now); the oldest.
        side = "recipient_service" if which is Box.INBOX else "sender_service"
        wanted = sorted(s.value for s in statuses)
        among = f" AND r.status IN ({', '.join(['%s'] * len(wanted))})" if wanted else ""
        now = self._tables.dialect.encode_row(("time",), (at,))[0]
        where = (
            f"WHERE r.{side} = %s{among} ORDER BY r.active DESC, r.urgency_rank, "
            "COALESCE(r.due, %s), r.sent_at, r.position LIMIT %s OFFSET %s"
        )
        with self._read() as tx:
            found = self._referral_rows(tx, where, (service_id, *wanted, now, limit + 1, offset))
        return _slice(found, limit)

    def overdue(self, at: datetime) -> list[ReferralRow]:
        now = self._tables.dialect.encode_row(("time",), (at,))[0]
        where = "WHERE r.due < %s AND c.status <> %s ORDER BY r.due, r.position"
        with self._read() as tx:
            return self._referral_rows(tx, where, (now, CaseStatus.ERASED.value))

    def worklist(self, service_id: str) -> list[ReferralRow]:
        where = (
            "WHERE (r.sender_service = %s OR r.recipient_service = %s) AND r.escalations <> '' "
            "AND r.due IS NOT NULL AND c.status <> %s ORDER BY r.due, r.position"
        )
        with self._read() as tx:
            return self._referral_rows(tx, where, (service_id, service_id, CaseStatus.ERASED.value))

    def access_records(self, case_id: UUID) -> list[UUID]:
        statement = f"SELECT record_id FROM {self._t[ACCESS]} WHERE case_id = %s ORDER BY position"
        with self._read() as tx:
            return [UUID(row[0]) for row in tx.query(statement, (str(case_id),))]

    def observatory_facts(self) -> ObservatoryFacts:
        with self._read() as tx:
            cases = self._rows(tx, CASES, f"{self._select(CASES)} ORDER BY opened_position", ())
            referrals = self._rows(
                tx, REFERRALS, f"{self._select(REFERRALS)} ORDER BY position", ()
            )
        return ObservatoryFacts(
            [decoding.case_fact(r) for r in cases], [decoding.referral_fact(r) for r in referrals]
        )

    # -- inside ----------------------------------------------------------------------

    def _read(self) -> AbstractContextManager[ViewTx]:
        self.catch_up()
        return self._tables.read()

    def _referral_rows(self, tx: ViewTx, where: str, params: Sequence[Any]) -> list[ReferralRow]:
        decode = tx.dialect.decode_row
        return [
            decoding.referral_row(
                dict(zip(_REFERRAL_NAMES, decode(_REFERRAL_KINDS, row), strict=True))
            )
            for row in tx.query(f"{self._referrals} {where}", params)
        ]

    def _select(self, table: Table) -> str:
        return f"SELECT {', '.join(table.column_names)} FROM {self._t[table]}"

    def _of_case(self, table: Table, order: str) -> str:
        return f"{self._select(table)} WHERE case_id = %s ORDER BY {order}"

    @staticmethod
    def _rows(tx: ViewTx, table: Table, statement: str, params: Sequence[Any]) -> list[Stored]:
        names, kinds = table.column_names, table.kinds
        return [
            dict(zip(names, tx.dialect.decode_row(kinds, row), strict=True))
            for row in tx.query(statement, params)
        ]


def _slice(items: list[T], limit: int) -> Slice[T]:
    return Slice(items[:limit], len(items) > limit)
