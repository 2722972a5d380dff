"""The ``access`` view: each case's access log, as the ids of its access records.

Every read of a case's personal data is an ``AccessRecord`` of its own, whose
case is inside the record's outer seal: the log alone cannot be filtered by
case. This view keeps, per record, its case and its position, so that a case's
access log is one indexed query however many reads the network has logged.
"""

from __future__ import annotations

from eventsourcing.utils import get_topic

from domain.access import AccessRecord
from infrastructure.views.records import OpenedRecord
from infrastructure.views.rows import RowSet
from infrastructure.views.schema import ACCESS
from infrastructure.views.view import View


def _recorded(rows: RowSet, record: OpenedRecord) -> None:
    rows.add(
        ACCESS,
        {
            "record_id": record.stream,
            "case_id": str(record.state["case_id"]),
            "position": record.position,
        },
    )


ACCESS_VIEW = View(
    name="access",
    revision=1,
    tables=(ACCESS,),
    handlers={get_topic(AccessRecord.Recorded): _recorded},
)
