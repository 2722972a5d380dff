"""The read port answers what the aggregates themselves say: the cases each service
may see, newest first; inbox and outbox in DOMAIN.md's order; the coordinators'
worklists; pages that add up. (The application reads through this port, so the
expectations here are computed from the event store's aggregates instead.)"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from typing import TypeVar

import pytest
from support.clock import TestClock
from views_support import actor, leave_a_referral_unanswered, working_services

from api.demo import load_demo
from application.list_filters import CaseFilter, ReferralFilter
from application.loading import Loader, case_id
from application.pagination import Key
from application.rete import Rete
from application.view_ports import Box, Keyed, PageAsk
from domain.case import Case
from domain.entries import CaseStatus
from domain.referral import Referral, ReferralStatus
from domain.visibility import access_of
from domain.vocabulary import Urgency
from infrastructure.views import Views

T = TypeVar("T")
URGENCY_RANK = {Urgency.EMERGENCY: 0, Urgency.URGENT: 1, Urgency.ROUTINE: 2}
EVERY_CASE = CaseFilter()
NOW = datetime.now(UTC)  # the case list's filters here ask nothing of the time


def cases_seen_by(rete: Rete, service: str) -> list[str]:
    """From the aggregates: the cases the service may see, the newest opened first."""
    store, who = rete.ctx.store, rete.ctx.directory.service(service)
    cases = [store.get(Case, i) for i in store.ids_of(Case)]
    seen = [c for c in cases if access_of(who, c, Loader(rete.ctx).referrals_of(c)).sees_case]
    return [c.reference_code for c in sorted(seen, key=lambda c: c.created_on, reverse=True)]


def box_of(
    rete: Rete, service: str, box: str, at: datetime, statuses: frozenset[ReferralStatus]
) -> list[str]:
    """From the aggregates, the boxes' order: by urgency, then in the order sent."""
    store = rete.ctx.store
    referrals = [store.get(Referral, i) for i in store.ids_of(Referral)]
    mine = [
        r
        for r in referrals
        if (r.recipient_service if box == "inbox" else r.sender_service) == service
        and (not statuses or r.status in statuses)
    ]
    mine.sort(key=lambda r: URGENCY_RANK[r.urgency])  # stable: the log's order within
    return [str(r.id) for r in mine]


def worklist_of(rete: Rete, service: str) -> list[str]:
    """From the aggregates: escalated referrals still owing an answer, either side, of
    cases not erased, the earliest deadline first."""
    store = rete.ctx.store
    referrals = [store.get(Referral, i) for i in store.ids_of(Referral)]
    listed = [
        r
        for r in referrals
        if r.escalations
        and r.due() is not None
        and service in (r.sender_service, r.recipient_service)
        and store.get(Case, r.case_id).status != CaseStatus.ERASED
    ]
    return [str(r.id) for r in sorted(listed, key=lambda r: r.due() or r.sent_at)]


def every_page(read: Callable[[Key | None, int], Keyed[T]], size: int) -> list[T]:
    found: list[T] = []
    after = None
    while True:
        page = read(after, size)
        found.extend(page.items)
        assert len(page.items) == size or page.after is None
        if page.after is None:
            return found
        after = page.after


@pytest.fixture
def story(rete: Rete, views: Views, clock: TestClock) -> None:
    load_demo(rete)
    leave_a_referral_unanswered(rete, clock)
    leave_a_referral_unanswered(rete, clock)
    clock.advance(hours=1)


@pytest.mark.usefixtures("story")
def test_each_service_lists_the_cases_it_may_see(rete: Rete, views: Views) -> None:
    for service in working_services(rete):
        listed = every_page(
            lambda at, size, s=service: views.queries.cases_of(
                s, NOW, EVERY_CASE, PageAsk(at, size)
            ),
            3,
        )
        assert [c.reference_code for c in listed] == cases_seen_by(rete, service), service
        through_the_application = rete.cases.list(actor(rete, service, "coordinator"), limit=200)
        assert [c.reference_code for c in through_the_application.items] == (
            cases_seen_by(rete, service)
        )


@pytest.mark.usefixtures("story")
@pytest.mark.parametrize("box", ["inbox", "outbox"])
def test_boxes_come_in_domain_order(rete: Rete, views: Views, clock: TestClock, box: str) -> None:
    read = partial(views.queries.box, Box(box))
    at = clock.now()
    for service in working_services(rete):
        expected = box_of(rete, service, box, at, frozenset())
        listed = every_page(
            lambda after, size, s=service: read(s, at, ReferralFilter(), PageAsk(after, size)), 4
        )
        assert [str(r.id) for r in listed] == expected, service
        coordinator = actor(rete, service, "coordinator")
        answered = rete.referrals.list(coordinator, box, limit=200).items
        assert [r.id for r in answered] == expected, service
        wanted = frozenset({ReferralStatus.SENT, ReferralStatus.ACKNOWLEDGED})
        listed = read(service, at, ReferralFilter(wanted), PageAsk(None, 200)).items
        assert [str(r.id) for r in listed] == box_of(rete, service, box, at, wanted), service


@pytest.mark.usefixtures("story")
def test_coordinators_see_their_worklist(rete: Rete, views: Views) -> None:
    listed_somewhere = False
    for service in working_services(rete):
        expected = worklist_of(rete, service)
        listed = views.queries.worklist(service)
        assert [str(r.id) for r in listed] == expected, service
        listed_somewhere = listed_somewhere or bool(listed)
    assert listed_somewhere


def test_a_client_reads_its_own_write_at_once(rete: Rete, views: Views) -> None:
    cav = actor(rete, "cav-scirocco")
    opened = rete.cases.open(cav)
    assert views.queries.cases_of("cav-scirocco", NOW, EVERY_CASE, PageAsk(None, 1)).items[
        0
    ].reference_code == (opened.reference_code)
    note = rete.cases.add_note(cav, opened.reference_code, "identity", "her alias")
    rows = views.queries.case(case_id(opened.reference_code))
    assert rows is not None and [e.id for e in rows.entries] == [note.id]
    assert views.parts.open(rows.entries[0].sealed) == {"text": "her alias"}


def test_an_unknown_case_or_referral_reads_as_none(rete: Rete, views: Views) -> None:
    assert views.queries.case(case_id("CB-1999-0001")) is None
    assert views.queries.referral(case_id("CB-1999-0001")) is None
    assert views.queries.cases_of("cav-scirocco", NOW, EVERY_CASE, PageAsk(None, 10)) == Keyed(
        [], None
    )
