"""The non-personal facts the observatory counts: one per referral, one per case.

A fact holds only what DOMAIN.md calls non-personal (kinds, urgency, status,
times) and no id or text. Each fact is folded from its aggregate's events, one
event at a time (``referral_fact_after`` and ``case_fact_after``), so that a
projection could keep them as rows; ``StoreFacts`` folds them from the event
store, the reference that ``view_facts.ViewFacts`` (what the statistics read,
from the views) is held to.

An erased case keeps its facts: its erasure is recorded as a status, and every
date, kind and urgency stays readable, so erasure changes no count.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from functools import reduce
from typing import Protocol, TypeVar

from eventsourcing.domain import Aggregate

from application.context import Context
from domain import errors
from domain.case import Case
from domain.entries import CaseStatus
from domain.network import NetworkDirectory
from domain.referral import Move, Referral, ReferralStatus
from domain.vocabulary import ReferralKind, Urgency

UNKNOWN_KIND = "unknown"
"""The kind of a service no longer in the network directory."""

KindOf = Callable[[str], str]
F = TypeVar("F")


@dataclass(frozen=True, slots=True)
class ReferralFact:
    sent_at: datetime
    kind: ReferralKind
    sender_kind: str
    recipient_kind: str
    urgency: Urgency
    outcome: ReferralStatus
    hours_to_acknowledge: float | None = None
    hours_to_answer: float | None = None

    @property
    def year(self) -> int:
        return self.sent_at.year

    @property
    def month(self) -> int:
        return self.sent_at.month


@dataclass(frozen=True, slots=True)
class CaseFact:
    opened_at: datetime
    owner_kind: str
    status: CaseStatus

    @property
    def year(self) -> int:
        return self.opened_at.year

    @property
    def month(self) -> int:
        return self.opened_at.month


def kind_in(directory: NetworkDirectory, service_id: str) -> str:
    """A service's kind, or ``unknown`` for one no longer in the network directory."""
    try:
        return directory.service(service_id).kind.value
    except errors.UnknownService:
        return UNKNOWN_KIND


def _hours(since: datetime, until: datetime) -> float:
    return (until - since).total_seconds() / 3600


def referral_fact_after(
    fact: ReferralFact | None, event: Aggregate.Event, kind_of: KindOf
) -> ReferralFact | None:
    """The referral's fact once ``event`` happened (events of one referral, in order)."""
    if isinstance(event, Referral.Sent):
        return ReferralFact(
            sent_at=event.timestamp,
            kind=ReferralKind(event.kind),
            sender_kind=kind_of(event.sender_service),
            recipient_kind=kind_of(event.recipient_service),
            urgency=Urgency(event.urgency),
            outcome=ReferralStatus.SENT,
        )
    if fact is None:
        return None
    if isinstance(event, Referral.Moved):
        fact = replace(fact, outcome=ReferralStatus(event.to_status))
        hours = _hours(fact.sent_at, event.timestamp)
        if event.move == Move.ACKNOWLEDGE and fact.hours_to_acknowledge is None:
            fact = replace(fact, hours_to_acknowledge=hours)
        if event.move in (Move.ACCEPT, Move.DECLINE) and fact.hours_to_answer is None:
            fact = replace(fact, hours_to_answer=hours)
        return fact
    if isinstance(event, Referral.Suspended):
        return replace(fact, outcome=ReferralStatus.SUSPENDED)
    return fact


def case_fact_after(
    fact: CaseFact | None, event: Aggregate.Event, kind_of: KindOf
) -> CaseFact | None:
    """The case's fact once ``event`` happened (events of one case, in order)."""
    if isinstance(event, Case.Opened):
        return CaseFact(event.timestamp, kind_of(event.owner_service), CaseStatus.OPEN)
    if fact is None:
        return None
    if isinstance(event, Case.Closed):
        return replace(fact, status=CaseStatus.CLOSED)
    if isinstance(event, Case.ErasureRecorded):
        return replace(fact, status=CaseStatus.ERASED)
    return fact


def fold(
    events: Iterable[Aggregate.Event],
    step: Callable[[F | None, Aggregate.Event, KindOf], F | None],
    kind_of: KindOf,
) -> F | None:
    def apply(fact: F | None, event: Aggregate.Event) -> F | None:
        return step(fact, event, kind_of)

    return reduce(apply, events, None)


class FactSource(Protocol):
    """Where the facts come from: the views (``ViewFacts``) or the events (``StoreFacts``)."""

    def referrals(self) -> Sequence[ReferralFact]: ...

    def cases(self) -> Sequence[CaseFact]: ...


class StoreFacts:
    """Facts folded from every referral's and case's events: the reference the
    views' facts are checked against (too slow to answer requests with)."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def kind_of(self, service_id: str) -> str:
        return kind_in(self.ctx.directory, service_id)

    def referrals(self) -> Sequence[ReferralFact]:
        return self._facts(Referral, referral_fact_after)

    def cases(self) -> Sequence[CaseFact]:
        return self._facts(Case, case_fact_after)

    def _facts(
        self,
        kind: type[Aggregate],
        step: Callable[[F | None, Aggregate.Event, KindOf], F | None],
    ) -> list[F]:
        found = []
        for aggregate_id in self.ctx.store.ids_of(kind):
            fact = fold(self.ctx.store.history_of(aggregate_id), step, self.kind_of)
            if fact is not None:
                found.append(fact)
        return found
