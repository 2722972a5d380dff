"""The in-memory views (``support.memory``, which the fast application tests read
through) answer every question of the port as the views do, over the same store."""

from __future__ import annotations

from support.clock import TestClock
from support.memory.views import MemoryViews
from views_support import leave_a_referral_unanswered, working_services

from api.demo import load_demo
from application.list_filters import CaseFilter, ReferralFilter
from application.rete import Rete
from application.view_ports import Box
from domain.case import Case
from infrastructure.store import ReteEventStore
from infrastructure.views import Views

EVERYTHING = 1000


def test_the_in_memory_views_answer_as_the_views_do(
    rete: Rete, views: Views, store: ReteEventStore, clock: TestClock
) -> None:
    load_demo(rete)
    leave_a_referral_unanswered(rete, clock)
    memory, queries, at = MemoryViews(store), views.queries, clock.now()
    for case_id in store.ids_of(Case):
        assert memory.case(case_id) == queries.case(case_id)
    assert memory.standings(store.ids_of(Case)) == queries.standings(store.ids_of(Case))
    for service in working_services(rete):
        every = CaseFilter()
        assert memory.cases_of(service, at, every, None, EVERYTHING).items == (
            queries.cases_of(service, at, every, None, EVERYTHING).items
        )
        for box in Box:
            assert memory.box(box, service, at, ReferralFilter(), None, EVERYTHING) == queries.box(
                box, service, at, ReferralFilter(), None, EVERYTHING
            ), box
        assert memory.worklist(service) == queries.worklist(service)
    assert memory.overdue(at) == queries.overdue(at)
    assert memory.observatory_facts() == queries.observatory_facts()
