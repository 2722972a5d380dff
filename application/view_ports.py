"""The read side's ports: the network's views, and the opening of their sealed parts.

Views are rows the projections keep beside the events (docs/VIEWS.md). They hold
every non-personal fact a list or a case page needs, and each personal part as
it was stored: sealed under the case key, with the place it is bound to. The
application decides who may read what (``domain.visibility``) from these rows,
then opens only the parts the reader may see (``PersonalParts``); once a case is
erased its key is gone and those parts read as ``ERASED``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Generic, Protocol, TypeVar
from uuid import UUID

from application.list_filters import CaseFilter, ReferralFilter
from application.pagination import Key
from application.view_rows import (
    AssessmentRow,
    CaseFact,
    CaseRow,
    CaseRows,
    CaseStanding,
    EntryRow,
    ObservatoryFacts,
    ReferralFact,
    ReferralRow,
    SealedPart,
    Slice,
)
from domain.consent import Consent
from domain.erased import Erased

T = TypeVar("T")

__all__ = [
    "AssessmentRow",
    "CaseFact",
    "CaseRow",
    "CaseRows",
    "CaseStanding",
    "EntryRow",
    "Keyed",
    "ObservatoryFacts",
    "PersonalParts",
    "ReferralFact",
    "ReferralRow",
    "SealedPart",
    "Slice",
    "ViewReader",
]


class Box(StrEnum):
    """A service's referrals: those sent to it, or those it sent."""

    INBOX = "inbox"
    OUTBOX = "outbox"


@dataclass(frozen=True, slots=True)
class Keyed(Generic[T]):
    """One page of a list, and the sort key of its last row when more follow: the
    next page is the rows after it (``application.pagination``)."""

    items: list[T]
    after: Key | None


@dataclass(frozen=True, slots=True)
class PageAsk:
    """Which page of a list is asked for: at most ``limit`` rows, those after the
    sort key ``after`` (None: from the first)."""

    after: Key | None
    limit: int

    @property
    def fetched(self) -> int:
        """How many rows to fetch: one more than the page, to learn whether more follow."""
        return self.limit + 1

    def keyed(self, rows: Sequence[tuple[T, Key]]) -> Keyed[T]:
        """The page made of ``rows`` (each with its sort key; the ones after ``after``,
        in order, ``fetched`` of them at most, or all), with the last one's key when
        more follow."""
        page = rows[: self.limit]
        return Keyed([r for r, _ in page], page[-1][1] if len(rows) > self.limit else None)


class ViewReader(Protocol):
    """What the application reads the network through. Each method answers from the
    views as they are after every event written before the call (on SQLite the
    implementation catches up first; on PostgreSQL a ``rete views run`` process
    follows the log, and ``catch_up`` closes the gap on demand)."""

    def cases_of(
        self, service_id: str, at: datetime, where: CaseFilter, ask: PageAsk
    ) -> Keyed[CaseRow]:
        """Cases the service owns or takes part in (sender or recipient of a
        referral on it) that ``where`` lets through (overdue at ``at``), the most
        recently opened first, from the one after the key ``after``."""
        ...

    def standings(
        self, case_ids: Sequence[UUID], *, caught_up: bool = True
    ) -> dict[UUID, CaseStanding]:
        """What decides who may see each of these cases (a list page's), by case id;
        cases the views do not hold are left out. ``caught_up=False``: as the views
        stand, without first following the log to its head (a caller that re-asks
        when the answer is "not visible")."""
        ...

    def case(self, case_id: UUID) -> CaseRows | None:
        """One case's rows, whoever asks (authorise before showing them)."""
        ...

    def relied_on(
        self, referral_id: UUID, case_id: UUID, consent_id: str, *, caught_up: bool = True
    ) -> Consent | None:
        """The terms of the consent ``consent_id`` of the case ``case_id``, on which the
        referral ``referral_id`` relies; None when the views hold it not (nor the
        referral: one held without the consent it relies on is an integrity failure,
        as in ``standings``). ``caught_up=False``: as the views stand (a caller that
        just read the referral from them: its consent was recorded before it)."""
        ...

    def referral(self, referral_id: UUID) -> ReferralRow | None: ...

    def referral_relying(self, referral_id: UUID) -> tuple[ReferralRow, Consent | None] | None:
        """A referral's row, as ``referral``, with the terms of the consent it relies
        on (None when it relies on none), in one read: what a move needs before it
        loads the referral. One held without the consent it relies on is an
        integrity failure, as in ``relied_on``."""
        ...

    def box(
        self, which: Box, service_id: str, at: datetime, where: ReferralFilter, ask: PageAsk
    ) -> Keyed[ReferralRow]:
        """Referrals to the service (``INBOX``) or from it (``OUTBOX``) that ``where``
        lets through (overdue at ``at``; the counterpart is the other service), the
        page ``ask`` asks for: the most urgent first, then in the order
        they were sent. Both keys stay as they were written whatever moves the
        referral, so a walk through the pages meets each referral once."""
        ...

    def overdue(self, at: datetime) -> list[ReferralRow]:
        """Referrals past the deadline they owe at ``at``, of cases not erased: the
        ones the escalation policy looks at, the most overdue first."""
        ...

    def worklist(self, service_id: str) -> list[ReferralRow]:
        """Escalated referrals still owing an answer, on either side of the service,
        of cases not erased: the most overdue first."""
        ...

    def access_records(self, case_id: UUID) -> list[UUID]:
        """The ids of a case's access records (its reads and disclosures), oldest first."""
        ...

    def observatory_facts(self) -> ObservatoryFacts:
        """Every case and referral as non-personal facts, for the statistics."""
        ...

    def catch_up(self) -> int:
        """Apply what the log holds beyond the views; returns how many events."""
        ...


class PersonalParts(Protocol):
    """Opens sealed parts with their case key, at read time, after authorisation."""

    def open(self, part: SealedPart) -> Mapping[str, Any] | Erased:
        """The personal fields, typed as their event declares them; ``ERASED`` once
        the case key was destroyed. A part that does not open at its place (altered,
        moved) raises an integrity error naming the place, never the content."""
        ...
