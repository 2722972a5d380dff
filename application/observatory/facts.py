"""The non-personal facts the observatory counts: one per referral, one per case.

A fact holds only what DOMAIN.md calls non-personal (kinds, urgency, status,
times) and no id or text. A referral's fact is made by ``referral_fact`` from its
kinds and its ``Lifecycle`` (``domain.referral_lifecycle``): its outcome and how
long it took to be acknowledged and answered are what the lifecycle says, from
the views (``view_facts.ViewFacts``, what the statistics read) or from the events
(``StoreFacts``, the reference the views' facts are held to). A case's fact is
folded from its events by ``case_fact_after``, handlers keyed by event class.

An erased case keeps its facts: its erasure is recorded as a status, and every
date, kind and urgency stays readable, so erasure changes no count.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from functools import reduce, singledispatch
from typing import Protocol, TypeVar

from eventsourcing.domain import Aggregate

from application.context import Context
from domain import errors
from domain.case import Case
from domain.entries import CaseStatus
from domain.network import NetworkDirectory
from domain.referral import Referral, ReferralStatus, lifecycle_after
from domain.referral_lifecycle import Lifecycle
from domain.vocabulary import ReferralKind, Urgency

UNKNOWN_KIND = "unknown"
"""The kind of a service no longer in the network directory."""

KindOf = Callable[[str], str]
F = TypeVar("F")


class _Counted:
    """A fact is counted in the month and the year it ``happened``."""

    __slots__ = ()

    @property
    def happened(self) -> datetime:
        raise NotImplementedError

    @property
    def year(self) -> int:
        return self.happened.year

    @property
    def month(self) -> int:
        return self.happened.month


@dataclass(frozen=True, slots=True)
class ReferralFact(_Counted):
    sent_at: datetime
    kind: ReferralKind
    sender_kind: str
    recipient_kind: str
    urgency: Urgency
    outcome: ReferralStatus
    hours_to_acknowledge: float | None = None
    hours_to_answer: float | None = None

    @property
    def happened(self) -> datetime:
        return self.sent_at


@dataclass(frozen=True, slots=True)
class CaseFact(_Counted):
    opened_at: datetime
    owner_kind: str
    status: CaseStatus

    @property
    def happened(self) -> datetime:
        return self.opened_at


def kind_in(directory: NetworkDirectory, service_id: str) -> str:
    """A service's kind, or ``unknown`` for one no longer in the network directory."""
    try:
        return directory.service(service_id).kind.value
    except errors.UnknownService:
        return UNKNOWN_KIND


def _hours(since: datetime, until: datetime | None) -> float | None:
    return None if until is None else (until - since).total_seconds() / 3600


def referral_fact(
    kind: ReferralKind,
    urgency: Urgency,
    sender_kind: str,
    recipient_kind: str,
    lifecycle: Lifecycle,
) -> ReferralFact:
    """A referral's fact: its kinds, and what its lifecycle says of its outcome and times."""
    return ReferralFact(
        sent_at=lifecycle.sent_at,
        kind=kind,
        sender_kind=sender_kind,
        recipient_kind=recipient_kind,
        urgency=urgency,
        outcome=lifecycle.status,
        hours_to_acknowledge=_hours(lifecycle.sent_at, lifecycle.acknowledged_at),
        hours_to_answer=_hours(lifecycle.sent_at, lifecycle.answered_at),
    )


# -- folded from the events --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReferralFolded:
    """What a referral's events say that its fact needs: how it was sent, and its lifecycle."""

    sent: Referral.Sent
    lifecycle: Lifecycle

    def fact(self, kind_of: KindOf) -> ReferralFact:
        sent = self.sent
        return referral_fact(
            ReferralKind(sent.kind),
            Urgency(sent.urgency),
            kind_of(sent.sender_service),
            kind_of(sent.recipient_service),
            self.lifecycle,
        )


@singledispatch
def referral_after(event: object, folded: ReferralFolded | None) -> ReferralFolded | None:
    """Any event after it was sent: the lifecycle says what, if anything, it changes."""
    if folded is None:
        return None
    lifecycle = lifecycle_after(event, folded.lifecycle)
    if lifecycle is None or lifecycle is folded.lifecycle:
        return folded
    return ReferralFolded(folded.sent, lifecycle)


@referral_after.register
def _sent(event: Referral.Sent, folded: ReferralFolded | None) -> ReferralFolded | None:
    lifecycle = lifecycle_after(event, None)
    return None if lifecycle is None else ReferralFolded(event, lifecycle)


@singledispatch
def case_fact_after(event: object, fact: CaseFact | None, kind_of: KindOf) -> CaseFact | None:
    """The case's fact once ``event`` happened (events of one case, in order); the
    events not registered here change nothing of it."""
    return fact


@case_fact_after.register
def _opened(event: Case.Opened, fact: CaseFact | None, kind_of: KindOf) -> CaseFact | None:
    return CaseFact(event.timestamp, kind_of(event.owner_service), CaseStatus.OPEN)


@case_fact_after.register
def _closed(event: Case.Closed, fact: CaseFact | None, kind_of: KindOf) -> CaseFact | None:
    return None if fact is None else replace(fact, status=CaseStatus.CLOSED)


@case_fact_after.register
def _erased(event: Case.ErasureRecorded, fact: CaseFact | None, kind_of: KindOf) -> CaseFact | None:
    return None if fact is None else replace(fact, status=CaseStatus.ERASED)


def fold(
    events: Iterable[Aggregate.Event], step: Callable[[object, F | None], F | None]
) -> F | None:
    """What ``step`` makes of ``events``, one after the other, from nothing."""
    return reduce(lambda state, event: step(event, state), events, None)


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
        found = []
        for events in self._histories(Referral):
            folded = fold(events, referral_after)
            if folded is not None:
                found.append(folded.fact(self.kind_of))
        return found

    def cases(self) -> Sequence[CaseFact]:
        found = []
        for events in self._histories(Case):
            fact = fold(events, lambda event, f: case_fact_after(event, f, self.kind_of))
            if fact is not None:
                found.append(fact)
        return found

    def _histories(self, kind: type[Aggregate]) -> Iterable[Iterable[Aggregate.Event]]:
        for aggregate_id in self.ctx.store.ids_of(kind):
            yield self.ctx.store.history_of(aggregate_id)
