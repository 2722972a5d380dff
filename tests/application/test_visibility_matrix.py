"""The visibility matrix (issue 5, "done when" 1), on SQLite and PostgreSQL.

For every seed service kind and both roles that read cases, against a case it
owns, one referred to it, one it referred on, and one unrelated to it, the case
list and the case view show exactly the categories DOMAIN.md allows, no more and
no less, and an unrelated case is "not found". The expected rows are copied from
DOMAIN.md's table, not from the code.

DOMAIN.md: "A service sees a case's data in a category only when all hold: (1) the
category is in its kind's row; (2) it owns the case, or a referral to it on that
case is active, and the category is in that referral's scope; (3) the legal basis
of that referral still stands. [...] When a referral ends, the recipient keeps
read access to what it could see until then, and sees nothing new."
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from domain_md import ROW, SEED

from application.errors import NotFound
from application.rete import Rete
from application.views import CaseView
from domain import errors
from domain.network import Actor
from domain.referral import Move

# DOMAIN.md, "Services of the network (seed directory)": one service of each kind
# that works cases (both schools, since there are two).
SERVICES = {s: kind for s, kind in SEED.items() if kind in ROW}
PURPOSE = "social_support"


@dataclass
class Story:
    """The four cases, as one service S stands to them, and what S may see of each."""

    owned: str
    referred_to: str
    referred_by: str
    unrelated: str
    expected: dict[str, set[str]]  # reference code -> categories S may see
    hidden_later: str  # a note written on ``referred_by`` after S's referral ended


def person(rete: Rete, service: str, role: str = "caseworker") -> Actor:
    return rete.ctx.identify(f"{role}.{service}", service, [role])


def note_in_each(rete: Rete, who: Actor, ref: str, categories: set[str]) -> None:
    for category in sorted(categories):
        rete.cases.add_note(who, ref, category, f"{who.service.id} writes {category} on {ref}")


def refer_with_consent(
    rete: Rete, owner: Actor, sender: Actor, ref: str, to: str, scope: set[str]
) -> str:
    """The owner records her consent for ``to``'s kind, then ``sender`` refers on it."""
    consent = rete.cases.record_consent(
        owner,
        ref,
        recipient_kinds=[SERVICES[to]],
        recipient_services=[],
        purposes=[PURPOSE],
        categories_=sorted(scope),
        expires_at=None,
    )
    referral = rete.referrals.refer(
        sender,
        ref,
        recipient_service=to,
        kind=PURPOSE,
        urgency="routine",
        reason=f"{sender.service.id} asks {to} for support",
        scope=sorted(scope),
        legal_basis="consent",
        consent_id=consent.id,
    )
    return referral.id


def accept(rete: Rete, recipient: Actor, referral_id: str) -> None:
    rete.referrals.move(recipient, referral_id, Move.ACKNOWLEDGE)
    rete.referrals.move(recipient, referral_id, Move.ACCEPT)


def onward_service(service: str, owner: str, category: str) -> str:
    return next(
        s
        for s in ("asst-rhodense", "ss-cesano", "pl-cesano", "cav-scirocco")
        if s not in (service, owner) and category in ROW[SERVICES[s]]
    )


def tell(rete: Rete, clock, service: str) -> Story:
    kind = ROW[SERVICES[service]]
    owner_id = "cav-scirocco" if service != "cav-scirocco" else "ss-cesano"
    o, s = person(rete, owner_id), person(rete, service)
    o_row = ROW[SERVICES[owner_id]]

    # A case S owns; it refers it to O, who writes in every category O may hold.
    owned = rete.cases.open(s).reference_code
    note_in_each(rete, s, owned, kind)
    to_owner = refer_with_consent(rete, s, s, owned, owner_id, kind & o_row)
    accept(rete, o, to_owner)
    note_in_each(rete, o, owned, o_row)

    # A case O owns and refers to S, with a scope narrower than S's row when it can be.
    referred_to = rete.cases.open(o).reference_code
    note_in_each(rete, o, referred_to, o_row)
    shared = kind & o_row
    scope_to = shared - {min(shared)} if len(shared) > 1 else shared
    accept(rete, s, refer_with_consent(rete, o, o, referred_to, service, scope_to))

    # A case O referred to S, that S referred on to T; then S's own referral ended,
    # and O wrote more afterwards.
    referred_by = rete.cases.open(o).reference_code
    note_in_each(rete, o, referred_by, o_row)
    to_s = refer_with_consent(rete, o, o, referred_by, service, shared)
    accept(rete, s, to_s)
    category = min(shared)
    onward = onward_service(service, owner_id, category)
    accept(
        rete,
        person(rete, onward),
        refer_with_consent(rete, o, s, referred_by, onward, {category}),
    )
    rete.referrals.move(s, to_s, Move.COMPLETE)
    clock.advance(minutes=5)
    later = rete.cases.add_note(o, referred_by, category, "written after S's referral ended")

    # A case that has nothing to do with S.
    unrelated = rete.cases.open(o).reference_code
    note_in_each(rete, o, unrelated, o_row)

    return Story(
        owned,
        referred_to,
        referred_by,
        unrelated,
        {owned: kind, referred_to: scope_to, referred_by: shared},
        later.id,
    )


def assert_shows_exactly(view: CaseView, reader: Actor, expected: set[str], hidden: str) -> None:
    assert set(view.visible_categories) == expected
    shown = {e.category for e in view.entries}
    assert shown == expected, "an entry of every visible category, none of any other"
    assert all(e.text is not None for e in view.entries)
    assert hidden not in {e.id for e in view.entries}, "nothing new after the referral ended"
    owner = view.owner_service == reader.service.id
    assert bool(view.consents) == owner, "consents are the owner's alone"
    for referral in view.referrals:
        assert owner or reader.service.id in (referral.sender_service, referral.recipient_service)


@pytest.mark.parametrize("service", sorted(SERVICES))
@pytest.mark.parametrize("role", ["caseworker", "coordinator"])
def test_each_service_sees_exactly_what_domain_md_allows(
    rete: Rete, clock, service: str, role: str
) -> None:
    story = tell(rete, clock, service)
    reader = person(rete, service, role)

    listed = {c.reference_code: c for c in rete.cases.list(reader, limit=200).items}
    assert set(listed) == set(story.expected), "owned, referred to and referred by; no other"
    for ref, expected in story.expected.items():
        assert set(listed[ref].visible_categories) == expected, ref
        assert_shows_exactly(rete.cases.get(reader, ref), reader, expected, story.hidden_later)

    with pytest.raises(NotFound):
        rete.cases.get(reader, story.unrelated)


@pytest.mark.parametrize(
    ("service", "role"), [("garanzia-cesano", "auditor"), ("osservatorio", "analyst")]
)
def test_oversight_and_the_observatory_read_no_case(
    rete: Rete, clock, service: str, role: str
) -> None:
    """Auditors see personal data only through a disclosure; analysts only aggregates."""
    story = tell(rete, clock, "pl-cesano")
    reader = person(rete, service, role)
    with pytest.raises(errors.NotPermitted):
        rete.cases.list(reader)
    for ref in (story.owned, story.referred_to, story.unrelated):
        with pytest.raises(errors.NotPermitted):
            rete.cases.get(reader, ref)
