"""The ``entries``, ``consents`` and ``assessments`` views: what was written on a case.

Notes and risk assessments keep their personal part sealed under the case key;
a consent's terms are not personal (DOMAIN.md, docs/ENCRYPTION.md) and are kept
as they are.
"""

from __future__ import annotations

from eventsourcing.utils import get_topic

from domain.case import Case
from infrastructure.views.records import OpenedRecord
from infrastructure.views.rows import RowSet
from infrastructure.views.schema import ASSESSMENTS, CONSENTS, ENTRIES, words
from infrastructure.views.view import View, sealed_columns


def _note_added(rows: RowSet, record: OpenedRecord) -> None:
    s = record.state
    rows.add(
        ENTRIES,
        {
            "entry_id": s["entry_id"],
            "case_id": record.stream,
            "category": s["category"],
            "author": s["by_user"],
            "service_id": s["by_service"],
            "recorded_at": s["timestamp"],
            **sealed_columns(record),
        },
    )


def _consent_recorded(rows: RowSet, record: OpenedRecord) -> None:
    s = record.state
    rows.add(
        CONSENTS,
        {
            "consent_id": s["consent_id"],
            "case_id": record.stream,
            "version": record.version,
            "recipient_kinds": words(s["recipient_kinds"]),
            "recipient_services": words(s["recipient_services"]),
            "purposes": words(s["purposes"]),
            "categories": words(s["categories"]),
            "recorded_at": s["timestamp"],
            "recorded_by": s["by_user"],
            "expires_at": s["expires_at"],
            "withdrawn_at": None,
            "withdrawn_by": None,
        },
    )


def _consent_withdrawn(rows: RowSet, record: OpenedRecord) -> None:
    row = rows.get(CONSENTS, record.state["consent_id"])
    row["withdrawn_at"] = record.state["timestamp"]
    row["withdrawn_by"] = record.state["by_user"]


def _risk_assessed(rows: RowSet, record: OpenedRecord) -> None:
    s = record.state
    rows.add(
        ASSESSMENTS,
        {
            "assessment_id": s["assessment_id"],
            "case_id": record.stream,
            "instrument_id": s["instrument_id"],
            "service_id": s["by_service"],
            "assessed_by": s["by_user"],
            "assessed_at": s["timestamp"],
            "high_risk": s["high_risk"],
            **sealed_columns(record),
        },
    )


ENTRIES_VIEW = View(
    name="entries",
    revision=1,
    tables=(ENTRIES,),
    handlers={get_topic(Case.NoteAdded): _note_added},
)

CONSENTS_VIEW = View(
    name="consents",
    revision=1,
    tables=(CONSENTS,),
    handlers={
        get_topic(Case.ConsentRecorded): _consent_recorded,
        get_topic(Case.ConsentWithdrawn): _consent_withdrawn,
    },
)

ASSESSMENTS_VIEW = View(
    name="assessments",
    revision=1,
    tables=(ASSESSMENTS,),
    handlers={get_topic(Case.RiskAssessed): _risk_assessed},
)
