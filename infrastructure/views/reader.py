"""``ViewQueries``: the read port (``application.view_ports.ViewReader``) on the views.

Every method reads in one snapshot of the tables (a method of one statement
sends it alone: a statement sees one state by itself). ``refresh`` is called first:
on SQLite it is the runner's ``catch_up`` (a client sees its own write on its
next read); on PostgreSQL nothing by default (``rete views run`` follows the log).

No row is used before it is checked (``row_mac``): its MAC, a sealed part's place
against the row that holds it (its own case, or referral, and its kind of event),
and a case's access log against its count. A row that fails is never served: the
read raises ``IntegrityFailure`` (the ``integrity-failure`` problem), an alarm
naming the table and the row's ids (nothing personal) goes to the application's
``IntegrityWatch`` (``/health`` then answers 503) and to the log.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any, Final, NoReturn
from uuid import UUID

from eventsourcing.utils import get_topic

from application.integrity import IntegrityAlarm, IntegrityFailure, IntegrityWatch
from application.list_filters import CaseFilter, ReferralFilter, ReferralTerms
from application.pagination import InvalidCursor, Key
from application.view_ports import (
    Box,
    CaseRow,
    CaseRows,
    CaseStanding,
    Keyed,
    ObservatoryFacts,
    PageAsk,
    ReferralRow,
)
from domain.case import Case
from domain.consent import Consent
from domain.entries import CaseStatus
from domain.referral import Referral
from infrastructure.logging import get_logger
from infrastructure.views import decoding
from infrastructure.views.db.base import ViewTables, ViewTx
from infrastructure.views.row_mac import RowMac
from infrastructure.views.rows import RowAltered
from infrastructure.views.schema import (
    ACCESS,
    ACCESS_COUNTS,
    ASSESSMENTS,
    CASES,
    CONSENTS,
    ENTRIES,
    PARTICIPANTS,
    REFERRALS,
    Table,
)

Stored = dict[str, Any]

log = get_logger(__name__)

ALTERED: Final = "view-row-altered"

# A sealed part a row hands out is the personal part of this kind of event, and
# of the row's own stream: the case (entries, assessments) or the referral.
_SEALED_BY: Final = {
    ENTRIES: ("case_id", get_topic(Case.NoteAdded)),
    ASSESSMENTS: ("case_id", get_topic(Case.RiskAssessed)),
    REFERRALS: ("id", get_topic(Referral.Sent)),
}
_REFERRAL_COLUMNS: Final = len(REFERRALS.columns)
_REFERRAL_WITH_CASE: Final = _REFERRAL_COLUMNS + len(CASES.columns)
# What an alarm may say of a row: its ids, as ids are written; anything else is cut.
_NOT_AN_ID: Final = re.compile(r"[^0-9A-Za-z._:-]")
# A referral owes an answer past its deadline (``Lifecycle.overdue``: a deadline
# still owed, ``due``, that the moment has passed), said once for every read of it.
_OVERDUE: Final = "(r.due IS NOT NULL AND r.due < %s)"


class ViewQueries:
    def __init__(
        self,
        tables: ViewTables,
        mac: RowMac,
        refresh: Callable[[], int] | None = None,
        integrity: IntegrityWatch | None = None,
    ) -> None:
        self._tables = tables
        self._mac = mac
        self._refresh = refresh
        # Where a row found altered raises its alarm (the application's, once built).
        self.integrity = integrity if integrity is not None else IntegrityWatch()
        q = tables.dialect.qualify
        self._t = {
            t: q(t.name)
            for t in (
                CASES,
                PARTICIPANTS,
                REFERRALS,
                ENTRIES,
                CONSENTS,
                ASSESSMENTS,
                ACCESS,
                ACCESS_COUNTS,
            )
        }
        columns = ", ".join(
            [*(f"r.{n}" for n in REFERRALS.column_names), *(f"c.{n}" for n in CASES.column_names)]
        )
        self._referrals = (
            f"SELECT {columns} FROM {self._t[REFERRALS]} r "
            f"JOIN {self._t[CASES]} c ON c.id = r.case_id"
        )
        # A referral, its case and the consent it relies on (if any), in one
        # statement: what a move reads before it loads the referral.
        terms = ", ".join(f"co.{n}" for n in CONSENTS.column_names)
        self._referral_relying = (
            f"SELECT {columns}, {terms} FROM {self._t[REFERRALS]} r "
            f"JOIN {self._t[CASES]} c ON c.id = r.case_id "
            f"LEFT JOIN {self._t[CONSENTS]} co "
            "ON co.consent_id = r.consent_id AND co.case_id = r.case_id WHERE r.id = %s"
        )
        # A consent's row (if held) and whether the referral relying on it is held,
        # in one statement: one round trip, no transaction.
        self._relied_on = (
            f"SELECT {terms}, EXISTS (SELECT 1 FROM {self._t[REFERRALS]} WHERE id = %s) "
            f"FROM (SELECT 1 AS one) o LEFT JOIN {self._t[CONSENTS]} co "
            "ON co.consent_id = %s AND co.case_id = %s"
        )

    def catch_up(self) -> int:
        if self._refresh is None:
            return 0
        try:
            return self._refresh()
        except RowAltered as e:  # the log was to change a row someone altered
            self._refuse(e.table, e.key, "a row the log was to change was altered")

    # -- the port ---------------------------------------------------------------

    def cases_of(
        self, service_id: str, at: datetime, where: CaseFilter, ask: PageAsk
    ) -> Keyed[CaseRow]:
        # Keyset: the log position of the case's opening, unique and never changed.
        sql = [
            f"{self._select(CASES)} c WHERE c.id IN (SELECT case_id FROM "
            f"{self._t[PARTICIPANTS]} WHERE service_id = %s)"
        ]
        params: list[Any] = [service_id]
        self._among(sql, params, "c.status", where.statuses)
        self._flag(sql, params, where.high_risk)
        self._with_referrals(sql, params, where.referrals, service_id, at)
        if ask.after is not None:
            (position,) = _key(ask.after, 1)
            sql.append("c.opened_position < %s")
            params.append(position)
        statement = f"{' AND '.join(sql)} ORDER BY c.opened_position DESC LIMIT %s"
        with self._read(snapshot=False) as tx:
            found = self._rows(tx, CASES, statement, (*params, ask.fetched))
        return ask.keyed([(decoding.case_row(r), (r["opened_position"],)) for r in found])

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
            standing = found.get(UUID(r["case_id"]))
            if standing is None:  # the views hold a case's rows with its case row
                self._refuse(CASES, (r["case_id"],), "a case with consents has no row")
            standing.consents[r["consent_id"]] = decoding.consent(r)
        for referral in referrals:
            found[referral.case_id].referrals.append(referral)  # joined with its case
        for standing in found.values():
            self._require_consents(standing.referrals, standing.consents)
        return found

    def relied_on(
        self, referral_id: UUID, case_id: UUID, consent_id: str, *, caught_up: bool = True
    ) -> Consent | None:
        # One statement on its own: no snapshot to open and end.
        params = (str(referral_id), consent_id, str(case_id))
        with self._read(snapshot=False) if caught_up else self._tables.read(False) as tx:
            (found,) = tx.query(self._relied_on, params)
            *terms, referral_held = found
            if terms[0] is None:
                if referral_held:  # as ``_require_consents``: a deleted row lifts no end
                    self._refuse(CONSENTS, (consent_id,), "a consent relied on is missing")
                return None
            return decoding.consent(self._checked(tx, CONSENTS, terms))

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
        terms = {r["consent_id"]: decoding.consent(r) for r in consents}
        self._require_consents(referrals, terms)
        return CaseRows(
            case=decoding.case_row(cases[0]),
            entries=[decoding.entry_row(r) for r in entries],
            referrals=referrals,
            consents=terms,
            assessments=[decoding.assessment_row(r) for r in assessed],
        )

    def referral(self, referral_id: UUID) -> ReferralRow | None:
        with self._read(snapshot=False) as tx:
            found = self._referral_rows(tx, "WHERE r.id = %s", (str(referral_id),))
        return found[0] if found else None

    def referral_relying(self, referral_id: UUID) -> tuple[ReferralRow, Consent | None] | None:
        # One statement on its own (no snapshot): the referral, its case, its consent.
        with self._read(snapshot=False) as tx:
            found = tx.query(self._referral_relying, (str(referral_id),))
            if not found:
                return None
            (stored,) = found
            referral, _ = self._referral_of(tx, stored[:_REFERRAL_WITH_CASE])
            terms = stored[_REFERRAL_WITH_CASE:]
            if terms[0] is None:
                if referral.consent_id is not None:  # as ``relied_on``
                    self._refuse(CONSENTS, (referral.consent_id,), "a consent relied on is missing")
                return referral, None
            return referral, decoding.consent(self._checked(tx, CONSENTS, terms))

    def box(
        self, which: Box, service_id: str, at: datetime, where: ReferralFilter, ask: PageAsk
    ) -> Keyed[ReferralRow]:
        # Keyset: urgency, then the log position of the referral's sending (unique):
        # neither changes once written, whatever moves it, so pages do not shift.
        side = "recipient_service" if which is Box.INBOX else "sender_service"
        sql = [f"r.{side} = %s"]
        params: list[Any] = [service_id]
        self._among(sql, params, "r.status", where.statuses)
        self._flag(sql, params, where.high_risk)
        self._terms(sql, params, where.terms, service_id)
        if where.terms.overdue is not None:
            sql.append(_OVERDUE if where.terms.overdue else f"NOT {_OVERDUE}")
            params.append(self._time(at))
        if ask.after is not None:
            rank, position = _key(ask.after, 2)
            sql.append("(r.urgency_rank > %s OR (r.urgency_rank = %s AND r.position > %s))")
            params += [rank, rank, position]
        statement = f"WHERE {' AND '.join(sql)} ORDER BY r.urgency_rank, r.position LIMIT %s"
        with self._read(snapshot=False) as tx:
            found = self._referral_pairs(tx, statement, (*params, ask.fetched))
        return ask.keyed(found)

    def overdue(self, at: datetime) -> list[ReferralRow]:
        where = f"WHERE {_OVERDUE} AND c.status <> %s ORDER BY r.due, r.position"
        with self._read(snapshot=False) as tx:
            return self._referral_rows(tx, where, (self._time(at), CaseStatus.ERASED.value))

    def worklist(self, service_id: str) -> list[ReferralRow]:
        where = (
            "WHERE (r.sender_service = %s OR r.recipient_service = %s) AND r.escalations <> '' "
            "AND r.due IS NOT NULL AND c.status <> %s ORDER BY r.due, r.position"
        )
        with self._read(snapshot=False) as tx:
            return self._referral_rows(tx, where, (service_id, service_id, CaseStatus.ERASED.value))

    def access_records(self, case_id: UUID) -> list[UUID]:
        key = (str(case_id),)
        with self._read() as tx:
            counted = self._rows(
                tx, ACCESS_COUNTS, f"{self._select(ACCESS_COUNTS)} WHERE case_id = %s", key
            )
            records = self._rows(tx, ACCESS, self._of_case(ACCESS, "position"), key)
            held = bool(tx.query(f"SELECT 1 FROM {self._t[CASES]} WHERE id = %s", key))
        if not counted:
            if records or held:  # every case held has a count, from its opening
                self._refuse(ACCESS_COUNTS, key, "a case's access count is missing")
            return []
        numbers = [r["number"] for r in records]
        if numbers != list(range(1, counted[0]["records"] + 1)):
            self._refuse(ACCESS, key, "a case's access log lacks records its count holds")
        return [UUID(r["record_id"]) for r in records]

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

    def _read(self, snapshot: bool = True) -> AbstractContextManager[ViewTx]:
        """Caught up, then a snapshot for several statements; ``snapshot=False`` for
        one statement, which sees one state by itself (no ``BEGIN``, no ``COMMIT``:
        one round trip instead of two)."""
        self.catch_up()
        return self._tables.read(snapshot)

    def _time(self, at: datetime) -> Any:
        return self._tables.dialect.encode_row(("time",), (at,))[0]

    def _among(self, sql: list[str], params: list[Any], column: str, words: frozenset[str]) -> None:
        if words:
            wanted = sorted(words)
            sql.append(f"{column} IN ({', '.join(['%s'] * len(wanted))})")
            params += wanted

    def _flag(self, sql: list[str], params: list[Any], high_risk: bool | None) -> None:
        """The case's high-risk flag (null once erased: it matches neither)."""
        if high_risk is not None:
            sql.append("c.high_risk = %s")
            params.append(self._tables.dialect.encode_row(("bool",), (high_risk,))[0])

    def _terms(
        self, sql: list[str], params: list[Any], terms: ReferralTerms, service_id: str
    ) -> None:
        """A referral's urgency, kind and counterpart (the side that is not ``service_id``)."""
        self._among(sql, params, "r.urgency", terms.urgencies)
        self._among(sql, params, "r.kind", terms.kinds)
        if terms.counterparts:
            other = (
                "CASE WHEN r.sender_service = %s THEN r.recipient_service ELSE r.sender_service END"
            )
            params.append(service_id)
            self._among(sql, params, other, terms.counterparts)

    def _with_referrals(
        self,
        sql: list[str],
        params: list[Any],
        terms: ReferralTerms,
        service_id: str,
        at: datetime,
    ) -> None:
        """A case with a referral of ``service_id``'s (sent or received) that matches
        ``terms``; ``overdue=False``: and none of those that match is overdue."""
        if not terms.narrows and terms.overdue is None:
            return
        mine = ["r.case_id = c.id AND (r.sender_service = %s OR r.recipient_service = %s)"]
        mine_params: list[Any] = [service_id, service_id]
        self._terms(mine, mine_params, terms, service_id)
        exists = f"SELECT 1 FROM {self._t[REFERRALS]} r WHERE {' AND '.join(mine)}"
        if terms.overdue:
            sql.append(f"EXISTS ({exists} AND {_OVERDUE})")
            params += [*mine_params, self._time(at)]
            return
        if terms.narrows:
            sql.append(f"EXISTS ({exists})")
            params += mine_params
        if terms.overdue is False:
            sql.append(f"NOT EXISTS ({exists} AND {_OVERDUE})")
            params += [*mine_params, self._time(at)]

    def _referral_rows(self, tx: ViewTx, where: str, params: Sequence[Any]) -> list[ReferralRow]:
        """Referrals, each with its case's row, both checked."""
        return [row for row, _ in self._referral_pairs(tx, where, params)]

    def _referral_pairs(
        self, tx: ViewTx, where: str, params: Sequence[Any]
    ) -> list[tuple[ReferralRow, Key]]:
        """Referrals as ``_referral_rows``, each with its key in a box (urgency rank,
        position)."""
        return [
            self._referral_of(tx, row) for row in tx.query(f"{self._referrals} {where}", params)
        ]

    def _referral_of(self, tx: ViewTx, stored: Sequence[Any]) -> tuple[ReferralRow, Key]:
        """A referral's columns followed by its case's, both checked, as a row with
        its key in a box."""
        referral = self._checked(tx, REFERRALS, stored[:_REFERRAL_COLUMNS])
        case = self._checked(tx, CASES, stored[_REFERRAL_COLUMNS:])
        referral["case_reference"] = case["reference_code"]
        referral["case_high_risk"] = case["high_risk"]
        referral["case_status"] = case["status"]
        key = (int(referral["urgency_rank"]), int(referral["position"]))
        return decoding.referral_row(referral), key

    def _select(self, table: Table) -> str:
        return f"SELECT {', '.join(table.column_names)} FROM {self._t[table]}"

    def _of_case(self, table: Table, order: str) -> str:
        return f"{self._select(table)} WHERE case_id = %s ORDER BY {order}"

    def _rows(
        self, tx: ViewTx, table: Table, statement: str, params: Sequence[Any]
    ) -> list[Stored]:
        """The rows ``statement`` selects (every column of ``table``), each checked."""
        return [self._checked(tx, table, row) for row in tx.query(statement, params)]

    def _checked(self, tx: ViewTx, table: Table, stored: Sequence[Any]) -> Stored:
        """One stored row, decoded, once it proved to be one the views wrote."""
        values = tx.dialect.decode_row(table.kinds, stored)
        row = dict(zip(table.column_names, values, strict=True))
        if not self._mac.valid(table, values):
            self._refuse(table, table.key_of(row), "its MAC does not match its columns")
        sealed_by = _SEALED_BY.get(table)
        if sealed_by is not None:
            # Its MAC binds the part to this row; this says so in the part's own terms:
            # the place it opens at is this row's case (or referral) and event.
            own, topic = sealed_by
            if row["sealed_stream"] != row[own] or row["sealed_topic"] != topic:
                self._refuse(table, table.key_of(row), "its sealed part belongs elsewhere")
        return row

    def _require_consents(
        self, referrals: Sequence[ReferralRow], consents: Mapping[str, Consent]
    ) -> None:
        """Each referral's consent is among its case's: a consent row deleted would
        otherwise lift the end its withdrawal or expiry puts on what the recipient
        reads (``domain.visibility.referral_cutoff``)."""
        for referral in referrals:
            if referral.consent_id is not None and referral.consent_id not in consents:
                self._refuse(CONSENTS, (referral.consent_id,), "a consent relied on is missing")

    def _refuse(self, table: Table, key: Sequence[Any], why: str) -> NoReturn:
        """Refuse the read: an alarm (ids only, logged by the watch), ``IntegrityFailure``."""
        ids = ",".join(_NOT_AN_ID.sub("?", str(k))[:64] for k in key)
        detail = f"{table.name} row {ids}: {why}"
        # The watch logs the alarm, once (``infrastructure.ledger.alarms``).
        self.integrity.raise_alarm(IntegrityAlarm(ALTERED, detail, datetime.now(UTC)))
        raise IntegrityFailure(
            "stored data failed its integrity check; nothing was served (see the server log)"
        )


def _key(key: Key, size: int) -> Key:
    """A cursor's key, as this list's keys are (a sealed cursor is; checked anyway)."""
    if len(key) != size:
        raise InvalidCursor("pass back the next_cursor of a previous page of the same list")
    return key
