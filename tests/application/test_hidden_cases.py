"""A case another service may not see answers exactly as a case that does not exist,
by the same path: whether it may be seen is decided from the views, before any
aggregate is loaded, so neither the answer nor the time it takes tells them apart.

Runs on SQLite and on PostgreSQL, over the project's own event store (a subclass
that counts what it loads).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, TypeVar
from uuid import UUID

import pytest
from eventsourcing.domain import Aggregate
from support.clock import TestClock
from support.stories import refer

from application.errors import NotFound
from application.rete import Rete
from domain.reference import new_reference
from domain.referral import Move
from infrastructure.bootstrap import build_keys, build_rete
from infrastructure.settings import Settings
from infrastructure.store import ReteEventStore

A = TypeVar("A", bound=Aggregate)


class CountingStore(ReteEventStore):
    """The event store, counting the aggregates it loads."""

    name = "Rete"  # the library names an application's settings and tables after it
    loads = 0

    def get(self, kind: type[A], aggregate_id: UUID, version: int | None = None) -> A:
        self.loads += 1
        return super().get(kind, aggregate_id, version)


@pytest.fixture
def watched(settings: Settings, clock: TestClock) -> Iterator[tuple[Rete, CountingStore]]:
    """Another worker on the test's database, over a counting store."""
    store = CountingStore(
        settings.eventsourcing_env(), build_keys(settings), settings.snapshot_interval
    )
    rete = build_rete(settings, clock=clock, store=store)
    yield rete, store
    rete.close()
    store.close()


# Every command on a case, as the police (who take no part in it) would try it.
COMMANDS: dict[str, Callable[[Rete, Any, str], object]] = {
    "note": lambda r, p, ref: r.cases.add_note(p.paolo, ref, "violence", "x"),
    "consent": lambda r, p, ref: r.cases.record_consent(
        p.paolo,
        ref,
        recipient_kinds=["police"],
        recipient_services=[],
        purposes=["protection_measures"],
        categories_=["violence"],
        expires_at=None,
    ),
    "withdrawal": lambda r, p, ref: r.cases.withdraw_consent(p.paolo, ref, "c"),
    "risk": lambda r, p, ref: r.cases.assess_risk(
        p.paolo, ref, "rete-screening-v1", {}, None, None
    ),
    "hold": lambda r, p, ref: r.cases.place_legal_hold(p.paolo, ref, "a court asked"),
    "lift": lambda r, p, ref: r.cases.lift_legal_hold(p.paolo, ref),
    "close": lambda r, p, ref: r.cases.close(p.paolo, ref),
    "erase": lambda r, p, ref: r.cases.erase(p.paolo, ref, "her request"),
    "refer": lambda r, p, ref: refer(r, p.paolo, ref, reason="r", scope=["violence"]),
}


def _refusal(command: Callable[[], object]) -> tuple[str, str, str]:
    with pytest.raises(NotFound) as refused:
        command()
    return (type(refused.value).__name__, refused.value.code, str(refused.value))


def _answered_as_missing(
    store: CountingStore, on_hidden: Callable[[], object], on_missing: Callable[[], object]
) -> None:
    """The hidden case (or referral) is refused exactly as a missing one is, and
    nothing was loaded to decide it."""
    store.loads = 0
    assert _refusal(on_hidden) == _refusal(on_missing)
    assert store.loads == 0


@pytest.fixture
def missing() -> str:
    """A well-formed case reference that no case has."""
    return new_reference("CB", 2026)


@pytest.fixture
def hidden(watched: tuple[Rete, CountingStore], people, consented_case, send) -> str:
    """A CAV case referred to social services: the police take no part in it."""
    code, _ = consented_case
    send(watched[0], people.anna, code)
    return code


@pytest.mark.parametrize("name", list(COMMANDS))
def test_a_command_on_a_hidden_case_loads_nothing_and_answers_as_for_a_missing_one(
    watched: tuple[Rete, CountingStore], people, hidden: str, missing: str, name: str
) -> None:
    rete, store = watched
    command = COMMANDS[name]

    _answered_as_missing(
        store, lambda: command(rete, people, hidden), lambda: command(rete, people, missing)
    )


@pytest.mark.parametrize("name", list(COMMANDS))
def test_a_case_this_worker_opened_is_hidden_from_another_service_as_a_missing_one(
    watched: tuple[Rete, CountingStore], people, missing: str, name: str
) -> None:
    """The worker that opened a case knows its owner, and answers the owner without
    asking the views (``application.owners``); anyone else still gets the missing
    case's answer, by its path."""
    rete, store = watched
    opened = rete.cases.open(people.anna).reference_code
    rete.cases.add_note(people.anna, opened, "violence", "what she told us")  # the owner's
    command = COMMANDS[name]

    _answered_as_missing(
        store, lambda: command(rete, people, opened), lambda: command(rete, people, missing)
    )


def test_a_move_on_a_hidden_referral_loads_nothing_and_answers_as_for_a_missing_one(
    watched: tuple[Rete, CountingStore], people, consented_case, send
) -> None:
    rete, store = watched
    ref, _ = consented_case
    referral = send(rete, people.anna, ref)
    _answered_as_missing(
        store,
        lambda: rete.referrals.move(people.paolo, referral.id, Move.ACCEPT),
        lambda: rete.referrals.move(people.paolo, str(UUID(int=7)), Move.ACCEPT),
    )


# Every read of a case, as the police (who take no part in it) would try it.
READS: dict[str, Callable[[Rete, Any, str], object]] = {
    "case page": lambda r, p, ref: r.cases.get(p.paolo, ref),
    "access log": lambda r, p, ref: r.access_log.entries(p.paolo, ref),
}


@pytest.mark.parametrize("name", list(READS))
def test_a_read_of_a_hidden_case_reads_none_of_its_rows_and_answers_as_for_a_missing_one(
    watched: tuple[Rete, CountingStore], people, hidden: str, missing: str, name: str
) -> None:
    rete, store = watched
    views = rete.ctx.views
    cases_read: list[UUID] = []
    read_case = views.case

    def counted(case_id: UUID) -> Any:
        cases_read.append(case_id)
        return read_case(case_id)

    setattr(views, "case", counted)  # noqa: B010 (the real reader, counted)
    read = READS[name]
    _answered_as_missing(
        store, lambda: read(rete, people, hidden), lambda: read(rete, people, missing)
    )
    assert cases_read == []
