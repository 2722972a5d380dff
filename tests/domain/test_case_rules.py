"""The case's rules: notes, consent, risk, legal hold, erasure, reference codes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from domain_md import ALL, rows_of

from domain import errors
from domain.case import Case, case_id_for
from domain.network import Actor
from domain.reference import ReferenceSequence, sequence_id_for
from domain.risk import RiskInstrument, RiskItem, RiskLevel
from domain.vocabulary import Role

# DOMAIN.md, "Visibility": what each kind of service may ever hold.
ROW = rows_of(
    "cav-scirocco", "asst-rhodense", "pl-cesano", "ss-cesano", "ic-leonardo", "afol-metropolitana"
)

# An instrument is data: yes/no items with weights, and where each level starts.
SCREENING = RiskInstrument(
    id="screening-test",
    name="A short screening for the tests",
    items=(
        RiskItem("strangulation", "He has tried to strangle her", 3),
        RiskItem("weapon", "He has threatened her with a weapon", 3),
        RiskItem("separation", "She has recently left him", 2),
        RiskItem("stalking", "He follows her", 1),
    ),
    medium_from=3,
    high_from=6,
)
NOTHING = {"strangulation": False, "weapon": False, "separation": False, "stalking": False}


def answers(**yes: bool) -> dict[str, bool]:
    return {**NOTHING, **yes}


# -- who is who ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("service_id", "role"),
    [
        ("ic-leonardo", Role.AUDITOR),
        ("cav-scirocco", Role.ANALYST),
        ("osservatorio", Role.CASEWORKER),
        ("garanzia-cesano", Role.COORDINATOR),
    ],
)
def test_a_token_claiming_a_role_its_service_cannot_hold_is_refused(desk, service_id, role):
    with pytest.raises(errors.RoleNotAllowed):
        Actor("someone", desk.service(service_id), frozenset({role}))


@pytest.mark.parametrize("service_id", ["osservatorio", "garanzia-cesano"])
def test_observatory_and_oversight_do_not_open_cases(desk, service_id: str) -> None:
    role = Role.ANALYST if service_id == "osservatorio" else Role.AUDITOR
    with pytest.raises(errors.NotPermitted):
        Case.open("CB-2026-0001", Actor("x", desk.service(service_id), frozenset({role})), desk.now)


# -- notes ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("service_id", "category"), [(s, c) for s in ROW for c in sorted(ALL - ROW[s])]
)
def test_a_service_cannot_write_a_note_its_kind_may_not_hold(desk, service_id, category):
    case = desk.open_case(service_id)
    with pytest.raises(errors.CategoryNotPermitted):
        desk.note(case, category, "something it should not hold")
    assert case.entries == []
    assert case.version == 1


@pytest.mark.parametrize("service_id", list(ROW))
def test_a_service_writes_notes_in_every_category_of_its_row(desk, service_id: str) -> None:
    case = desk.open_case(service_id)
    for category in sorted(ROW[service_id]):
        entry = desk.note(case, category, f"about {category}")
        assert (entry.category, entry.service_id) == (category, service_id)
    assert {e.category for e in case.entries} == ROW[service_id]


def test_a_note_says_something(desk) -> None:
    case = desk.open_case()
    with pytest.raises(errors.EmptyText):
        desk.note(case, "violence", "   ")


# -- consent --------------------------------------------------------------------


def test_only_the_owner_service_records_her_consent(desk) -> None:
    case = desk.open_case("cav-scirocco")
    with pytest.raises(errors.NotOwnerService):
        desk.consent(case, by=desk.caseworker("ss-cesano"))


@pytest.mark.parametrize(
    "terms",
    [
        dict(kinds=(), services=()),
        dict(purposes=()),
        dict(categories=()),
    ],
    ids=["no recipient", "no purpose", "no category"],
)
def test_a_consent_names_recipients_purposes_and_categories(desk, terms) -> None:
    case = desk.open_case()
    with pytest.raises(errors.InvalidConsentTerms):
        desk.consent(case, **terms)


def test_a_consent_cannot_expire_before_it_is_given(desk) -> None:
    case = desk.open_case()
    with pytest.raises(errors.InvalidConsentTerms):
        desk.consent(case, expires_at=desk.now - timedelta(days=1))


def test_consent_stands_until_it_expires(desk) -> None:
    case = desk.open_case()
    consent = desk.consent(case, expires_at=desk.now + timedelta(days=30))
    assert consent.is_active(desk.now + timedelta(days=29))
    assert not consent.is_active(desk.now + timedelta(days=30))


def test_withdrawing_consent_names_the_referrals_relying_on_it(desk) -> None:
    case = desk.open_case()
    for_social_services = desk.consent(case)
    for_police = desk.consent(
        case, kinds=("police",), purposes=("protection_measures",), categories=("violence",)
    )
    relying = desk.refer(case, "ss-cesano")
    desk.refer(case, "pl-cesano", kind="protection_measures", scope=("violence",))
    at = desk.tick()
    named = case.withdraw_consent(for_social_services.id, desk.caseworker("cav-scirocco"), at)
    assert named == [str(relying.id)]
    assert case.consents[for_social_services.id].withdrawn_at == at
    assert not case.consents[for_social_services.id].is_active(at)
    assert case.consents[for_police.id].is_active(at)


def test_consent_is_withdrawn_once_and_only_by_the_owner(desk) -> None:
    case = desk.open_case()
    consent = desk.consent(case)
    with pytest.raises(errors.NotOwnerService):
        desk.withdraw_consent(case, consent, by=desk.caseworker("ss-cesano"))
    desk.withdraw_consent(case, consent)
    with pytest.raises(errors.ConsentNotActive):
        desk.withdraw_consent(case, consent)
    with pytest.raises(errors.UnknownConsent):
        case.withdraw_consent("no-such-consent", desk.caseworker("cav-scirocco"), desk.tick())


# -- risk -----------------------------------------------------------------------


def _assess(desk, case, given, judgement=None, justification=None, by=None):
    return case.assess_risk(
        SCREENING,
        given,
        judgement,
        justification,
        by or desk.caseworker(case.owner_service),
        desk.tick(),
    )


@pytest.mark.parametrize(
    ("yes", "score", "level"),
    [
        ({}, 0, "low"),
        ({"stalking": True}, 1, "low"),
        ({"stalking": True, "separation": True}, 3, "medium"),
        ({"weapon": True, "separation": True}, 5, "medium"),
        ({"weapon": True, "strangulation": True}, 6, "high"),
    ],
)
def test_risk_level_follows_the_instruments_thresholds(desk, yes, score, level) -> None:
    case = desk.open_case()
    assessment = _assess(desk, case, answers(**yes))
    assert (assessment.score, assessment.computed_level, assessment.level) == (score, level, level)
    assert case.high_risk is (level == "high")


def test_professional_judgement_raises_the_level_with_a_justification(desk) -> None:
    case = desk.open_case()
    assessment = _assess(
        desk, case, answers(stalking=True), RiskLevel.HIGH, "she is terrified and he has a gun"
    )
    assert (assessment.computed_level, assessment.level) == ("low", "high")
    assert case.high_risk is True
    assert case.risk_level == "high"


def test_raising_the_level_needs_a_justification(desk) -> None:
    case = desk.open_case()
    with pytest.raises(errors.JustificationRequired):
        _assess(desk, case, answers(), RiskLevel.MEDIUM, "  ")


@pytest.mark.parametrize("judgement", [RiskLevel.LOW, RiskLevel.MEDIUM])
def test_professional_judgement_never_lowers_the_computed_level(desk, judgement) -> None:
    case = desk.open_case()
    with pytest.raises(errors.RiskLevelLowered):
        _assess(desk, case, answers(weapon=True, strangulation=True), judgement, "he apologised")
    assert case.assessments == []
    assert case.high_risk is False


@pytest.mark.parametrize(
    "given",
    [
        {"strangulation": True},
        {**NOTHING, "hunch": True},
        {},
    ],
    ids=["missing items", "unknown item", "nothing answered"],
)
def test_answers_must_match_the_instrument(desk, given) -> None:
    case = desk.open_case()
    with pytest.raises(errors.InvalidAnswers):
        _assess(desk, case, given)


@pytest.mark.parametrize("service_id", ["ic-leonardo", "afol-metropolitana"])
def test_services_that_may_not_hold_risk_data_do_not_assess_risk(desk, service_id) -> None:
    case = desk.open_case(service_id)
    with pytest.raises(errors.CategoryNotPermitted):
        _assess(desk, case, answers())


# -- legal hold and erasure --------------------------------------------------------


def test_legal_hold_blocks_erasure_until_lifted(desk) -> None:
    case = desk.open_case()
    coordinator = desk.coordinator("cav-scirocco")
    case.place_legal_hold("criminal proceedings pending", coordinator, desk.tick())
    with pytest.raises(errors.LegalHoldActive):
        case.erase("she asked us to erase her data", coordinator, desk.tick())
    assert case.status == "open"
    case.lift_legal_hold(coordinator, desk.tick())
    case.erase("she asked us to erase her data", coordinator, desk.tick())
    assert case.status == "erased"


# Who may not erase a case, place or lift a hold, and what each is told: only the
# owner's coordinator may, saying why, and only lift a hold that was placed.
REFUSED_ON_A_CASE = {
    "erase as a caseworker": (
        lambda case, desk: case.erase("her request", desk.caseworker("cav-scirocco"), desk.tick()),
        errors.RoleNotAllowed,
    ),
    "erase as another service": (
        lambda case, desk: case.erase("her request", desk.coordinator("ss-cesano"), desk.tick()),
        errors.NotOwnerService,
    ),
    "erase without a reason": (
        lambda case, desk: case.erase(" ", desk.coordinator("cav-scirocco"), desk.tick()),
        errors.EmptyText,
    ),
    "hold as a caseworker": (
        lambda case, desk: case.place_legal_hold(
            "proceedings", desk.caseworker("cav-scirocco"), desk.tick()
        ),
        errors.RoleNotAllowed,
    ),
    "hold as another service": (
        lambda case, desk: case.place_legal_hold(
            "proceedings", desk.coordinator("pl-cesano"), desk.tick()
        ),
        errors.NotOwnerService,
    ),
    "lift a hold never placed": (
        lambda case, desk: case.lift_legal_hold(desk.coordinator("cav-scirocco"), desk.tick()),
        errors.NoLegalHold,
    ),
}


@pytest.mark.parametrize("name", list(REFUSED_ON_A_CASE))
def test_only_the_owners_coordinator_erases_says_why_and_places_and_lifts_a_hold(
    desk, name: str
) -> None:
    case = desk.open_case()
    act, error = REFUSED_ON_A_CASE[name]
    with pytest.raises(error):
        act(case, desk)
    assert case.status == "open"


def _erased_case(desk):
    case = desk.open_case()
    desk.note(case, "violence", "what happened")
    consent = desk.consent(case)
    case.erase("she asked us to erase her data", desk.coordinator("cav-scirocco"), desk.tick())
    return case, consent


WRITES = {
    "note": lambda d, c, k: d.note(c, "identity", "her new address"),
    "consent": lambda d, c, k: d.consent(c),
    "withdraw consent": lambda d, c, k: d.withdraw_consent(c, k),
    "risk": lambda d, c, k: _assess(d, c, answers()),
    "referral": lambda d, c, k: d.refer(c),
    "close": lambda d, c, k: c.close(d.caseworker("cav-scirocco"), d.tick()),
    "legal hold": lambda d, c, k: c.place_legal_hold("x", d.coordinator("cav-scirocco"), d.tick()),
    "erase again": lambda d, c, k: c.erase("again", d.coordinator("cav-scirocco"), d.tick()),
}


@pytest.mark.parametrize("write", list(WRITES))
def test_an_erased_case_refuses_every_write(desk, write: str) -> None:
    case, consent = _erased_case(desk)
    version = case.version
    with pytest.raises(errors.CaseErased):
        WRITES[write](desk, case, consent)
    assert case.version == version
    assert case.status == "erased"


@pytest.mark.parametrize("write", ["note", "consent", "withdraw consent", "risk", "referral"])
def test_a_closed_case_refuses_new_entries(desk, write: str) -> None:
    case = desk.open_case()
    consent = desk.consent(case)
    case.close(desk.caseworker("cav-scirocco"), desk.tick())
    with pytest.raises(errors.CaseNotOpen):
        WRITES[write](desk, case, consent)


def test_a_closed_case_can_still_be_erased(desk) -> None:
    case = desk.open_case()
    case.close(desk.caseworker("cav-scirocco"), desk.tick())
    case.erase("retention period over", desk.coordinator("cav-scirocco"), desk.tick())
    assert case.status == "erased"


# -- reference codes --------------------------------------------------------------


def test_reference_codes_count_up_from_one_each_year(desk) -> None:
    at = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    sequence = ReferenceSequence.start("CB-2026", at)
    codes = [sequence.issue(at + timedelta(minutes=n)) for n in range(12)]
    assert codes[:3] == ["CB-2026-0001", "CB-2026-0002", "CB-2026-0003"]
    assert codes[-1] == "CB-2026-0012"
    assert [int(c.rsplit("-", 1)[1]) for c in codes] == list(range(1, 13))
    next_year = ReferenceSequence.start("CB-2027", at)
    assert next_year.issue(at) == "CB-2027-0001"
    assert sequence_id_for("CB-2026") != sequence_id_for("CB-2027")
    # The numbering's events carry the application's time, as every event does.
    stamps = [e.timestamp for e in sequence.collect_events()]
    assert stamps == [at] + [at + timedelta(minutes=n) for n in range(12)]


def test_a_case_is_found_by_its_reference_code(desk) -> None:
    case = Case.open("CB-2026-0042", desk.caseworker("cav-scirocco"), desk.now)
    assert case.id == case_id_for("CB-2026-0042")
    assert case.reference_code == "CB-2026-0042"
    assert case.owner_service == "cav-scirocco"
    assert case.status == "open"
