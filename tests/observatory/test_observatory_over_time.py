"""Issue 10, finding 3: the observatory cannot be differenced over time.

Asked twice, with one school's one case and one emergency child-protection
referral to the police in between, the answers used to move by one (8 -> 9) in
their totals: the report was there to read by subtraction. Now the answers come
from publications of months that have ended, made once: in between the same
month, nothing moves; once the month is published, what moved is a whole
publication, protected on its own.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from observatory_support import (
    case_facts,
    differences_from_one_to_four,
    fact_sets,
    referral_facts,
    shown,
)
from support.http import Api

from api.demo import load_demo
from application.observatory.answers import answer
from application.observatory.facts import CaseFact, ReferralFact
from application.observatory.monthly import by_month, month_tables
from domain.network import Actor
from domain.publication import Month
from domain.vocabulary import Role

STATS = "/api/v1/observatory/stats"


def answers(api: Api) -> dict[str, object]:
    """Everything an analyst can ask: every year, and each year by month."""
    return {
        "all": api.get("oli", STATS).json(),
        "2026": api.get("oli", STATS, params={"year": 2026}).json(),
    }


def school_reports_to_the_police(api: Api) -> None:
    """One case opened by a school, one emergency child-protection referral to the police."""
    rete, directory = api.rete, api.rete.ctx.directory
    school = Actor("preside", directory.service("ic-alessandrini"), frozenset({Role.COORDINATOR}))
    case = rete.cases.open(school)
    rete.cases.add_note(school, case.reference_code, "children", "what the pupil said")
    rete.referrals.refer(
        school,
        case.reference_code,
        recipient_service="pl-cesano",
        kind="child_protection",
        urgency="emergency",
        reason="mandatory report",
        scope=["children"],
        legal_basis="legal_obligation",
        statute="art. 331 c.p.p.",
        justification="a possible offence learnt at school",
    )


def test_one_report_between_two_answers_cannot_be_read_by_subtraction(
    any_backend_api: Api,
) -> None:
    api = any_backend_api
    load_demo(api.rete)
    before = answers(api)
    school_reports_to_the_police(api)
    after = answers(api)
    for view in before:
        assert differences_from_one_to_four(before[view], after[view]) == [], view

    # Once March has ended it is published, with the report in it: the answers
    # move by a whole publication whose small counts are hidden.
    api.rete.ctx.clock.at = datetime(2026, 4, 1, 6, 0, tzinfo=UTC)  # type: ignore[attr-defined]
    published = answers(api)
    for view in before:
        assert differences_from_one_to_four(after[view], published[view]) == [], view
    month = shown(published["2026"])
    assert ("cases_by_owner_kind", "school", "2026-03") not in month
    assert ("referrals_by_urgency", "emergency", "2026-03") not in month
    assert ("referrals_by_kind", "total", "2026-03") not in month


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    fact_sets(most=8),
    st.lists(case_facts(), max_size=12),
    st.lists(referral_facts(years=(2026,)), max_size=8),
    st.lists(case_facts(years=(2026,)), max_size=4),
    st.one_of(referral_facts(), case_facts()),
)
@pytest.mark.long
def test_two_successive_publications_expose_no_count_from_one_to_four(
    referrals: list[ReferralFact],
    cases: list[CaseFact],
    later_referrals: list[ReferralFact],
    later_cases: list[CaseFact],
    added: ReferralFact | CaseFact,
) -> None:
    """Every month published on time; then one more case or referral (of the next
    month, or late: of a month already published) is recorded, and the next month
    is published with it. Every answer before and after, every matching cell and
    total, across the tables: no difference from 1 to 4."""
    before = by_month(referrals, cases)
    month = before[-1][0].next() if before else Month(2026, 1)
    if isinstance(added, ReferralFact):
        later_referrals = [*later_referrals, added]
    else:
        later_cases = [*later_cases, added]
    after = [*before, (month, month_tables(month, later_referrals, later_cases))]
    years = {m.year for m, _ in after}
    for year in [None, *sorted(years)]:
        assert differences_from_one_to_four(answer(before, year), answer(after, year)) == [], year
