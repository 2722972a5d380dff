"""The observatory's use case: the statistics an analyst may see."""

from __future__ import annotations

from application.authorisation import Action, authorise
from application.context import Context
from application.observatory.export import to_csv
from application.observatory.facts import FactSource
from application.observatory.publication import Stats, publish, release
from application.observatory.view_facts import ViewFacts
from domain import errors
from domain.network import Actor

FIRST_YEAR, LAST_YEAR = 2000, 2999


class UnknownYear(errors.InvalidValue):
    code = "unknown-year"
    title = "A year must be written with four digits"


class Observatory:
    """Aggregates for the osservatorio permanente: never a single case."""

    def __init__(self, ctx: Context, facts: FactSource | None = None) -> None:
        self.facts = facts or ViewFacts(ctx)

    def stats(self, actor: Actor, year: int | None = None) -> Stats:
        """Every table, for one year by month or for every year; only for analysts."""
        authorise(actor, Action.OBSERVATORY)
        if year is not None and not FIRST_YEAR <= year <= LAST_YEAR:
            raise UnknownYear(f"{year} is not a year between {FIRST_YEAR} and {LAST_YEAR}")
        return publish(release(self.facts.referrals(), self.facts.cases()), year)

    def stats_csv(self, actor: Actor, year: int | None = None) -> str:
        """The same, as CSV: one section per table."""
        return to_csv(self.stats(actor, year))
