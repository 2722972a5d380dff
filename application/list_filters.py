"""What a caseworker narrows a list by: the filters of the case list and the boxes.

A filter left out (``None``, or an empty set) lets everything through. Each word
is parsed here, with the domain's own refusal of an unknown one (``unknown-status``,
``unknown-urgency``, ``unknown-referral-kind``, ``unknown-service``), so a filter
never silently matches nothing. The views apply them in their SQL
(``ViewReader.cases_of`` and ``box``); ``overdue`` there is the lifecycle's own
deadline owed (``Lifecycle.due``), passed at the moment of the read.

``high_risk`` is the case's flag: an erased case has none (null), so it matches
neither ``true`` nor ``false``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import TypedDict, TypeVar

from domain import errors
from domain.entries import CaseStatus
from domain.network import NetworkDirectory
from domain.referral import ReferralStatus
from domain.vocabulary import ReferralKind, Urgency, parse

W = TypeVar("W", bound=StrEnum)


class UnknownStatus(errors.InvalidValue):
    code = "unknown-status"
    title = "Unknown referral status"


class UnknownCaseStatus(errors.InvalidValue):
    code = "unknown-case-status"
    title = "Unknown case status"


@dataclass(frozen=True, slots=True)
class ReferralTerms:
    """What a referral must be to count: its urgency, kind, and the other service
    of it (the counterpart of the service that lists)."""

    urgencies: frozenset[Urgency] = frozenset()
    kinds: frozenset[ReferralKind] = frozenset()
    counterparts: frozenset[str] = frozenset()
    overdue: bool | None = None

    @property
    def narrows(self) -> bool:
        """Whether it asks anything of a referral's urgency, kind or counterpart."""
        return bool(self.urgencies or self.kinds or self.counterparts)


@dataclass(frozen=True, slots=True)
class CaseFilter:
    """Cases of a status, of a flag; and with a referral of the listing service's
    (sent or received) that matches ``referrals`` (``overdue=False``: none of its
    referrals that match is overdue)."""

    statuses: frozenset[CaseStatus] = frozenset()
    high_risk: bool | None = None
    referrals: ReferralTerms = ReferralTerms()

    def fingerprint(self) -> str:
        return _fingerprint(("case", self.statuses, self.high_risk, self.referrals))


@dataclass(frozen=True, slots=True)
class ReferralFilter:
    """Referrals of a status, of a case flagged (or not) high risk, and ``terms``."""

    statuses: frozenset[ReferralStatus] = frozenset()
    high_risk: bool | None = None
    terms: ReferralTerms = ReferralTerms()

    def fingerprint(self) -> str:
        return _fingerprint(("referral", self.statuses, self.high_risk, self.terms))


class ListWords(TypedDict, total=False):
    """What both lists narrow by beside the status, as a client writes it (left out
    or ``None``: not narrowed)."""

    high_risk: bool | None
    overdue: bool | None
    urgency: list[str] | None
    kind: list[str] | None
    counterpart: list[str] | None


def referral_terms(directory: NetworkDirectory, words: ListWords) -> ReferralTerms:
    """The terms a client asked for, each word checked."""
    return ReferralTerms(
        urgencies=_words(Urgency, words.get("urgency"), errors.UnknownUrgency),
        kinds=_words(ReferralKind, words.get("kind"), errors.UnknownReferralKind),
        counterparts=frozenset(directory.service(s).id for s in words.get("counterpart") or ()),
        overdue=words.get("overdue"),
    )


def _narrowing(directory: NetworkDirectory, words: ListWords) -> tuple[bool | None, ReferralTerms]:
    """What both filters share: the high-risk flag and the referral terms."""
    return words.get("high_risk"), referral_terms(directory, words)


def case_filter(
    directory: NetworkDirectory, statuses: Iterable[str] | None, words: ListWords
) -> CaseFilter:
    statuses_ = _words(CaseStatus, statuses, UnknownCaseStatus)
    return CaseFilter(statuses_, *_narrowing(directory, words))


def referral_filter(
    directory: NetworkDirectory, statuses: Iterable[str] | None, words: ListWords
) -> ReferralFilter:
    statuses_ = _words(ReferralStatus, statuses, UnknownStatus)
    return ReferralFilter(statuses_, *_narrowing(directory, words))


def _words(
    enum: type[W], given: Iterable[str] | None, error: type[errors.InvalidValue]
) -> frozenset[W]:
    return frozenset(parse(enum, word, error) for word in given or ())


def _fingerprint(parts: tuple[object, ...]) -> str:
    """The same text for the same filter, however its words were ordered."""

    def said(part: object) -> str:
        if isinstance(part, frozenset):
            return ",".join(sorted(str(p) for p in part))
        if isinstance(part, ReferralTerms):
            return said((part.urgencies, part.kinds, part.counterparts, part.overdue))
        if isinstance(part, tuple):
            return "(" + ";".join(said(p) for p in part) + ")"
        return str(part)

    return said(parts)
