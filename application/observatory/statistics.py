"""The observatory's use cases: publish the months that have ended, and answer
from the publications only (docs/OBSERVATORY.md).

Nothing is recomputed for a request: an answer is put together from what was
published, so asking twice, a minute or a month apart, can tell only what the
publications made in between tell, each protected on its own.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import msgspec

from application.authorisation import Action, authorise
from application.context import Context
from application.errors import Conflict, NotFound
from application.observatory.answers import Published, answer
from application.observatory.export import to_csv
from application.observatory.facts import kind_in
from application.observatory.monthly import MonthTables, month_tables
from application.observatory.publication import Stats
from application.observatory.recorded import Recorded
from domain import errors
from domain.network import Actor
from domain.publication import PUBLICATIONS_ID, Cutoff, Month, Publications

FIRST_YEAR, LAST_YEAR = 2000, 2999

SETTLE = timedelta(hours=1)
"""How long after a month ends it is published: what was being written as it
ended is then recorded (anything later still counts, in the next publication)."""


class UnknownYear(errors.InvalidValue):
    code = "unknown-year"
    title = "A year must be written with four digits"


class Observatory:
    """Aggregates for the osservatorio permanente: never a single case, and never
    a number that was not published once and for all."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def stats(self, actor: Actor, year: int | None = None) -> Stats:
        """Every table, for one year by month or for every year; only for analysts.
        Months that have ended and are not published yet are published first."""
        authorise(actor, Action.OBSERVATORY)
        if year is not None and not FIRST_YEAR <= year <= LAST_YEAR:
            raise UnknownYear(f"{year} is not a year between {FIRST_YEAR} and {LAST_YEAR}")
        self.publish(actor)
        return answer(self.published(), year)

    def stats_csv(self, actor: Actor, year: int | None = None) -> str:
        """The same, as CSV: one section per table."""
        return to_csv(self.stats(actor, year))

    def published(self) -> Published:
        """Every publication made, in order, as its tables were stored."""
        issues = self._publications().issues
        return [(i.month, msgspec.convert(i.tables, MonthTables)) for i in issues]

    def publish(self, actor: Actor) -> list[str]:
        """Publish every month that has ended (an hour ago) and is not published yet,
        in order; the months published. Two at once: one publishes, the other finds
        it done."""
        authorise(actor, Action.OBSERVATORY)
        now = self.ctx.clock.now()
        publications = self._publications()
        last = publications.last
        if not _due(last.next() if last else self._first_month(), now):
            return []  # (the common case: nothing to read from the log)
        recorded = Recorded(self.ctx.store, lambda s: kind_in(self.ctx.directory, s))
        month = last.next() if last is not None else recorded.first_month()
        made = []
        while month is not None and _due(month, now):
            referrals, cases = recorded.facts(_cutoff(month, recorded.up_to), publications.cutoffs)
            tables = msgspec.to_builtins(month_tables(month, referrals, cases))
            publications.publish(month, recorded.up_to, tables, actor, now)
            made.append(month.label)
            month = month.next()
        if made:
            try:
                self.ctx.store.save(publications)
            except Conflict:
                return []  # another request published them first, from the same facts
        return made

    def _first_month(self) -> Month | None:
        """The month of the log's first event: none is due before it has ended."""
        first = self.ctx.store.logged(0, 1)
        return Month.of(first[0].event.timestamp) if first else None

    def _publications(self) -> Publications:
        try:
            return self.ctx.store.get(Publications, PUBLICATIONS_ID)
        except NotFound:
            return Publications.start(self.ctx.clock.now())


def _due(month: Month | None, now: datetime) -> bool:
    return month is not None and month.end + SETTLE <= now


def _cutoff(month: Month, up_to: int) -> Cutoff:
    return Cutoff(month.end, up_to)
