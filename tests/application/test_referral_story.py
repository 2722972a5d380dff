"""A referral from the CAV to social services, told through the application on a real database."""

from __future__ import annotations

import pytest
from support.stories import RISK_ITEMS, record_consent

from application.errors import NotFound, NotWorkingOnCase
from domain import errors
from domain.reference import canonical_reference
from domain.referral import Move


def test_referral_story_from_opening_to_completion(rete, people, clock, send) -> None:
    anna, bea = people.anna, people.bea
    case = rete.cases.open(anna)
    # A code drawn at random (test_reference_codes), valid by its check character.
    assert canonical_reference(case.reference_code) == case.reference_code
    assert case.reference_code.startswith("CB-2026-")
    assert (case.owner_service, case.status, case.version) == ("cav-scirocco", "open", 1)
    ref = case.reference_code

    note = rete.cases.add_note(anna, ref, "violence", "he hit her in front of the children")
    rete.cases.add_note(anna, ref, "health", "bruises on her arms")
    consent = record_consent(rete, anna, ref)
    assert consent.active and consent.recorded_by == "anna"

    clock.advance(minutes=5)
    sent = send(rete, anna, ref, urgency="urgent")
    assert (sent.status, sent.version, sent.consent_id) == ("sent", 1, consent.id)
    assert sent.case_reference == ref
    assert sent.flagged_for_review is False

    # Social services see the case, only the violence note (the health note is not in scope).
    seen = rete.cases.get(bea, ref)
    assert [e.id for e in seen.entries] == [note.id]
    assert seen.visible_categories == ["identity", "violence"]
    assert seen.consents == []  # the terms of her consent are the owner's business

    steps = [(Move.ACKNOWLEDGE, "acknowledged"), (Move.ACCEPT, "accepted")]
    for version, (move, status) in enumerate(steps, start=2):
        clock.advance(hours=1)
        moved = rete.referrals.move(bea, sent.id, move)
        assert (moved.status, moved.version) == (status, version)

    rete.cases.add_note(bea, ref, "identity", "she is staying with her sister for now")
    clock.advance(days=2)
    done = rete.referrals.move(bea, sent.id, Move.COMPLETE)
    assert (done.status, done.version, done.ended_at) == ("completed", 4, clock.at)

    # The CAV sees everything, including what social services wrote.
    own = rete.cases.get(anna, ref)
    assert {e.text for e in own.entries} == {
        "he hit her in front of the children",
        "bruises on her arms",
        "she is staying with her sister for now",
    }
    assert [r.status for r in own.referrals] == ["completed"]
    assert rete.referrals.get(anna, sent.id) == rete.referrals.get(bea, sent.id)


def test_recipient_stops_writing_once_its_referral_has_ended(rete, people, consented_case, send):
    ref, _ = consented_case
    referral = send(rete, people.anna, ref)
    rete.referrals.move(people.bea, referral.id, Move.DECLINE, reason="no places this month")
    with pytest.raises(NotWorkingOnCase):
        rete.cases.add_note(people.bea, ref, "identity", "one more thing")
    assert rete.cases.get(people.bea, ref).entries[0].text == "what she told us"


def test_sender_cannot_accept_its_own_referral(rete, people, consented_case, send) -> None:
    ref, _ = consented_case
    referral = send(rete, people.anna, ref)
    with pytest.raises(errors.NotRecipient):
        rete.referrals.move(people.anna, referral.id, Move.ACKNOWLEDGE)
    assert rete.referrals.get(people.anna, referral.id).version == 1


def test_unrelated_service_finds_neither_the_case_nor_the_referral(
    rete, people, consented_case, send
) -> None:
    ref, _ = consented_case
    referral = send(rete, people.anna, ref)
    police, hospital = people.paolo, people.marta
    case_id = rete.cases.get(people.anna, ref).id
    for outsider in (police, hospital):
        for name in (ref, case_id):
            with pytest.raises(NotFound):
                rete.cases.get(outsider, name)
            with pytest.raises(NotFound):
                rete.cases.add_note(outsider, name, "violence", "we heard something")
        with pytest.raises(NotFound):
            rete.referrals.get(outsider, referral.id)
        with pytest.raises(NotFound):
            rete.referrals.move(outsider, referral.id, Move.ACKNOWLEDGE)
        assert rete.cases.list(outsider).items == []
        assert rete.referrals.list(outsider, "inbox").items == []
    # Not finding a case that does not exist looks exactly the same.
    with pytest.raises(NotFound):
        rete.cases.get(police, "CB-2026-9999")
    with pytest.raises(NotFound):
        rete.referrals.get(police, "not-a-referral-id")
    assert rete.referrals.get(people.bea, referral.id).status == "sent"


def test_a_coordinator_closes_an_unanswered_referral_once_its_deadline_passed(
    rete, people, clock, consented_case, send
) -> None:
    ref, _ = consented_case
    referral = send(rete, people.anna, ref, urgency="emergency")
    clock.advance(minutes=59)
    with pytest.raises(errors.DeadlineNotPassed):
        rete.referrals.move(people.bruna, referral.id, Move.EXPIRE)
    clock.advance(minutes=2)
    assert rete.referrals.get(people.anna, referral.id).overdue is True
    with pytest.raises(errors.RoleNotAllowed):
        rete.referrals.move(people.bea, referral.id, Move.EXPIRE)
    expired = rete.referrals.move(people.chiara, referral.id, Move.EXPIRE)
    assert (expired.status, expired.ended_at, expired.overdue) == ("expired", clock.at, False)


def test_high_risk_flags_the_case_for_the_recipient_without_showing_the_assessment(
    rete, people, consented_case, send
) -> None:
    ref, _ = consented_case
    referral = send(rete, people.anna, ref)
    answers = dict.fromkeys(RISK_ITEMS, False)
    low = rete.cases.assess_risk(people.anna, ref, "rete-screening-v1", answers, None, None)
    assert (low.score, low.level) == (0, "low")
    high = rete.cases.assess_risk(
        people.anna,
        ref,
        "rete-screening-v1",
        {**answers, "strangulation": True, "weapon": True, "her_fear": True},
        None,
        None,
    )
    assert (high.score, high.computed_level, high.level) == (8, "high", "high")
    [in_inbox] = rete.referrals.list(people.bea, "inbox").items
    assert (in_inbox.id, in_inbox.high_risk) == (referral.id, True)
    seen = rete.cases.get(people.bea, ref)
    assert seen.high_risk is True
    assert seen.risk_assessments == []  # risk is not in the referral's scope
    assert len(rete.cases.get(people.anna, ref).risk_assessments) == 2


def test_a_service_lists_the_cases_it_may_see_newest_first(rete, people, clock, send) -> None:
    codes = []
    for _ in range(5):
        clock.advance(minutes=1)
        codes.append(rete.cases.open(people.anna).reference_code)
    first = rete.cases.list(people.anna, limit=2)
    second = rete.cases.list(people.anna, cursor=first.next_cursor, limit=2)
    third = rete.cases.list(people.anna, cursor=second.next_cursor, limit=2)
    listed = [c.reference_code for page in (first, second, third) for c in page.items]
    assert listed == codes[::-1]
    assert third.next_cursor is None
    assert rete.cases.list(people.bea).items == []
    rete.cases.record_consent(
        people.anna,
        codes[1],
        recipient_kinds=["social_services"],
        recipient_services=[],
        purposes=["social_support"],
        categories_=["identity"],
        expires_at=None,
    )
    send(rete, people.anna, codes[1], scope=["identity"])
    assert [c.reference_code for c in rete.cases.list(people.bea).items] == [codes[1]]
