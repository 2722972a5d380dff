"""The ``access`` view: each case's access log, as the ids of its access records.

Every read of a case's personal data is an ``AccessRecord`` of its own, whose
case is inside the record's outer seal: the log alone cannot be filtered by
case. This view keeps, per record, its case and its position, so that a case's
access log is one indexed query however many reads the network has logged.
"""

from __future__ import annotations

from functools import singledispatch

from domain.access import AccessRecord
from infrastructure.views.events import Place
from infrastructure.views.rows import RowSet
from infrastructure.views.schema import ACCESS
from infrastructure.views.view import View


@singledispatch
def project(event: object, at: Place, rows: RowSet) -> None:
    """Events this view does not read pass by."""


@project.register
def _recorded(event: AccessRecord.Recorded, at: Place, rows: RowSet) -> None:
    rows.add(
        ACCESS,
        {"record_id": at.stream, "case_id": str(event.case_id), "position": at.position},
    )


ACCESS_VIEW = View(name="access", revision=1, tables=(ACCESS,), projection=project)
