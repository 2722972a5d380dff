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

The part of an id is its last two hex digits (its last byte), modulo the number
of parts: the same in every process and computable by both databases on the
stored stream id (``PartLog``), so that each worker fetches only its part of the log (and every
access record, whose case is inside its seal). Stream ids are random UUIDs: the
parts are about even.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Final

from eventsourcing.utils import get_topic

from domain.access import AccessRecord
from infrastructure.db import EventsTable
from infrastructure.views.db.base import ViewTx
from infrastructure.views.log import StoredRecord, as_record

BY_CASE_INSIDE: Final = {get_topic(AccessRecord.Recorded): "case_id"}
"""Topics whose records go by a field inside the outer seal: the topic, the field."""


def part_of(stream_or_case: str, parts: int) -> int:
    """The part (0 to ``parts`` - 1) of the records of one stream, or of one case:
    its id's last two hex digits, modulo ``parts``."""
    return int(stream_or_case[-2:], 16) % parts


class PartLog:
    """The records of one part of the log, as ``EventLog.records`` returns the whole
    of it: the database leaves out the records of other parts (it reads the last
    two hex digits of the stored stream id, in either of SQLite's two forms, or
    PostgreSQL's uuid's last byte), except those of ``BY_CASE_INSIDE`` topics,
    which every part reads. Read it with ``scan`` (``ViewTables.read``): a log just
    written has no statistics, and PostgreSQL would then scan the whole rest of it
    and sort it for every batch."""

    def __init__(self, events: EventsTable, topics: Sequence[str], part: int, parts: int) -> None:
        if events.dialect.name == "sqlite":
            mine = _literals(f"{n:02x}" for n in range(256) if n % parts == part)
            ours = f"substr(originator_id, -2) IN ({mine})"
        else:
            # The uuid's last byte is its last two hex digits: no text made per record.
            ours = f"get_byte(uuid_send(originator_id), 15) %% {int(parts)} = {int(part)}"
        by_stream = [t for t in topics if t not in BY_CASE_INSIDE]
        inside = [t for t in topics if t in BY_CASE_INSIDE]
        either = [f"topic IN ({_literals(by_stream)}) AND {ours}"] if by_stream else []
        if parts == 1:  # the whole log: no part to compute per record
            either, inside = [f"topic IN ({_literals(topics)})"] if topics else [], []
        if inside:
            either.append(f"topic IN ({_literals(inside)})")
        wanted = " OR ".join(f"({c})" for c in either) if either else "FALSE"
        wanted = f"({wanted})"
        p = events.position
        self._statement = (
            f"SELECT {p}, {events.stream_text}, originator_version, topic, state "
            f"FROM {events.dialect.qualify(events.name)} WHERE {p} > %s AND {p} <= %s "
            f"AND {wanted} ORDER BY {p} LIMIT %s"
        )

    def records(self, tx: ViewTx, after: int, stop: int, limit: int) -> list[StoredRecord]:
        """At most ``limit`` records of this part with ``after < position <= stop``."""
        return list(map(as_record, tx.query(self._statement, (after, stop, limit), binary=True)))


def _literals(values: Iterable[str]) -> str:
    """SQL string literals (standard quoting, as both backends read it), comma-separated."""
    return ", ".join("'" + value.replace("'", "''") + "'" for value in values)
