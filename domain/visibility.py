"""Visibility: which categories of a case a service may read, and up to when.

DOMAIN.md: a service sees a category of a case only when (1) its kind's row
allows it, (2) it owns the case or an active referral to it has the category in
scope, and (3) that referral's legal basis still stands. What a service wrote
itself it always sees. When a referral ends, the recipient keeps what it could
see until then and sees nothing newer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from domain.consent import Consent
from domain.network import Service
from domain.vocabulary import Category

# ``None`` as a cut-off means "everything, including what is written from now on".
Cutoff = datetime | None


# What the rule reads, whoever holds it: the aggregates (commands) and the views'
# rows (reads) both answer these, so that one rule decides for both.


class CaseTerms(Protocol):
    @property
    def owner_service(self) -> str: ...

    @property
    def consents(self) -> Mapping[str, Consent]: ...


class ReferralTerms(Protocol):
    @property
    def sender_service(self) -> str: ...

    @property
    def recipient_service(self) -> str: ...

    @property
    def scope(self) -> frozenset[Category]: ...

    @property
    def consent_id(self) -> str | None: ...

    @property
    def ended_at(self) -> datetime | None: ...


class Written(Protocol):
    """Something written on a case in one category (an entry)."""

    @property
    def category(self) -> str: ...

    @property
    def service_id(self) -> str: ...

    @property
    def recorded_at(self) -> datetime: ...


@dataclass(frozen=True, slots=True)
class CaseAccess:
    """What one service may read of one case."""

    service_id: str
    owner: bool
    participant: bool
    windows: Mapping[Category, Cutoff]

    @property
    def sees_case(self) -> bool:
        return self.owner or self.participant

    @property
    def categories(self) -> frozenset[Category]:
        return frozenset(self.windows)

    @property
    def current_categories(self) -> frozenset[Category]:
        """Categories it may still read new data in (no cut-off)."""
        return frozenset(c for c, cut in self.windows.items() if cut is None)

    def categories_at(self, at: datetime) -> frozenset[Category]:
        """Categories it may still read new data in at ``at``: no cut-off, or one ahead
        (a consent that will expire next month still stands today)."""
        return frozenset(c for c, cut in self.windows.items() if cut is None or at < cut)

    def sees_category_at(self, category: Category, at: datetime) -> bool:
        if category not in self.windows:
            return False
        cutoff = self.windows[category]
        return cutoff is None or at <= cutoff

    def sees(self, entry: Written) -> bool:
        return entry.service_id == self.service_id or self.sees_category_at(
            Category(entry.category), entry.recorded_at
        )


def _later(a: Cutoff, b: Cutoff) -> Cutoff:
    if a is None or b is None:
        return None
    return max(a, b)


def referral_cutoff(referral: ReferralTerms, case: CaseTerms) -> Cutoff:
    """Until when a referral lets its recipient read: its end, or its basis' end."""
    ends = [referral.ended_at] if referral.ended_at is not None else []
    if referral.consent_id is not None and referral.consent_id in case.consents:
        consent_end = case.consents[referral.consent_id].ends_at()
        if consent_end is not None:
            ends.append(consent_end)
    return min(ends) if ends else None


def owner_access(service: Service, owner_service: str) -> CaseAccess | None:
    """What ``service`` may read of a case owned by ``owner_service`` if it is the
    owner: its kind's row, with no cut-off, whatever the case's consents and
    referrals say (so they need not be read). ``None`` when it is not the owner:
    then the referrals decide (``access_of``)."""
    if owner_service != service.id:
        return None
    return CaseAccess(service.id, True, True, dict.fromkeys(service.visible_categories, None))


def access_of(service: Service, case: CaseTerms, referrals: Iterable[ReferralTerms]) -> CaseAccess:
    """Compute what ``service`` may read of ``case``, given the referrals made on it.

    The owner's access reads neither the case's consents nor its referrals
    (``owner_access``): ``referrals`` is not iterated for the owner, so it may be a
    collection loaded on first read."""
    owned = owner_access(service, case.owner_service)
    if owned is not None:
        return owned
    row = service.visible_categories
    windows: dict[Category, Cutoff] = {}
    participant = False
    for referral in referrals:
        if referral.sender_service == service.id:
            participant = True
        if referral.recipient_service != service.id:
            continue
        participant = True
        cutoff = referral_cutoff(referral, case)
        for category in referral.scope & row:
            windows[category] = _later(windows[category], cutoff) if category in windows else cutoff
    return CaseAccess(service.id, False, participant, windows)
