"""Risk assessment with an instrument defined as data.

The instrument's items carry weights; its thresholds map a total score to a
level. Professional judgement may raise the computed level, never lower it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from domain import errors
from domain.erased import Erased
from domain.text import readable


class RiskLevel(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {RiskLevel.LOW: 0, RiskLevel.MEDIUM: 1, RiskLevel.HIGH: 2}


@dataclass(frozen=True, slots=True)
class RiskItem:
    id: str
    text: str
    weight: int


@dataclass(frozen=True, slots=True)
class RiskInstrument:
    """A questionnaire: yes/no items with weights, and the score at which each level starts."""

    id: str
    name: str
    items: tuple[RiskItem, ...]
    medium_from: int
    high_from: int

    def score(self, answers: Mapping[str, bool]) -> int:
        item_ids = {item.id for item in self.items}
        unknown = set(answers) - item_ids
        missing = item_ids - set(answers)
        if unknown or missing:
            raise errors.InvalidAnswers(
                f"instrument {self.id!r} needs exactly its items answered; "
                f"unknown: {sorted(unknown)}, missing: {sorted(missing)}"
            )
        return sum(item.weight for item in self.items if answers[item.id])

    def level(self, score: int) -> RiskLevel:
        if score >= self.high_from:
            return RiskLevel.HIGH
        if score >= self.medium_from:
            return RiskLevel.MEDIUM
        return RiskLevel.LOW


@dataclass(frozen=True, slots=True)
class RiskAssessment:
    id: str
    instrument_id: str
    answers: Mapping[str, bool] | Erased
    score: int | Erased
    computed_level: RiskLevel | Erased
    level: RiskLevel | Erased
    justification: str | Erased | None
    assessed_at: datetime
    assessed_by: str
    service_id: str


def judged_level(
    computed: RiskLevel, judgement: RiskLevel | None, justification: str | None
) -> RiskLevel:
    """The level that stands: the computed one, or a justified higher judgement."""
    if judgement is None:
        return computed
    if judgement.rank < computed.rank:
        raise errors.RiskLevelLowered(
            f"the instrument computed {computed}; judgement cannot lower it to {judgement}"
        )
    if judgement.rank > computed.rank and readable(justification) is None:
        raise errors.JustificationRequired("raising the computed level needs a justification")
    return judgement
