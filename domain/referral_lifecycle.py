"""Where a referral stands: its status, the deadline it owes, when it answered and ended.

This is the one place that says what a referral's derived state is. ``Lifecycle``
is a value: it begins when the referral is sent (with the deadlines the network's
``DeadlinePolicy`` gives its urgency) and each later event gives a new one
(``entered`` a status, ``escalated`` a deadline). The fold that maps each of the
referral's events to these steps is ``domain.referral.lifecycle_after``, beside the
events; the aggregate, the views' referral rows and the observatory's facts all
hold a ``Lifecycle`` made by it, and ask it what is due, overdue or active.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from domain.deadlines import DeadlinePolicy
from domain.vocabulary import Urgency


class ReferralStatus(StrEnum):
    SENT = "sent"
    ACKNOWLEDGED = "acknowledged"
    ACCEPTED = "accepted"
    COMPLETED = "completed"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"
    SUSPENDED = "suspended"
    EXPIRED = "expired"


# A referral is active (its recipient sees new data in scope) only in these states.
ACTIVE_STATUSES = frozenset(
    {ReferralStatus.SENT, ReferralStatus.ACKNOWLEDGED, ReferralStatus.ACCEPTED}
)

# The recipient answered: it took the referral on, or said why not.
ANSWERS = frozenset({ReferralStatus.ACCEPTED, ReferralStatus.DECLINED})


_SENT, _ACKNOWLEDGED = ReferralStatus.SENT, ReferralStatus.ACKNOWLEDGED
_ACCEPTED = ReferralStatus.ACCEPTED


class Deadline(StrEnum):
    """Which of a referral's two deadlines: to acknowledge it, then to answer it."""

    ACKNOWLEDGE = "acknowledge"
    ANSWER = "answer"


# Not frozen: a frozen dataclass is made seven times slower, and a view rebuild
# makes one per move of every referral. It is a value all the same: every step
# returns a new one, and nothing assigns to its fields.
@dataclass(slots=True)
class Lifecycle:
    """A referral's derived state, as its events made it (never stored on its own:
    the views keep its fields as columns, the aggregate as an attribute)."""

    status: ReferralStatus
    sent_at: datetime
    acknowledge_by: datetime
    answer_by: datetime
    acknowledged_at: datetime | None = None
    accepted_at: datetime | None = None
    answered_at: datetime | None = None  # accepted or declined, whichever came first
    ended_at: datetime | None = None  # when it first stopped being active
    escalations: frozenset[Deadline] = frozenset()

    # -- how it moves --------------------------------------------------------------

    @classmethod
    def begun(cls, sent_at: datetime, acknowledge_by: datetime, answer_by: datetime) -> Lifecycle:
        """Just sent, with the deadlines its ``Sent`` event recorded."""
        return cls(ReferralStatus.SENT, sent_at, acknowledge_by, answer_by)

    def entered(self, status: ReferralStatus, at: datetime) -> Lifecycle:
        """Once it entered ``status`` at ``at``; the first time it was acknowledged,
        accepted, answered and ended is kept. (Written out plainly: every view
        rebuild runs it once per move.)"""
        acknowledged_at, accepted_at = self.acknowledged_at, self.accepted_at
        answered_at, ended_at = self.answered_at, self.ended_at
        if acknowledged_at is None and status == _ACKNOWLEDGED:
            acknowledged_at = at
        if accepted_at is None and status == _ACCEPTED:
            accepted_at = at
        if answered_at is None and status in ANSWERS:
            answered_at = at
        if ended_at is None and status not in ACTIVE_STATUSES:
            ended_at = at
        return Lifecycle(
            status,
            self.sent_at,
            self.acknowledge_by,
            self.answer_by,
            acknowledged_at,
            accepted_at,
            answered_at,
            ended_at,
            self.escalations,
        )

    def escalated(self, deadline: Deadline) -> Lifecycle:
        """Once ``deadline`` passed unanswered and both coordinators were told."""
        return Lifecycle(
            self.status,
            self.sent_at,
            self.acknowledge_by,
            self.answer_by,
            self.acknowledged_at,
            self.accepted_at,
            self.answered_at,
            self.ended_at,
            self.escalations | {deadline},
        )

    # -- what it says --------------------------------------------------------------

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    def pending(self) -> tuple[Deadline, datetime] | None:
        """The deadline the recipient must meet next, if it still owes an answer."""
        return pending_deadline(self.status, self.acknowledge_by, self.answer_by)

    def due(self) -> datetime | None:
        pending = self.pending()
        return pending[1] if pending else None

    def overdue(self, at: datetime) -> bool:
        due = self.due()
        return due is not None and at > due

    def unescalated(self, at: datetime) -> Deadline | None:
        """The deadline owed, if it passed at ``at`` and was not escalated yet."""
        pending = self.pending()
        if pending is None:
            return None
        deadline, due = pending
        return deadline if at > due and deadline not in self.escalations else None


def pending_deadline(
    status: str, acknowledge_by: datetime, answer_by: datetime
) -> tuple[Deadline, datetime] | None:
    """The deadline a referral in ``status`` owes next, if any: to acknowledge it,
    then to answer it (for whoever holds only its status and deadlines)."""
    if status == _SENT:
        return Deadline.ACKNOWLEDGE, acknowledge_by
    if status == _ACKNOWLEDGED:
        return Deadline.ANSWER, answer_by
    return None


def at_sending(policy: DeadlinePolicy, urgency: Urgency, sent_at: datetime) -> Lifecycle:
    """The lifecycle a referral of ``urgency`` sent at ``sent_at`` begins with: the
    network's policy gives its deadlines, which its ``Sent`` event then records."""
    due = policy.for_referral(urgency, sent_at)
    return Lifecycle.begun(sent_at, due.acknowledge_by, due.answer_by)


class StandsByLifecycle:
    """Where a referral stands, read from its ``lifecycle`` and nothing else: the
    aggregate (``domain.referral.Referral``) and the views' row
    (``application.view_rows.ReferralRow``) answer with these same readings."""

    __slots__ = ()
    lifecycle: Lifecycle

    @property
    def status(self) -> ReferralStatus:
        return self.lifecycle.status

    @property
    def sent_at(self) -> datetime:
        return self.lifecycle.sent_at

    @property
    def acknowledge_by(self) -> datetime:
        return self.lifecycle.acknowledge_by

    @property
    def answer_by(self) -> datetime:
        return self.lifecycle.answer_by

    @property
    def acknowledged_at(self) -> datetime | None:
        return self.lifecycle.acknowledged_at

    @property
    def accepted_at(self) -> datetime | None:
        return self.lifecycle.accepted_at

    @property
    def answered_at(self) -> datetime | None:
        return self.lifecycle.answered_at

    @property
    def ended_at(self) -> datetime | None:
        return self.lifecycle.ended_at

    @property
    def escalations(self) -> frozenset[Deadline]:
        return self.lifecycle.escalations

    @property
    def is_active(self) -> bool:
        return self.lifecycle.is_active

    def due(self) -> datetime | None:
        """The deadline the recipient must meet next, if it still owes an answer."""
        return self.lifecycle.due()

    def overdue(self, at: datetime) -> bool:
        return self.lifecycle.overdue(at)
