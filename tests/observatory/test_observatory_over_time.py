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

from observatory_http import Api
from observatory_support import differences_from_one_to_four, shown

from api.demo import load_demo
from domain.network import Actor
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
