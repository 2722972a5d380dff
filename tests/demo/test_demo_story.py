"""`rete demo` tells a whole story of the network, on both backends.

Everything is checked from what was stored, read back through the application
as each service's coordinator would see it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from api.demo import StoryClock, load_demo
from application.rete import Rete
from application.views import CaseSummary, CaseView, ReferralSummary, ReferralView
from domain.network import Actor
from domain.reference import canonical_reference
from domain.referral import ReferralStatus
from infrastructure.clock import SystemClock

OPENED = re.compile(r"\b(CB-\d{4}-[0-9A-Z]{3}-[0-9A-Z]{3})  opened by ")


@pytest.fixture
def rete(make_rete: Callable[..., Rete]) -> Rete:
    """The application on the system clock, as ``rete demo`` runs it."""
    return make_rete(SystemClock())


def coordinator(rete: Rete, service: str) -> Actor:
    return rete.ctx.identify(f"test.coordinator.{service}", service, ["coordinator"])


def working_services(rete: Rete) -> list[str]:
    return [s.id for s in rete.ctx.directory if s.works_cases]


def all_referrals(rete: Rete) -> dict[str, ReferralSummary]:
    """Every referral, from each service's outbox (summaries: no reason, no justification)."""
    found: dict[str, ReferralSummary] = {}
    for service in working_services(rete):
        for view in rete.referrals.list(coordinator(rete, service), "outbox", limit=200).items:
            found[view.id] = view
    return found


def all_cases(rete: Rete) -> dict[str, CaseSummary]:
    found: dict[str, CaseSummary] = {}
    for service in working_services(rete):
        for summary in rete.cases.list(coordinator(rete, service), limit=200).items:
            found[summary.reference_code] = summary
    return found


def opened(rete: Rete, referral: ReferralSummary) -> ReferralView:
    """The referral as its sender opens it, reason and justification included."""
    return rete.referrals.get(coordinator(rete, referral.sender_service), referral.id)


def owner_view(rete: Rete, case: CaseSummary) -> CaseView:
    return rete.cases.get(coordinator(rete, case.owner_service), case.reference_code)


def test_the_story_has_cases_and_referrals_in_every_state(rete: Rete) -> None:
    load_demo(rete)

    referrals = all_referrals(rete).values()
    assert len(all_cases(rete)) >= 5
    assert len(referrals) >= 12
    assert {r.status for r in referrals} == set(ReferralStatus)


def test_every_service_that_works_cases_takes_part(rete: Rete) -> None:
    load_demo(rete)

    taking_part = {
        service
        for r in all_referrals(rete).values()
        for service in (r.sender_service, r.recipient_service)
    }
    assert set(working_services(rete)) <= taking_part


def test_a_school_makes_a_mandatory_report(rete: Rete) -> None:
    load_demo(rete)

    schools = {s.id for s in rete.ctx.directory if s.kind == "school"}
    reports = [
        r
        for r in all_referrals(rete).values()
        if r.sender_service in schools and r.legal_basis == "legal_obligation"
    ]
    assert reports
    for report in reports:
        assert report.statute == "art. 331 c.p.p."
        assert opened(rete, report).justification
        assert report.flagged_for_review
        assert report.recipient_service in {"pl-cesano", "ss-cesano"}
        case = rete.cases.get(coordinator(rete, report.sender_service), report.case_reference)
        assert case.owner_service == report.sender_service
        assert "children" in {e.category for e in case.entries}


def test_a_withdrawn_consent_suspends_the_referral_relying_on_it(rete: Rete) -> None:
    load_demo(rete)

    suspended = [r for r in all_referrals(rete).values() if r.status == "suspended"]
    assert suspended
    for referral in suspended:
        case = rete.cases.get(coordinator(rete, referral.sender_service), referral.case_reference)
        consent = next(c for c in case.consents if c.id == referral.consent_id)
        assert consent.withdrawn_at is not None
        assert not consent.active


def test_a_case_is_assessed_at_high_risk(rete: Rete) -> None:
    load_demo(rete)

    high = [c for c in all_cases(rete).values() if c.high_risk]
    assert high
    assessments = [a for c in high for a in owner_view(rete, c).risk_assessments]
    assert any(
        a.instrument_id == "rete-screening-v1"
        and a.level == "high"
        and ((a.score or 0) >= 8 or bool(a.justification))
        for a in assessments
    )


def test_the_expired_referral_was_an_emergency_left_unanswered(rete: Rete) -> None:
    load_demo(rete)

    expired = [r for r in all_referrals(rete).values() if r.status == "expired"]
    assert expired
    for referral in expired:
        assert referral.urgency == "emergency"
        assert referral.ended_at is not None
        assert referral.ended_at > referral.acknowledge_by


def test_the_story_happened_over_past_weeks_not_in_the_future(rete: Rete) -> None:
    before = datetime.now(UTC)
    load_demo(rete)

    sent = [r.sent_at for r in all_referrals(rete).values()]
    assert min(sent) < before - timedelta(days=14)
    assert max(sent) <= datetime.now(UTC)


def test_the_lines_carry_no_personal_text(rete: Rete) -> None:
    lines = "\n".join(load_demo(rete))

    personal: set[str] = set()
    for case in all_cases(rete).values():
        view = owner_view(rete, case)
        personal |= {e.text for e in view.entries if e.text}
        personal |= {a.justification for a in view.risk_assessments if a.justification}
    for summary in all_referrals(rete).values():
        referral = opened(rete, summary)
        personal |= {t for t in (referral.reason, referral.justification) if t}
    assert personal
    assert not [text for text in personal if text in lines]
    assert "Utente" not in lines and "Alunn" not in lines


def test_running_it_twice_opens_new_cases_with_new_codes(rete: Rete) -> None:
    first = OPENED.findall("\n".join(load_demo(rete)))
    second = OPENED.findall("\n".join(load_demo(rete)))

    assert first and len(second) == len(first)
    # Codes are drawn at random (tests/application/test_reference_codes.py): the
    # second run's are new ones, each a valid code.
    assert not set(first) & set(second)
    assert all(canonical_reference(code) == code for code in first + second)
    assert len(all_cases(rete)) == 2 * len(first)


def test_the_story_clock_only_moves_forward_and_never_past_now() -> None:
    class Fixed:
        def now(self) -> datetime:
            return datetime(2026, 3, 8, 12, 0, tzinfo=UTC)

    clock = StoryClock(Fixed(), days=2)
    assert clock.now() == datetime(2026, 3, 6, tzinfo=UTC)
    clock.move_to(timedelta(days=1, hours=9))
    assert clock.now() == datetime(2026, 3, 7, 9, tzinfo=UTC)
    with pytest.raises(ValueError):
        clock.move_to(timedelta(hours=1))
    with pytest.raises(ValueError):
        clock.move_to(timedelta(days=2, hours=13))
