"""The rules of sending a referral (DOMAIN.md, "Referral" and "Visibility").

The visibility rows and the deadlines are written out here from DOMAIN.md's
tables, not imported from ``domain.vocabulary`` or ``domain.deadlines``.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from domain_md import ALL, ROW

from domain import errors
from domain.deadlines import DeadlinePolicy
from domain.network import Actor
from domain.referral import referral_kind
from domain.vocabulary import ReferralKind, Role, Urgency

ONE_OF_KIND = {
    "cav": "cav-scirocco",
    "health": "asst-rhodense",
    "police": "pl-cesano",
    "social_services": "ss-cesano",
    "school": "ic-alessandrini",
    "employment": "afol-metropolitana",
}
EVERY_PURPOSE = tuple(k.value for k in ReferralKind)
STATUTE = "art. 331 c.p.p."
WHY = "the child described violence at home to her teacher"
KNIFE_AT_THE_DOOR = {  # an emergency on her vital interest, without her consent
    "kind": "protection_measures",
    "urgency": "emergency",
    "scope": ("identity", "safety"),
    "basis": "vital_interest",
    "justification": "he is outside her door with a knife",
}


def consent_to_everyone(desk, case):
    """She agreed to share everything with everyone: only the other rules can refuse."""
    return desk.consent(
        case, kinds=tuple(ONE_OF_KIND), purposes=EVERY_PURPOSE, categories=tuple(sorted(ALL))
    )


# -- who may receive what ------------------------------------------------------


def test_a_service_cannot_refer_a_case_to_itself(desk) -> None:
    case = desk.open_case("cav-scirocco")
    consent_to_everyone(desk, case)
    with pytest.raises(errors.SelfReferral):
        desk.refer(case, "cav-scirocco", kind="psychological_support", scope=("identity",))


@pytest.mark.parametrize(
    ("kind", "category"),
    [(k, c) for k in ROW for c in sorted(ALL - ROW[k])],
)
def test_referral_refused_when_recipient_kind_may_not_see_a_category_in_scope(
    desk, kind: str, category: str
) -> None:
    case = desk.open_case("cav-scirocco")
    consent_to_everyone(desk, case)
    seen = sorted(ROW[kind])[:1]  # something it may see, with the one it may not
    with pytest.raises(errors.ScopeNotVisibleToRecipient):
        desk.refer(case, ONE_OF_KIND[kind], kind="social_support", scope=(*seen, category))
    assert case.referrals == {}


@pytest.mark.parametrize("kind", [k for k in ROW if k != "cav"])
def test_recipient_may_receive_its_whole_row(desk, kind: str) -> None:
    case = desk.open_case("cav-scirocco")
    consent_to_everyone(desk, case)
    referral = desk.refer(case, ONE_OF_KIND[kind], scope=tuple(sorted(ROW[kind])))
    assert set(referral.scope) == ROW[kind]


def test_health_data_never_goes_to_the_police(desk) -> None:
    case = desk.open_case("asst-rhodense")
    consent_to_everyone(desk, case)
    with pytest.raises(errors.ScopeNotVisibleToRecipient):
        desk.refer(case, "pl-cesano", kind="protection_measures", scope=("violence", "health"))


def test_a_school_receives_only_what_concerns_the_children(desk) -> None:
    case = desk.open_case("cav-scirocco")
    consent_to_everyone(desk, case)
    with pytest.raises(errors.ScopeNotVisibleToRecipient):
        desk.refer(case, "ic-leonardo", kind="school_support", scope=("children", "violence"))
    referral = desk.refer(case, "ic-leonardo", kind="school_support", scope=("children",))
    assert referral.recipient_service == "ic-leonardo"


@pytest.mark.parametrize("to", ["osservatorio", "garanzia-cesano"])
@pytest.mark.parametrize("category", sorted(ALL))
def test_observatory_and_oversight_never_receive_a_case(desk, to: str, category: str) -> None:
    case = desk.open_case("cav-scirocco")
    consent_to_everyone(desk, case)
    with pytest.raises(errors.RecipientCannotWorkCases) as refused:
        desk.refer(case, to, scope=(category,))
    assert refused.value.code == "recipient-cannot-work-cases"


def test_a_recipient_cannot_pass_on_more_than_it_was_given(desk) -> None:
    case = desk.open_case("cav-scirocco")
    consent_to_everyone(desk, case)
    desk.refer(case, "ss-cesano", scope=("identity", "violence"))
    social_worker = desk.caseworker("ss-cesano")
    with pytest.raises(errors.ScopeNotVisibleToSender):
        desk.refer(case, "pl-cesano", scope=("violence", "legal"), by=social_worker)
    onward = desk.refer(case, "pl-cesano", kind="protection_measures", scope=("violence",))
    assert onward.scope == {"violence"}


def test_referral_shares_at_least_one_category_and_says_why(desk) -> None:
    case = desk.open_case("cav-scirocco")
    desk.consent(case)
    with pytest.raises(errors.EmptyScope):
        desk.refer(case, scope=())
    with pytest.raises(errors.EmptyText):
        desk.refer(case, reason="   ")


def test_auditors_and_analysts_do_not_send_referrals(desk) -> None:
    case = desk.open_case("cav-scirocco")
    desk.consent(case)
    auditor = Actor("dpo", desk.service("garanzia-cesano"), frozenset({Role.AUDITOR}))
    analyst = Actor("obs", desk.service("osservatorio"), frozenset({Role.ANALYST}))
    for who in (auditor, analyst):
        with pytest.raises(errors.RoleNotAllowed):
            desk.refer(case, by=who)
    assert case.referrals == {}


# -- consent as the legal basis -----------------------------------------------


def _consented_case(desk, **terms):
    case = desk.open_case("cav-scirocco")
    consent = desk.consent(case, **terms)  # social services, social support, identity+violence
    return case, consent


NOT_COVERED = {
    "wrong recipient kind": dict(to="pl-cesano", kind="social_support"),
    "wrong purpose": dict(to="ss-cesano", kind="shelter"),
    "category outside": dict(to="ss-cesano", scope=("identity", "violence", "legal")),
}


@pytest.mark.parametrize("name_the_consent", [False, True], ids=["found", "named"])
@pytest.mark.parametrize("why", list(NOT_COVERED))
def test_consent_that_does_not_cover_recipient_purpose_and_scope_is_no_basis(
    desk, why: str, name_the_consent: bool
) -> None:
    case, consent = _consented_case(desk)
    terms = dict(NOT_COVERED[why])
    with pytest.raises(errors.NoCoveringConsent):
        desk.refer(
            case,
            terms.pop("to"),
            consent_id=consent.id if name_the_consent else None,
            **terms,
        )
    assert case.referrals == {}


@pytest.mark.parametrize("name_the_consent", [False, True], ids=["found", "named"])
def test_expired_consent_is_no_basis(desk, name_the_consent: bool) -> None:
    case, consent = _consented_case(desk, expires_at=desk.now + timedelta(days=30))
    desk.refer(case)  # still good
    desk.tick(days=31)
    with pytest.raises(errors.NoCoveringConsent):
        desk.refer(case, consent_id=consent.id if name_the_consent else None)


@pytest.mark.parametrize("name_the_consent", [False, True], ids=["found", "named"])
def test_withdrawn_consent_is_no_basis(desk, name_the_consent: bool) -> None:
    case, consent = _consented_case(desk)
    desk.withdraw_consent(case, consent)
    with pytest.raises(errors.NoCoveringConsent):
        desk.refer(case, consent_id=consent.id if name_the_consent else None)


def test_no_consent_at_all_is_no_basis(desk) -> None:
    case = desk.open_case("cav-scirocco")
    with pytest.raises(errors.NoCoveringConsent):
        desk.refer(case)


def test_consent_naming_one_school_covers_that_school_only(desk) -> None:
    case, consent = _consented_case(
        desk,
        kinds=(),
        services=("ic-leonardo",),
        purposes=("school_support",),
        categories=("children",),
    )
    referral = desk.refer(case, "ic-leonardo", kind="school_support", scope=("children",))
    assert referral.consent_id == consent.id
    with pytest.raises(errors.NoCoveringConsent):
        desk.refer(case, "ic-alessandrini", kind="school_support", scope=("children",))


def test_referral_relies_on_the_consent_that_covers_it(desk) -> None:
    case, for_social_services = _consented_case(desk)
    for_police = desk.consent(
        case, kinds=("police",), purposes=("protection_measures",), categories=("violence",)
    )
    referral = desk.refer(case, "pl-cesano", kind="protection_measures", scope=("violence",))
    assert referral.consent_id == for_police.id != for_social_services.id
    assert referral.legal_basis == "consent"
    assert referral.flagged_for_review is False
    assert case.referrals[str(referral.id)].consent_id == for_police.id


def test_unknown_consent_named_is_refused(desk) -> None:
    case, _ = _consented_case(desk)
    with pytest.raises(errors.UnknownConsent):
        desk.refer(case, consent_id="not-a-consent-of-this-case")


# -- mandatory reports (legal obligation) -------------------------------------

PUBLIC_OFFICIALS = {  # sender -> (recipient, a scope both may see)
    "ic-alessandrini": ("pl-cesano", ("children",)),
    "asst-rhodense": ("pl-cesano", ("violence",)),
    "pl-cesano": ("ss-cesano", ("violence", "children")),
    "ss-cesano": ("pl-cesano", ("violence", "legal")),
}


def test_school_mandatory_report_reaches_police_without_consent(desk) -> None:
    case = desk.open_case("ic-alessandrini")
    desk.note(case, "children", "the child said his father hits his mother")
    report = desk.report(
        case, scope=("children",), statute=STATUTE, justification=WHY, urgency="urgent"
    )
    assert report.legal_basis == "legal_obligation"
    assert report.consent_id is None
    assert report.statute == STATUTE and report.justification == WHY
    assert report.flagged_for_review is True


@pytest.mark.parametrize("sender", list(PUBLIC_OFFICIALS))
def test_every_public_official_kind_makes_mandatory_reports(desk, sender: str) -> None:
    to, scope = PUBLIC_OFFICIALS[sender]
    case = desk.open_case(sender)
    report = desk.report(
        case,
        to,
        scope=scope,
        statute="Codice Rosso (l. 69/2019)",
        justification="injuries consistent with repeated violence",
    )
    assert report.flagged_for_review is True


def test_mandatory_report_is_never_blocked_by_a_withdrawn_consent(desk) -> None:
    case = desk.open_case("asst-rhodense")
    consent = desk.consent(
        case, kinds=("police",), purposes=("protection_measures",), categories=("violence",)
    )
    desk.withdraw_consent(case, consent)
    report = desk.report(
        case,
        scope=("violence",),
        statute="referto (art. 334 c.p.p.)",
        justification="stab wound treated in the emergency room",
    )
    assert report.consent_id is None


@pytest.mark.parametrize("sender", ["cav-scirocco", "afol-metropolitana"])
def test_cav_and_employment_services_do_not_make_mandatory_reports(desk, sender: str) -> None:
    case = desk.open_case(sender)
    with pytest.raises(errors.LegalObligationNotAllowed):
        desk.report(case, scope=("identity",), statute=STATUTE, justification=WHY)


@pytest.mark.parametrize("statute", [None, "", "   "])
def test_mandatory_report_must_cite_the_statute(desk, statute: str | None) -> None:
    case = desk.open_case("ic-alessandrini")
    with pytest.raises(errors.StatuteRequired):
        desk.report(case, scope=("children",), statute=statute, justification=WHY)


@pytest.mark.parametrize("justification", [None, "", "   "])
def test_mandatory_report_must_be_justified(desk, justification: str | None) -> None:
    case = desk.open_case("ic-alessandrini")
    with pytest.raises(errors.JustificationRequired):
        desk.report(case, scope=("children",), statute=STATUTE, justification=justification)


def test_mandatory_report_shares_only_what_the_police_may_see(desk) -> None:
    case = desk.open_case("asst-rhodense")
    with pytest.raises(errors.ScopeNotVisibleToRecipient):  # minimised: never health data
        desk.report(
            case,
            scope=("violence", "health"),
            statute="referto (art. 334 c.p.p.)",
            justification="injuries",
        )


# -- vital interest ----------------------------------------------------------


def test_vital_interest_is_a_coordinators_decision(desk) -> None:
    case = desk.open_case("cav-scirocco")
    with pytest.raises(errors.VitalInterestNeedsCoordinator):
        desk.refer(case, "pl-cesano", **KNIFE_AT_THE_DOOR)


@pytest.mark.parametrize("justification", [None, "  "])
def test_vital_interest_must_be_justified(desk, justification: str | None) -> None:
    case = desk.open_case("cav-scirocco")
    with pytest.raises(errors.JustificationRequired):
        desk.refer(
            case,
            "pl-cesano",
            kind="protection_measures",
            scope=("safety",),
            basis="vital_interest",
            justification=justification,
            by=desk.coordinator("cav-scirocco"),
        )


def test_coordinator_refers_on_vital_interest_and_it_is_flagged_for_review(desk) -> None:
    case = desk.open_case("cav-scirocco")
    referral = desk.refer(
        case, "pl-cesano", **KNIFE_AT_THE_DOOR, by=desk.coordinator("cav-scirocco")
    )
    assert referral.legal_basis == "vital_interest"
    assert referral.consent_id is None
    assert referral.flagged_for_review is True


# -- mediation, deadlines -----------------------------------------------------


@pytest.mark.parametrize(
    "asked", ["mediation", "family_mediation", "Mediazione familiare", "penal_mediation"]
)
def test_mediation_is_never_a_referral_kind(asked: str) -> None:
    with pytest.raises(errors.MediationForbidden) as refused:
        referral_kind(asked)
    assert refused.value.code == "mediation-forbidden"
    assert not any("mediat" in k.value for k in ReferralKind)


def test_unknown_referral_kind_is_refused_as_unknown() -> None:
    with pytest.raises(errors.UnknownReferralKind):
        referral_kind("exorcism")
    assert referral_kind("shelter") == "shelter"


# DOMAIN.md: emergency 1 h / 4 h, urgent 24 h / 72 h, routine 72 h / 10 days.
@pytest.mark.parametrize(
    ("urgency", "acknowledge_within", "answer_within"),
    [
        ("emergency", timedelta(hours=1), timedelta(hours=4)),
        ("urgent", timedelta(hours=24), timedelta(hours=72)),
        ("routine", timedelta(hours=72), timedelta(days=10)),
    ],
)
def test_deadlines_follow_urgency(desk, urgency, acknowledge_within, answer_within) -> None:
    case = desk.open_case("cav-scirocco")
    desk.consent(case)
    referral = desk.refer(case, urgency=urgency)
    assert referral.sent_at == desk.now
    assert referral.acknowledge_by == desk.now + acknowledge_within
    assert referral.answer_by == desk.now + answer_within


def test_deadlines_are_configurable_per_network(desk) -> None:
    desk.deadlines = DeadlinePolicy(
        {
            Urgency.EMERGENCY: (timedelta(minutes=30), timedelta(hours=2)),
            Urgency.URGENT: (timedelta(hours=12), timedelta(hours=48)),
            Urgency.ROUTINE: (timedelta(days=5), timedelta(days=15)),
        }
    )
    case = desk.open_case("cav-scirocco")
    desk.consent(case)
    referral = desk.refer(case, urgency="emergency")
    assert referral.acknowledge_by - referral.sent_at == timedelta(minutes=30)
    assert referral.answer_by - referral.sent_at == timedelta(hours=2)
