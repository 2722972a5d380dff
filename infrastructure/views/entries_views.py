"""The ``entries``, ``consents`` and ``assessments`` views: what was written on a case.

Notes and risk assessments keep their personal part sealed under the case key
(and nothing derived from it: the high-risk flag lives on the case's row);
a consent's terms are not personal (DOMAIN.md, docs/ENCRYPTION.md) and are kept
as they are.
"""

from __future__ import annotations

from functools import singledispatch

from domain.case import Case
from infrastructure.views.events import Place
from infrastructure.views.rows import RowSet
from infrastructure.views.schema import ASSESSMENTS, CONSENTS, ENTRIES, words
from infrastructure.views.view import View, sealed_columns

# -- entries ------------------------------------------------------------------------


@singledispatch
def project_entries(event: object, at: Place, rows: RowSet) -> None:
    """Events this view does not read pass by."""


@project_entries.register
def _note_added(event: Case.NoteAdded, at: Place, rows: RowSet) -> None:
    rows.add(
        ENTRIES,
        {
            "entry_id": event.entry_id,
            "case_id": at.stream,
            "category": event.category,
            "author": event.by_user,
            "service_id": event.by_service,
            "recorded_at": event.timestamp,
            **sealed_columns(at),
        },
    )


# -- consents -----------------------------------------------------------------------


@singledispatch
def project_consents(event: object, at: Place, rows: RowSet) -> None:
    """Events this view does not read pass by."""


@project_consents.register
def _consent_recorded(event: Case.ConsentRecorded, at: Place, rows: RowSet) -> None:
    rows.add(
        CONSENTS,
        {
            "consent_id": event.consent_id,
            "case_id": at.stream,
            "version": at.version,
            "recipient_kinds": words(event.recipient_kinds),
            "recipient_services": words(event.recipient_services),
            "purposes": words(event.purposes),
            "categories": words(event.categories),
            "recorded_at": event.timestamp,
            "recorded_by": event.by_user,
            "expires_at": event.expires_at,
            "withdrawn_at": None,
            "withdrawn_by": None,
        },
    )


@project_consents.register
def _consent_withdrawn(event: Case.ConsentWithdrawn, at: Place, rows: RowSet) -> None:
    row = rows.get(CONSENTS, event.consent_id)
    row["withdrawn_at"] = event.timestamp
    row["withdrawn_by"] = event.by_user


# -- assessments --------------------------------------------------------------------


@singledispatch
def project_assessments(event: object, at: Place, rows: RowSet) -> None:
    """Events this view does not read pass by."""


@project_assessments.register
def _risk_assessed(event: Case.RiskAssessed, at: Place, rows: RowSet) -> None:
    rows.add(
        ASSESSMENTS,
        {
            "assessment_id": event.assessment_id,
            "case_id": at.stream,
            "instrument_id": event.instrument_id,
            "service_id": event.by_service,
            "assessed_by": event.by_user,
            "assessed_at": event.timestamp,
            **sealed_columns(at),
        },
    )


ENTRIES_VIEW = View(name="entries", revision=1, tables=(ENTRIES,), projection=project_entries)
CONSENTS_VIEW = View(name="consents", revision=1, tables=(CONSENTS,), projection=project_consents)
# Revision 2: no high-risk flag (derived from her data, it could not be dropped
# from every row at erasure); the cases view keeps which assessment turned it.
ASSESSMENTS_VIEW = View(
    name="assessments", revision=2, tables=(ASSESSMENTS,), projection=project_assessments
)
