"""The read port answers what the application answers from the aggregates today:
the same cases for each service, newest first; the same inbox and outbox, in
DOMAIN.md's order; the same coordinators' worklists; pages that add up."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import pytest
from views_support import MovableClock, actor, leave_a_referral_unanswered, working_services

from api.demo import load_demo
from application.escalation import Escalations
from application.rete import Rete
from application.view_ports import Slice
from domain.referral import ReferralStatus
from infrastructure.views import Views

T = TypeVar("T")


def every_page(read: Callable[[int, int], Slice[T]], size: int) -> list[T]:
    found: list[T] = []
    while True:
        page = read(len(found), size)
        found.extend(page.items)
        assert len(page.items) == size or not page.more
        if not page.more:
            return found


@pytest.fixture
def story(rete: Rete, views: Views, clock: MovableClock) -> None:
    load_demo(rete)
    leave_a_referral_unanswered(rete, clock)
    leave_a_referral_unanswered(rete, clock)
    clock.advance(hours=1)


@pytest.mark.usefixtures("story")
def test_each_service_lists_the_cases_the_application_lists(rete: Rete, views: Views) -> None:
    for service in working_services(rete):
        expected = rete.cases.list(actor(rete, service, "coordinator"), limit=200).items
        listed = every_page(lambda at, size, s=service: views.queries.cases_of(s, at, size), 3)
        assert [c.reference_code for c in listed] == [c.reference_code for c in expected]


@pytest.mark.usefixtures("story")
@pytest.mark.parametrize("box", ["inbox", "outbox"])
def test_boxes_come_in_the_applications_order(
    rete: Rete, views: Views, clock: MovableClock, box: str
) -> None:
    read = views.queries.inbox if box == "inbox" else views.queries.outbox
    for service in working_services(rete):
        coordinator = actor(rete, service, "coordinator")
        expected = rete.referrals.list(coordinator, box, limit=200).items
        listed = every_page(
            lambda at, size, s=service: read(s, clock.now(), frozenset(), at, size), 4
        )
        assert [str(r.id) for r in listed] == [r.id for r in expected], service
        wanted = [ReferralStatus.SENT, ReferralStatus.ACKNOWLEDGED]
        expected = rete.referrals.list(coordinator, box, [*wanted], limit=200).items
        listed = read(service, clock.now(), frozenset(wanted), 0, 200).items
        assert [str(r.id) for r in listed] == [r.id for r in expected], service


@pytest.mark.usefixtures("story")
def test_coordinators_see_the_applications_worklist(rete: Rete, views: Views) -> None:
    listed_somewhere = False
    for service in working_services(rete):
        expected = Escalations(rete.ctx).worklist(actor(rete, service, "coordinator"))
        listed = views.queries.worklist(service)
        assert [str(r.id) for r in listed] == [r.id for r in expected], service
        listed_somewhere = listed_somewhere or bool(listed)
    assert listed_somewhere


def test_a_client_reads_its_own_write_at_once(rete: Rete, views: Views) -> None:
    cav = actor(rete, "cav-scirocco")
    opened = rete.cases.open(cav)
    assert views.queries.cases_of("cav-scirocco", 0, 1).items[0].reference_code == (
        opened.reference_code
    )
    note = rete.cases.add_note(cav, opened.reference_code, "identity", "her alias")
    rows = views.queries.case(rete.ctx.case_id(opened.reference_code))
    assert rows is not None and [e.id for e in rows.entries] == [note.id]
    assert views.parts.open(rows.entries[0].sealed) == {"text": "her alias"}


def test_an_unknown_case_or_referral_reads_as_none(rete: Rete, views: Views) -> None:
    assert views.queries.case(rete.ctx.case_id("CB-1999-0001")) is None
    assert views.queries.referral(rete.ctx.case_id("CB-1999-0001")) is None
    assert views.queries.cases_of("cav-scirocco", 0, 10) == Slice([], False)
