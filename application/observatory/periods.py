"""The periods every table is crossed with.

Count tables have one column per month, grouped by year, plus a column per year
and one for all years; the time tables have one column per year plus all years.
Every table is protected once, over all its periods; a request for one year only
shows a slice of it. So the answer for a year and the answer for all years are
cut from the same protected table and can never be set against each other.

Months are calendar months in UTC.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

TOTAL = "total"
MONTHS = range(1, 13)


def month_label(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}"


def year_label(year: int) -> str:
    return f"{year:04d}"


@dataclass(frozen=True, slots=True)
class Periods:
    """Columns: ``leaves`` (months or years), their ``groups`` (years, for months)."""

    leaves: tuple[str, ...]
    groups: tuple[str, ...] = ()
    group_of: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def monthly(cls, years: Iterable[int]) -> Periods:
        ordered = sorted(set(years))
        leaves = tuple(month_label(y, m) for y in ordered for m in MONTHS)
        return cls(
            leaves=leaves,
            groups=tuple(year_label(y) for y in ordered),
            group_of={leaf: leaf[:4] for leaf in leaves},
        )

    @classmethod
    def yearly(cls, years: Iterable[int]) -> Periods:
        return cls(leaves=tuple(year_label(y) for y in sorted(set(years))))

    @property
    def columns(self) -> tuple[str, ...]:
        return (*self.leaves, *self.groups, TOTAL)

    def leaves_of(self, group: str) -> tuple[str, ...]:
        return tuple(leaf for leaf in self.leaves if self.group_of.get(leaf) == group)
