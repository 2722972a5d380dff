"""Who sees what of a case (DOMAIN.md, "Visibility").

A service sees a case's data in a category only when the category is in its
kind's row; it owns the case or an active referral to it has the category in
scope; and that referral's legal basis still stands. What a service wrote
itself it always sees. When a referral ends, the recipient keeps what it could
see until then, and sees nothing new.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from domain_md import ALL, rows_of

from domain.referral import Move
from domain.visibility import access_of

# DOMAIN.md, "Visibility": what each kind of service may ever hold.
ROW = rows_of(
    "cav-scirocco", "asst-rhodense", "pl-cesano", "ss-cesano", "ic-leonardo", "afol-metropolitana"
)


def access(desk, service_id: str, case):
    referrals = [r for r in desk.referrals if r.case_id == case.id]
    return access_of(desk.service(service_id), case, referrals)


def reads(desk, service_id: str, case) -> set[str]:
    """The texts of the entries ``service_id`` may read on ``case``."""
    seen = access(desk, service_id, case)
    return {e.text for e in case.entries if seen.sees(e)}


def cav_case_with_a_note_in_every_category(desk):
    case = desk.open_case("cav-scirocco")
    for category in sorted(ALL):
        desk.note(case, category, f"before: {category}")
    return case


def move(desk, referral, what: str, service_id: str, reason: str | None = None) -> None:
    actor = desk.coordinator(service_id)
    referral.move(Move(what), actor, desk.tick(), reason)


# -- the owner -----------------------------------------------------------------


@pytest.mark.parametrize("owner", list(ROW))
def test_owner_sees_its_kinds_row_of_its_own_case(desk, owner: str) -> None:
    case = desk.open_case(owner)
    for category in sorted(ROW[owner]):
        desk.note(case, category, category)
    seen = access(desk, owner, case)
    assert seen.owner and seen.sees_case
    assert seen.categories == ROW[owner] == seen.current_categories
    assert reads(desk, owner, case) == ROW[owner]


def test_owner_does_not_see_a_category_outside_its_row_written_by_a_recipient(desk) -> None:
    case = desk.open_case("asst-rhodense")
    desk.consent(
        case, kinds=("police",), purposes=("protection_measures",), categories=("violence",)
    )
    desk.refer(case, "pl-cesano", kind="protection_measures", scope=("violence",))
    desk.note(case, "legal", "complaint filed on 3 March", by=desk.caseworker("pl-cesano"))
    assert reads(desk, "asst-rhodense", case) == set()
    assert reads(desk, "pl-cesano", case) == {"complaint filed on 3 March"}


# -- a recipient ----------------------------------------------------------------


def test_recipient_sees_the_referrals_scope_while_it_is_active(desk) -> None:
    case = cav_case_with_a_note_in_every_category(desk)
    desk.consent(case)
    referral = desk.refer(case, "ss-cesano", scope=("identity", "violence"))
    seen = access(desk, "ss-cesano", case)
    assert seen.sees_case and not seen.owner
    assert seen.categories == {"identity", "violence"} == seen.current_categories
    assert reads(desk, "ss-cesano", case) == {"before: identity", "before: violence"}

    move(desk, referral, "acknowledge", "ss-cesano")
    desk.note(case, "violence", "while acknowledged")
    move(desk, referral, "accept", "ss-cesano")
    desk.note(case, "identity", "while accepted")
    desk.note(case, "legal", "outside the scope")
    assert reads(desk, "ss-cesano", case) == {
        "before: identity",
        "before: violence",
        "while acknowledged",
        "while accepted",
    }


def _end_by_declining(desk, referral):
    move(desk, referral, "decline", "ss-cesano", "no places left this month")


def _end_by_withdrawing(desk, referral):
    move(desk, referral, "withdraw", "cav-scirocco")


def _end_by_expiring(desk, referral):
    desk.tick(days=11)
    move(desk, referral, "expire", "ss-cesano")


def _end_by_completing(desk, referral):
    move(desk, referral, "acknowledge", "ss-cesano")
    move(desk, referral, "accept", "ss-cesano")
    move(desk, referral, "complete", "ss-cesano")


ENDINGS = {
    "declined": _end_by_declining,
    "withdrawn": _end_by_withdrawing,
    "expired": _end_by_expiring,
    "completed": _end_by_completing,
}


@pytest.mark.parametrize("ending", list(ENDINGS))
def test_after_the_referral_ends_recipient_keeps_what_it_saw_and_sees_nothing_new(
    desk, ending: str
) -> None:
    case = desk.open_case("cav-scirocco")
    desk.consent(case)
    desk.note(case, "violence", "before the referral")
    referral = desk.refer(case, "ss-cesano")
    desk.note(case, "identity", "while it was open")
    ENDINGS[ending](desk, referral)
    assert referral.status == ending
    desk.note(case, "identity", "her new address, after it ended")
    desk.note(case, "violence", "a new episode, after it ended")

    assert reads(desk, "ss-cesano", case) == {"before the referral", "while it was open"}
    seen = access(desk, "ss-cesano", case)
    assert seen.current_categories == set()
    assert seen.categories == {"identity", "violence"}
    assert seen.sees_case  # it took part: it still finds the case, with what it saw


def test_after_her_consent_is_withdrawn_recipient_sees_nothing_new(desk) -> None:
    case = desk.open_case("cav-scirocco")
    consent = desk.consent(case)
    desk.note(case, "violence", "before the withdrawal")
    referral = desk.refer(case, "ss-cesano")
    move(desk, referral, "acknowledge", "ss-cesano")
    move(desk, referral, "accept", "ss-cesano")
    desk.withdraw_consent(case, consent)
    assert referral.status == "suspended"
    desk.note(case, "identity", "after the withdrawal")
    assert reads(desk, "ss-cesano", case) == {"before the withdrawal"}
    assert access(desk, "ss-cesano", case).current_categories == set()


def test_once_her_consent_expires_recipient_sees_nothing_new(desk) -> None:
    case = desk.open_case("cav-scirocco")
    desk.consent(case, expires_at=desk.now + timedelta(days=7))
    referral = desk.refer(case, "ss-cesano")
    move(desk, referral, "acknowledge", "ss-cesano")
    move(desk, referral, "accept", "ss-cesano")
    desk.note(case, "violence", "in the week she agreed to")
    desk.tick(days=8)
    desk.note(case, "violence", "after her consent expired")
    assert referral.status == "accepted"
    assert reads(desk, "ss-cesano", case) == {"in the week she agreed to"}


def test_a_new_referral_after_a_declined_one_lets_the_recipient_see_again(desk) -> None:
    case = desk.open_case("cav-scirocco")
    desk.consent(case)
    first = desk.refer(case, "ss-cesano")
    _end_by_declining(desk, first)
    desk.note(case, "violence", "between the two referrals")
    desk.refer(case, "ss-cesano", scope=("violence",))
    desk.note(case, "violence", "after the second referral")
    desk.note(case, "identity", "identity, after the second referral")
    assert reads(desk, "ss-cesano", case) == {
        "between the two referrals",
        "after the second referral",
    }
    assert access(desk, "ss-cesano", case).current_categories == {"violence"}


def test_mandatory_report_lets_the_police_see_its_scope_without_consent(desk) -> None:
    case = desk.open_case("ic-alessandrini")
    desk.note(case, "children", "what the child told the teacher")
    desk.report(
        case,
        scope=("children",),
        statute="art. 331 c.p.p.",
        justification="a child disclosed violence at home",
    )
    desk.note(case, "children", "the child was absent for a week")
    assert reads(desk, "pl-cesano", case) == {
        "what the child told the teacher",
        "the child was absent for a week",
    }


# -- what a service wrote itself ---------------------------------------------------


def test_what_a_service_wrote_itself_it_always_sees(desk) -> None:
    case = desk.open_case("cav-scirocco")
    consent = desk.consent(case)
    referral = desk.refer(case, "ss-cesano", scope=("identity",))
    social_worker = desk.caseworker("ss-cesano")
    desk.note(case, "identity", "she moved in with her sister", by=social_worker)
    desk.note(case, "legal", "we helped her apply for legal aid", by=social_worker)
    desk.withdraw_consent(case, consent)
    assert referral.status == "suspended"
    desk.note(case, "employment", "she found a job", by=social_worker)
    assert reads(desk, "ss-cesano", case) == {
        "she moved in with her sister",
        "we helped her apply for legal aid",
        "she found a job",
    }
    assert reads(desk, "cav-scirocco", case) >= {"we helped her apply for legal aid"}


# -- everyone else ------------------------------------------------------------------


@pytest.mark.parametrize(
    "service_id", ["pl-cesano", "asst-rhodense", "ic-leonardo", "osservatorio", "garanzia-cesano"]
)
def test_an_unrelated_service_does_not_see_the_case(desk, service_id: str) -> None:
    case = cav_case_with_a_note_in_every_category(desk)
    desk.consent(case)
    desk.refer(case, "ss-cesano")
    seen = access(desk, service_id, case)
    assert not seen.sees_case
    assert seen.categories == set()
    assert reads(desk, service_id, case) == set()


def test_the_sender_that_does_not_own_the_case_sees_only_what_it_received(desk) -> None:
    case = cav_case_with_a_note_in_every_category(desk)
    desk.consent(case, kinds=("social_services", "police"), purposes=("social_support",))
    desk.refer(case, "ss-cesano", scope=("identity", "violence"))
    desk.refer(case, "pl-cesano", scope=("violence",), by=desk.caseworker("ss-cesano"))
    assert access(desk, "ss-cesano", case).categories == {"identity", "violence"}
    assert access(desk, "pl-cesano", case).categories == {"violence"}
    assert reads(desk, "pl-cesano", case) == {"before: violence"}
