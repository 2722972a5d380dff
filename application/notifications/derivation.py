"""Which announcements an event of the log makes, and for which services.

Pure rules over what the log says of a referral (``ReferralFacts``, kept by the
outbox's follower as it reads the log): the follower feeds each event in log
order and stores what comes out. An announcement's id is made of the event's
position in the log, its kind and its service, so deriving again (after a crash,
in another process) gives the same ids and nothing is announced twice as new.

Who is told: the recipient of what the sender did (sent, withdrawn) and the
sender of what the recipient did (acknowledged, accepted, declined, completed);
both of what the network did (suspended, expired, escalated, a deadline missed,
an erasure). A withdrawn consent is announced to the recipient of every active
referral made under it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from application.notifications.announcement import Announcement, referral_link
from domain.referral_lifecycle import Deadline, ReferralStatus, pending_deadline

# What a recipient's move tells the sender (and what the sender's tells the recipient).
MOVED_KIND = {
    "acknowledge": "referral.acknowledged",
    "accept": "referral.accepted",
    "decline": "referral.declined",
    "complete": "referral.completed",
    "withdraw": "referral.withdrawn",
    "expire": "referral.expired",
}

# Ended for good (a suspended referral may resume: its recipient still holds it).
_ENDED = frozenset(
    {
        ReferralStatus.DECLINED,
        ReferralStatus.COMPLETED,
        ReferralStatus.WITHDRAWN,
        ReferralStatus.EXPIRED,
    }
)


@dataclass(frozen=True, slots=True)
class ReferralFacts:
    """What the notifications know of a referral: no field of it is personal."""

    id: str
    case_id: str
    sender: str
    recipient: str
    urgency: str
    consent_id: str | None
    status: str
    acknowledge_by: datetime
    answer_by: datetime
    case_ref: str | None

    @property
    def active(self) -> bool:
        return self.status not in _ENDED

    def pending_deadline(self) -> tuple[Deadline, datetime] | None:
        """The deadline the recipient must meet next, if any (the lifecycle's rule)."""
        return pending_deadline(self.status, self.acknowledge_by, self.answer_by)


def _announce(
    key: str,
    kind: str,
    services: Iterable[str],
    facts: ReferralFacts,
    at: datetime,
    *,
    deadline: datetime | None = None,
    case_ref: bool = True,
) -> list[Announcement]:
    return [
        Announcement(
            id=f"ann_{key}_{kind}_{service}",
            position=0,  # the outbox gives it its place
            kind=kind,
            service=service,
            occurred_at=at,
            referral_id=facts.id,
            case_ref=facts.case_ref if case_ref else None,
            urgency=facts.urgency,
            deadline=deadline,
            link=referral_link(facts.id),
        )
        for service in dict.fromkeys(services)  # each service once, in order
    ]


def sent(position: int, facts: ReferralFacts, at: datetime) -> list[Announcement]:
    return _announce(
        str(position),
        "referral.received",
        [facts.recipient],
        facts,
        at,
        deadline=facts.acknowledge_by,
    )


def moved(position: int, facts: ReferralFacts, move: str, at: datetime) -> list[Announcement]:
    kind = MOVED_KIND.get(move)
    if kind is None:
        return []
    if move == "withdraw":
        told = [facts.recipient]
    elif move == "expire":
        told = [facts.sender, facts.recipient]
    else:
        told = [facts.sender]
    deadline = facts.answer_by if move == "acknowledge" else None
    return _announce(str(position), kind, told, facts, at, deadline=deadline)


def suspended(position: int, facts: ReferralFacts, at: datetime) -> list[Announcement]:
    return _announce(
        str(position), "referral.suspended", [facts.recipient, facts.sender], facts, at
    )


def escalated(
    position: int, facts: ReferralFacts, due: datetime, at: datetime
) -> list[Announcement]:
    """A deadline passed unanswered: it is missed, and it escalates. The escalation
    policy records it once per deadline (``Referral.escalate``), so each of these
    is announced once per deadline however often the policy runs."""
    told = [facts.recipient, facts.sender]
    return [
        *_announce(str(position), "deadline.missed", told, facts, at, deadline=due),
        *_announce(str(position), "referral.escalated", told, facts, at, deadline=due),
    ]


def consent_withdrawn(
    position: int, held: Iterable[ReferralFacts], at: datetime
) -> list[Announcement]:
    """To the recipient of each active referral made under the withdrawn consent."""
    found: list[Announcement] = []
    for facts in held:
        if facts.active:
            key = f"{position}_{facts.id}"
            found += _announce(key, "consent.withdrawn", [facts.recipient], facts, at)
    return found


def case_erased(position: int, held: Iterable[ReferralFacts], at: datetime) -> list[Announcement]:
    """To both services of each referral of the erased case: which referral, never
    whose (no case reference: after erasure even the link only says it is erased)."""
    found: list[Announcement] = []
    for facts in held:
        key = f"{position}_{facts.id}"
        told = [facts.recipient, facts.sender]
        found += _announce(key, "case.erased", told, facts, at, case_ref=False)
    return found


def approaching(facts: ReferralFacts, now: datetime, lead: timedelta) -> list[Announcement]:
    """The pending deadline, if it is less than ``lead`` away and not yet past: once
    per referral and deadline (its id says which, not when the policy ran)."""
    pending = facts.pending_deadline()
    if pending is None:
        return []
    name, due = pending
    if not due - lead <= now < due:
        return []
    key = f"{facts.id}_{name}"
    # When the lead began, not when the policy ran: the same payload on every run.
    return _announce(
        key, "deadline.approaching", [facts.recipient], facts, due - lead, deadline=due
    )
