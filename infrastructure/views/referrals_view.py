"""The ``referrals`` view: each referral's non-personal facts and its escalations.

What the inbox orders by is kept ready: whether it is active, the rank of its
urgency, and ``due``, the deadline the recipient must meet next (as
``Referral.due()`` says). Its reason and justification stay sealed.
"""

from __future__ import annotations

from datetime import datetime

from eventsourcing.utils import get_topic

from domain.referral import ACTIVE_STATUSES, Referral, ReferralStatus
from domain.vocabulary import Urgency
from infrastructure.views.records import OpenedRecord
from infrastructure.views.rows import Row, RowSet
from infrastructure.views.schema import ESCALATIONS, REFERRALS, unwords, words
from infrastructure.views.view import View, sealed_columns

# Plain text, not the enums: a rebuild compares and hashes these for every event.
URGENCY_RANK = {Urgency.EMERGENCY.value: 0, Urgency.URGENT.value: 1, Urgency.ROUTINE.value: 2}
_ACTIVE = frozenset(s.value for s in ACTIVE_STATUSES)
_ANSWERS = frozenset({ReferralStatus.ACCEPTED.value, ReferralStatus.DECLINED.value})
_SENT, _ACKNOWLEDGED = ReferralStatus.SENT.value, ReferralStatus.ACKNOWLEDGED.value
_ACCEPTED, _SUSPENDED = ReferralStatus.ACCEPTED.value, ReferralStatus.SUSPENDED.value


def _sent(rows: RowSet, record: OpenedRecord) -> None:
    s = record.state
    row: Row = {
        "id": record.stream,
        "case_id": str(s["case_id"]),
        "position": record.position,
        "sender_service": s["sender_service"],
        "recipient_service": s["recipient_service"],
        "kind": s["kind"],
        "urgency": s["urgency"],
        "urgency_rank": URGENCY_RANK[s["urgency"]],
        "scope": words(s["scope"]),
        "legal_basis": s["legal_basis"],
        "consent_id": s["consent_id"],
        "statute": s["statute"],
        "flagged": s["flagged_for_review"],
        "sent_by": s["by_user"],
        "sent_at": s["timestamp"],
        "acknowledge_by": s["acknowledge_by"],
        "answer_by": s["answer_by"],
        "acknowledged_at": None,
        "accepted_at": None,
        "answered_at": None,
        "ended_at": None,
        "escalations": "",
        "version": record.version,
        **sealed_columns(record),
    }
    _enter(row, _SENT, s["timestamp"])
    rows.add(REFERRALS, row)


def _referral(rows: RowSet, record: OpenedRecord) -> Row:
    row = rows.get(REFERRALS, record.stream)
    row["version"] = record.version
    return row


def _moved(rows: RowSet, record: OpenedRecord) -> None:
    _enter(_referral(rows, record), record.state["to_status"], record.state["timestamp"])


def _suspended(rows: RowSet, record: OpenedRecord) -> None:
    _enter(_referral(rows, record), _SUSPENDED, record.state["timestamp"])


def _escalated(rows: RowSet, record: OpenedRecord) -> None:
    s = record.state
    row = _referral(rows, record)
    row["escalations"] = words({*unwords(row["escalations"]), s["deadline"]})
    rows.add(
        ESCALATIONS,
        {
            "referral_id": row["id"],
            "deadline": s["deadline"],
            "case_id": row["case_id"],
            "due": s["due"],
            "escalated_at": s["timestamp"],
            "position": record.position,
        },
    )


def _enter(row: Row, status: str, at: datetime) -> None:
    """As ``Referral._enter`` does, plus what the read side orders and counts by."""
    row["status"] = status
    row["active"] = active = status in _ACTIVE
    if status == _ACKNOWLEDGED:
        row["acknowledged_at"] = at
    elif status == _ACCEPTED:
        row["accepted_at"] = at
    if status in _ANSWERS and row["answered_at"] is None:
        row["answered_at"] = at
    if not active and row["ended_at"] is None:
        row["ended_at"] = at
    if status == _SENT:
        row["due"] = row["acknowledge_by"]
    elif status == _ACKNOWLEDGED:
        row["due"] = row["answer_by"]
    else:
        row["due"] = None


REFERRALS_VIEW = View(
    name="referrals",
    revision=1,
    tables=(REFERRALS, ESCALATIONS),
    handlers={
        get_topic(Referral.Sent): _sent,
        get_topic(Referral.Moved): _moved,
        get_topic(Referral.Suspended): _suspended,
        get_topic(Referral.Escalated): _escalated,
    },
)
