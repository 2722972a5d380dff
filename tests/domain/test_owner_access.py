"""The owner's access is decided by ownership alone (DOMAIN.md, "Visibility").

Commands load a case's referrals only when the rule reads them
(``application.loading.CaseReferrals``), and the case list reads no standing for
the cases a service owns: both rely on the owner's access reading neither the
case's consents nor its referrals, and on it being the same whoever computes it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from domain.referral import Referral
from domain.visibility import access_of, owner_access


class Unread:
    """Referrals that must not be read: iterating them fails the test."""

    def __iter__(self) -> Iterator[Referral]:
        pytest.fail("the owner's access read the case's referrals")


def test_the_owner_access_is_the_rule_s_answer_for_the_owner(desk) -> None:
    case = desk.open_case("cav-scirocco")
    consent = desk.consent(case)
    desk.refer(case, consent_id=consent.id)
    owner = desk.service("cav-scirocco")
    referrals = [r for r in desk.referrals if r.case_id == case.id]
    assert owner_access(owner, case.owner_service) == access_of(owner, case, referrals)


def test_the_owner_access_reads_no_referral(desk) -> None:
    case = desk.open_case("cav-scirocco")
    seen = access_of(desk.service("cav-scirocco"), case, Unread())
    assert seen.owner and seen.sees_case


def test_another_service_has_no_owner_access_and_its_referrals_decide(desk) -> None:
    case = desk.open_case("cav-scirocco")
    consent = desk.consent(case)
    desk.refer(case, "ss-cesano", consent_id=consent.id, scope=("identity",))
    social = desk.service("ss-cesano")
    assert owner_access(social, case.owner_service) is None
    seen = access_of(social, case, [r for r in desk.referrals if r.case_id == case.id])
    assert not seen.owner and seen.participant
    assert seen.categories == {"identity"}
