"""The ``cases`` view: each case's non-personal state, and the services taking part.

A service takes part in a case when it owns it, or sent or received a referral on
it: exactly the cases ``domain.visibility.access_of`` lets it see.

A case's row also keeps what every service taking part sees of her data, even
one that may not read the category it comes from: the high-risk flag, a field
its events declare derived (``DERIVED_FIELDS``, ``domain.events``). It is sealed
under her case key; the projection reads it opened (``events.decoded``), and
every column named after a derived field (``high_risk``, ``high_risk_turns``)
is set to null when the case is erased: null, not false, which would say
something too.
"""

from __future__ import annotations

from functools import singledispatch

from domain.case import Case
from domain.entries import CaseStatus
from domain.erased import Erased
from domain.events import derived_names
from domain.referral import Referral
from infrastructure.views.events import Place
from infrastructure.views.rows import Row, RowSet
from infrastructure.views.schema import CASES, PARTICIPANTS, unwords, words
from infrastructure.views.view import PlaceHandler, View

OWNER, SENDER, RECIPIENT = "owner", "sender", "recipient"


def _derived(column: str) -> bool:
    """Whether a column holds a derived field, under its name or as ``<field>_...``."""
    return any(column == name or column.startswith(name + "_") for name in derived_names())


def derived_columns() -> tuple[str, ...]:
    """The case row's columns emptied when the case is erased: the domain's
    declaration decides which."""
    return tuple(c for c in CASES.column_names if _derived(c))


@singledispatch
def project(event: object, at: Place, rows: RowSet) -> None:
    """Events this view does not read pass by."""


@project.register
def _opened(event: Case.Opened, at: Place, rows: RowSet) -> None:
    case_id = at.stream
    rows.add(
        CASES,
        {
            "id": case_id,
            "reference_code": event.reference_code,
            "owner_service": event.owner_service,
            "status": CaseStatus.OPEN.value,
            "high_risk": False,
            "high_risk_turns": "",
            "legal_hold": False,
            "opened_at": event.timestamp,
            "opened_position": at.position,
            "version": at.version,
        },
    )
    _take_part(rows, case_id, event.owner_service, OWNER, case_id)


@project.register
def _risk_assessed(event: Case.RiskAssessed, at: Place, rows: RowSet) -> None:
    case = _case(rows, at)
    if isinstance(event.high_risk, Erased):
        # Her key was destroyed before this record was projected: the erasure's
        # own record, which follows, nulls the flag; until then it is unknown.
        case["high_risk"] = None
        return
    if event.high_risk != case["high_risk"]:
        turns = [*unwords(case["high_risk_turns"] or ""), event.assessment_id]
        case["high_risk_turns"] = words(turns)
    case["high_risk"] = event.high_risk


def _erased(event: object, at: Place, rows: RowSet) -> None:
    case = _case(rows, at)
    case["status"] = CaseStatus.ERASED.value
    for column in derived_columns():
        case[column] = None


@project.register
def _referral_sent(event: Referral.Sent, at: Place, rows: RowSet) -> None:
    case_id, referral_id = str(event.case_id), at.stream
    _take_part(rows, case_id, event.sender_service, SENDER, referral_id)
    _take_part(rows, case_id, event.recipient_service, RECIPIENT, referral_id)


def _case(rows: RowSet, at: Place) -> Row:
    case = rows.get(CASES, at.stream)
    case["version"] = at.version
    return case


def _changed(event: object, at: Place, rows: RowSet) -> None:
    _case(rows, at)


def _setting(column: str, value: object) -> PlaceHandler:
    def handle(event: object, at: Place, rows: RowSet) -> None:
        _case(rows, at)[column] = value

    return handle


def _take_part(rows: RowSet, case_id: str, service_id: str, role: str, source_id: str) -> None:
    rows.add(
        PARTICIPANTS,
        {"case_id": case_id, "service_id": service_id, "role": role, "source_id": source_id},
    )


# Revision 2: the high-risk flag and its turns, null once the case is erased.
CASES_VIEW = View(
    name="cases",
    revision=2,
    tables=(CASES, PARTICIPANTS),
    projection=project,
    # These only move the case's version or set a fixed value: when no other view
    # reads their fields (a referral's facts come from Referral.Sent), their seals
    # stay closed.
    place_only={
        Case.NoteAdded: _changed,
        Case.ConsentRecorded: _changed,
        Case.ConsentWithdrawn: _changed,
        Case.Referred: _changed,
        Case.LegalHoldPlaced: _setting("legal_hold", True),
        Case.LegalHoldLifted: _setting("legal_hold", False),
        Case.Closed: _setting("status", CaseStatus.CLOSED.value),
        Case.ErasureRecorded: _erased,
    },
)
