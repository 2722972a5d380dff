"""The ``cases`` view: each case's non-personal state, and the services taking part.

A service takes part in a case when it owns it, or sent or received a referral on
it: exactly the cases ``domain.visibility.access_of`` lets it see.
"""

from __future__ import annotations

from eventsourcing.utils import get_topic

from domain.case import Case
from domain.entries import CaseStatus
from domain.referral import Referral
from infrastructure.views.records import OpenedRecord
from infrastructure.views.rows import Row, RowSet
from infrastructure.views.schema import CASES, PARTICIPANTS
from infrastructure.views.view import Handler, View

OWNER, SENDER, RECIPIENT = "owner", "sender", "recipient"


def _opened(rows: RowSet, record: OpenedRecord) -> None:
    state, case_id = record.state, record.stream
    rows.add(
        CASES,
        {
            "id": case_id,
            "reference_code": state["reference_code"],
            "owner_service": state["owner_service"],
            "status": CaseStatus.OPEN.value,
            "high_risk": False,
            "legal_hold": False,
            "opened_at": state["timestamp"],
            "opened_position": record.position,
            "version": record.version,
        },
    )
    _take_part(rows, case_id, state["owner_service"], OWNER, case_id)


def _case(rows: RowSet, record: OpenedRecord) -> Row:
    case = rows.get(CASES, record.stream)
    case["version"] = record.version
    return case


def _changed(rows: RowSet, record: OpenedRecord) -> None:
    _case(rows, record)


def _risk_assessed(rows: RowSet, record: OpenedRecord) -> None:
    _case(rows, record)["high_risk"] = record.state["high_risk"]


def _setting(column: str, value: object) -> Handler:
    def handle(rows: RowSet, record: OpenedRecord) -> None:
        _case(rows, record)[column] = value

    return handle


def _referral_sent(rows: RowSet, record: OpenedRecord) -> None:
    state, referral_id = record.state, record.stream
    case_id = str(state["case_id"])
    _take_part(rows, case_id, state["sender_service"], SENDER, referral_id)
    _take_part(rows, case_id, state["recipient_service"], RECIPIENT, referral_id)


def _take_part(rows: RowSet, case_id: str, service_id: str, role: str, source_id: str) -> None:
    rows.add(
        PARTICIPANTS,
        {"case_id": case_id, "service_id": service_id, "role": role, "source_id": source_id},
    )


CASES_VIEW = View(
    name="cases",
    revision=1,
    tables=(CASES, PARTICIPANTS),
    handlers={
        get_topic(Case.Opened): _opened,
        get_topic(Case.NoteAdded): _changed,
        get_topic(Case.ConsentRecorded): _changed,
        get_topic(Case.ConsentWithdrawn): _changed,
        get_topic(Case.RiskAssessed): _risk_assessed,
        get_topic(Case.Referred): _changed,
        get_topic(Case.LegalHoldPlaced): _setting("legal_hold", True),
        get_topic(Case.LegalHoldLifted): _setting("legal_hold", False),
        get_topic(Case.Closed): _setting("status", CaseStatus.CLOSED.value),
        get_topic(Case.ErasureRecorded): _setting("status", CaseStatus.ERASED.value),
        get_topic(Referral.Sent): _referral_sent,
    },
    # These only move the case's version or set a fixed value: when no other view
    # reads their fields (a referral's facts come from Referral.Sent), their seals
    # stay closed.
    place_only=frozenset(
        get_topic(e)
        for e in (
            Case.NoteAdded,
            Case.ConsentRecorded,
            Case.ConsentWithdrawn,
            Case.Referred,
            Case.LegalHoldPlaced,
            Case.LegalHoldLifted,
            Case.Closed,
            Case.ErasureRecorded,
        )
    ),
)
