"""Which part of a partitioned rebuild projects a record (``rebuild_workers``).

A rebuild across N processes gives each record of the log to exactly one of them,
and each process writes the rows of the records it was given. That is the same
result as one process only if no row is touched by records given to two
processes. Each row belongs to one stream's records, checked view by view:

* ``cases``: a case's row is written and changed by its own stream's records
  (``Case.*``); a participant row is only ever added (its key holds the case or
  referral that made the service take part), by ``Case.Opened`` or by
  ``Referral.Sent`` on the referral's stream, and never read back.
* ``referrals``: a referral's row and its escalations, by its own stream's records.
* ``entries``, ``consents``, ``assessments``: rows added, and a consent's row
  changed, by the records of the case's stream.
* ``access``: a case's count is added by ``Case.Opened`` (the case's stream) and
  moved by every ``AccessRecord.Recorded`` of that case, each one numbered in log
  order. An access record's stream is its own, its case is inside the outer seal:
  such a record goes by its case (``BY_CASE_INSIDE``), so that a case's opening
  and every read of it are projected by one process, in log order.

So a record goes by its stream id, or by the case inside it for an access record.
A view added later must keep to this (every row written by one stream's records,
or only added), or name its field here; the partitioned rebuild's tests compare
it with the incremental views at several process counts.

The hash is CRC-32 of the id's text: the same in every process (Python's own
``hash`` of a string is not) and in C.
"""

from __future__ import annotations

from typing import Final
from zlib import crc32

from eventsourcing.utils import get_topic

from domain.access import AccessRecord

BY_CASE_INSIDE: Final = {get_topic(AccessRecord.Recorded): "case_id"}
"""Topics whose records go by a field inside the outer seal: the topic, the field."""


def part_of(stream_or_case: str, parts: int) -> int:
    """The part (0 to ``parts`` - 1) of the records of one stream, or of one case."""
    return crc32(stream_or_case.encode()) % parts
