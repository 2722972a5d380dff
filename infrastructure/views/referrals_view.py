"""The ``referrals`` view: each referral's non-personal facts and its escalations.

Where a referral stands is its ``Lifecycle``, folded from its events by
``domain.referral.lifecycle_after`` as the aggregate folds it; its fields are
kept as columns, with what the inbox orders by ready: whether it is active, the
rank of its urgency, and ``due``, the deadline the recipient must meet next.
Its reason and justification stay sealed.
"""

from __future__ import annotations

from functools import singledispatch
from typing import Final

from domain.referral import Referral, ReferralStatus, lifecycle_after
from domain.referral_lifecycle import Lifecycle
from domain.vocabulary import Urgency
from infrastructure.views import decoding
from infrastructure.views.events import Place
from infrastructure.views.rows import Row, RowSet
from infrastructure.views.schema import ESCALATIONS, REFERRALS, words
from infrastructure.views.view import View, sealed_columns

# Plain text, not the enums: a rebuild compares and hashes these for every event.
URGENCY_RANK = {Urgency.EMERGENCY.value: 0, Urgency.URGENT.value: 1, Urgency.ROUTINE.value: 2}

_TEXT = {s: s.value for s in ReferralStatus}  # as ``.value``, for less

# Not a column: the row's lifecycle, kept with it while a batch holds the row, so
# that a referral sent and moved in one batch is not read back from its columns.
_LIFECYCLE: Final = "__lifecycle"


@singledispatch
def project(event: object, at: Place, rows: RowSet) -> None:
    """Events this view does not read pass by."""


@project.register
def _sent(event: Referral.Sent, at: Place, rows: RowSet) -> None:
    row: Row = {
        "id": at.stream,
        "case_id": str(event.case_id),
        "position": at.position,
        "sender_service": event.sender_service,
        "recipient_service": event.recipient_service,
        "kind": event.kind,
        "urgency": event.urgency,
        "urgency_rank": URGENCY_RANK[event.urgency],
        "scope": words(event.scope),
        "legal_basis": event.legal_basis,
        "consent_id": event.consent_id,
        "statute": event.statute,
        "flagged": event.flagged_for_review,
        "sent_by": event.by_user,
        "version": at.version,
        **sealed_columns(at),
    }
    lifecycle = lifecycle_after(event, None)
    assert lifecycle is not None  # a referral's lifecycle begins when it is sent
    row["sent_at"] = lifecycle.sent_at
    row["acknowledge_by"] = lifecycle.acknowledge_by
    row["answer_by"] = lifecycle.answer_by
    _hold(row, lifecycle)
    rows.add(REFERRALS, row)


@project.register
def _moved(event: Referral.Moved, at: Place, rows: RowSet) -> None:
    _follow(event, at, rows)


@project.register
def _suspended(event: Referral.Suspended, at: Place, rows: RowSet) -> None:
    _follow(event, at, rows)


@project.register
def _escalated(event: Referral.Escalated, at: Place, rows: RowSet) -> None:
    row = _follow(event, at, rows)
    rows.add(
        ESCALATIONS,
        {
            "referral_id": row["id"],
            "deadline": event.deadline,
            "case_id": row["case_id"],
            "due": event.due,
            "escalated_at": event.timestamp,
            "position": at.position,
        },
    )


def _follow(event: object, at: Place, rows: RowSet) -> Row:
    """The referral's row once ``event`` moved its lifecycle on (its deadlines stay)."""
    row = rows.get(REFERRALS, at.stream)
    row["version"] = at.version
    held = row.get(_LIFECYCLE)
    lifecycle = lifecycle_after(event, held if held is not None else decoding.lifecycle(row))
    assert lifecycle is not None
    _hold(row, lifecycle)
    return row


def _hold(row: Row, lifecycle: Lifecycle) -> None:
    """What moves of the lifecycle, as columns (``decoding.lifecycle`` reads them
    back), and what the read side orders by: whether it is active, and what is due."""
    row[_LIFECYCLE] = lifecycle
    row["status"] = _TEXT[lifecycle.status]
    row["active"] = lifecycle.is_active
    row["due"] = lifecycle.due()
    row["acknowledged_at"] = lifecycle.acknowledged_at
    row["accepted_at"] = lifecycle.accepted_at
    row["answered_at"] = lifecycle.answered_at
    row["ended_at"] = lifecycle.ended_at
    escalations = lifecycle.escalations
    row["escalations"] = words(escalations) if escalations else ""


REFERRALS_VIEW = View(
    name="referrals", revision=1, tables=(REFERRALS, ESCALATIONS), projection=project
)
