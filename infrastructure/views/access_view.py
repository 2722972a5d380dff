"""The ``access`` view: each case's access log, as the ids of its access records.

Every read of a case's personal data is an ``AccessRecord`` of its own, whose
case is inside the record's outer seal: the log alone cannot be filtered by
case. This view keeps, per record, its case and its position, so that a case's
access log is one indexed query however many reads the network has logged.

Each case's log also has a count (``ACCESS_COUNTS``), from the case's opening, and
each record its number in it: a row deleted from the log is then a gap, or a count
the rows do not reach, which the reader refuses (rows are authenticated, counts
included: ``row_mac``).
"""

from __future__ import annotations

from functools import singledispatch

from domain.access import AccessRecord
from domain.case import Case
from infrastructure.views.events import Place
from infrastructure.views.rows import Row, RowSet, ViewCorrupt
from infrastructure.views.schema import ACCESS, ACCESS_COUNTS
from infrastructure.views.view import View


@singledispatch
def project(event: object, at: Place, rows: RowSet) -> None:
    """Events this view does not read pass by."""


@project.register
def _recorded(event: AccessRecord.Recorded, at: Place, rows: RowSet) -> None:
    case_id = str(event.case_id)
    count = _count(rows, case_id)
    count["records"] += 1
    rows.add(
        ACCESS,
        {
            "record_id": at.stream,
            "case_id": case_id,
            "position": at.position,
            "number": count["records"],
        },
    )


def _opened(event: object, at: Place, rows: RowSet) -> None:
    rows.add(ACCESS_COUNTS, {"case_id": at.stream, "records": 0})


def _count(rows: RowSet, case_id: str) -> Row:
    try:
        return rows.get(ACCESS_COUNTS, case_id)
    except ViewCorrupt:  # a record of a case this view never saw opened
        count: Row = {"case_id": case_id, "records": 0}
        rows.add(ACCESS_COUNTS, count)
        return count


ACCESS_VIEW = View(
    name="access",
    revision=2,
    tables=(ACCESS, ACCESS_COUNTS),
    projection=project,
    place_only={Case.Opened: _opened},
)
