"""The in-memory views (``support.memory``, which the fast application tests read
through) answer every question of the port as the views do, over the same store."""

from __future__ import annotations

import pytest
from support.clock import TestClock
from support.memory.views import MemoryViews
from views_support import leave_a_referral_unanswered, working_services

from api.demo import load_demo
from application.list_filters import CaseFilter, ReferralFilter, ReferralTerms
from application.rete import Rete
from application.view_ports import Box, PageAsk
from domain.case import Case
from domain.entries import CaseStatus
from domain.referral import ReferralStatus
from domain.vocabulary import ReferralKind, Urgency
from infrastructure.store import ReteEventStore
from infrastructure.views import Views

EVERYTHING = PageAsk(None, 1000)  # the first page, of every row
# Filters of every kind (``application.list_filters``), alone and together.
TERMS = [
    ReferralTerms(overdue=True),
    ReferralTerms(overdue=False),
    ReferralTerms(urgencies=frozenset({Urgency.EMERGENCY, Urgency.URGENT})),
    ReferralTerms(kinds=frozenset({ReferralKind.SHELTER}), overdue=False),
    ReferralTerms(counterparts=frozenset({"cav-scirocco", "pl-cesano"})),
]
FILTERS = [
    *(ReferralFilter(terms=t) for t in TERMS),
    ReferralFilter(high_risk=True),
    ReferralFilter(high_risk=False),
    ReferralFilter(frozenset({ReferralStatus.SENT, ReferralStatus.ACCEPTED}), True, TERMS[0]),
]
CASE_FILTERS = [
    *(CaseFilter(referrals=t) for t in TERMS),
    CaseFilter(frozenset({CaseStatus.CLOSED, CaseStatus.ERASED})),
    CaseFilter(high_risk=True),
    CaseFilter(frozenset({CaseStatus.OPEN}), False, TERMS[1]),
]


@pytest.mark.long
def test_the_in_memory_views_answer_as_the_views_do(
    rete: Rete, views: Views, store: ReteEventStore, clock: TestClock
) -> None:
    load_demo(rete)
    leave_a_referral_unanswered(rete, clock)
    memory, queries, at = MemoryViews(store), views.queries, clock.now()
    for case_id in store.ids_of(Case):
        assert memory.case(case_id) == queries.case(case_id)
    assert memory.standings(store.ids_of(Case)) == queries.standings(store.ids_of(Case))
    matched: set[object] = set()  # the filters that let something through somewhere
    for service in working_services(rete):
        every = CaseFilter()
        assert memory.cases_of(service, at, every, EVERYTHING).items == (
            queries.cases_of(service, at, every, EVERYTHING).items
        )
        for box in Box:
            assert memory.box(box, service, at, ReferralFilter(), EVERYTHING) == queries.box(
                box, service, at, ReferralFilter(), EVERYTHING
            ), box
        for where in FILTERS:
            inbox = queries.box(Box.INBOX, service, at, where, EVERYTHING)
            assert memory.box(Box.INBOX, service, at, where, EVERYTHING) == inbox, where
            matched.update([where] if inbox.items else [])
        for wanted in CASE_FILTERS:
            listed = queries.cases_of(service, at, wanted, EVERYTHING).items
            assert memory.cases_of(service, at, wanted, EVERYTHING).items == listed, wanted
            matched.update([wanted] if listed else [])
        assert memory.worklist(service) == queries.worklist(service)
    assert len(matched) >= (len(FILTERS) + len(CASE_FILTERS)) // 2
    assert memory.overdue(at) == queries.overdue(at)
    assert memory.observatory_facts() == queries.observatory_facts()
