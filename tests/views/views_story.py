"""A random story of the network: commands drawn by hypothesis, run through the
application. A command the rules refuse is part of the story (nothing is written);
every personal text carries ``MARKER``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from support.clock import TestClock
from support.hypothesis_profiles import examples
from views_support import MARKER, actor

from application.escalation import Escalations
from application.rete import Rete
from domain.errors import DomainError
from domain.referral import Move
from domain.vocabulary import CASE_WORKING_KINDS, Category, LegalBasis, ReferralKind
from infrastructure.views import Views

SERVICES = [
    "cav-scirocco",
    "asst-rhodense",
    "ic-alessandrini",
    "pl-cesano",
    "ss-cesano",
    "afol-metropolitana",
]
CATEGORIES = sorted(Category)
KINDS = sorted(ReferralKind)
WORKING_KINDS = sorted(CASE_WORKING_KINDS)
INSTRUMENT = "rete-screening-v1"

_index = st.integers(0, 50)
_mask = st.integers(1, 255)
# Mostly broad consents, so that many referrals find one that covers them.
_kinds = st.one_of(st.just(63), st.integers(1, 63))
_categories = st.one_of(st.just(255), _mask)

_open = st.tuples(st.just("open"), _index)
_note = st.tuples(st.just("note"), _index, _index, st.booleans())
_consent = st.tuples(st.just("consent"), _index, _kinds, _categories, st.booleans())
_refer = st.tuples(
    st.just("refer"), _index, _index, _index, _mask, st.sampled_from([0, 0, 0, 1, 2])
)
_move = st.tuples(st.just("move"), _index, st.sampled_from(sorted(Move)), st.booleans())

# Mostly the daily work, now and then the rarer decisions (weights out of 40).
_WEIGHTED = [
    (3, _open),
    (4, _note),
    (4, _consent),
    (7, _refer),
    (7, _move),
    (1, st.tuples(st.just("withdraw"), _index, _index)),
    (2, st.tuples(st.just("assess"), _index, st.integers(0, 2047), st.booleans())),
    (2, st.tuples(st.just("hold"), _index, st.booleans())),
    (1, st.tuples(st.just("close"), _index)),
    (1, st.tuples(st.just("erase"), _index)),
    (3, st.tuples(st.just("advance"), st.integers(1, 30))),
    (2, st.tuples(st.just("escalate"))),
    (3, st.tuples(st.just("catch_up"))),
]
_BY_DRAW = [strategy for weight, strategy in _WEIGHTED for _ in range(weight)]
COMMAND = st.integers(0, len(_BY_DRAW) - 1).flatmap(lambda n: _BY_DRAW[n])

STORY = st.lists(COMMAND, min_size=15, max_size=45)


def story_settings(count: int) -> settings:
    """Settings of a property test telling ``count`` stories (scaled by the profile).
    Every example adds to the same database, so a shrunk story would not replay on
    its own: the failing one is reported as it came."""
    return settings(
        max_examples=examples(count),
        deadline=None,
        phases=[Phase.explicit, Phase.reuse, Phase.generate],
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


@dataclass
class Network:
    rete: Rete
    clock: TestClock
    views: Views
    cases: list[tuple[str, str]] = field(default_factory=list)  # (reference, owner)
    consents: dict[str, list[str]] = field(default_factory=dict)
    referrals: list[tuple[str, str, str]] = field(default_factory=list)  # (id, sender, to)
    refused: int = 0

    def run(self, commands: list[tuple[Any, ...]]) -> None:
        for name, *args in commands:
            try:
                getattr(self, f"_{name}")(*args)
            except DomainError:
                self.refused += 1

    def _case(self, index: int) -> tuple[str, str]:
        if not self.cases:
            self._open(index)
        return self.cases[index % len(self.cases)]

    def _open(self, service: int) -> None:
        owner = SERVICES[service % len(SERVICES)]
        self.cases.append((self.rete.cases.open(actor(self.rete, owner)).reference_code, owner))

    def _note(self, case: int, category: int, by_owner: bool) -> None:
        ref, owner = self._case(case)
        who = (
            owner
            if by_owner or not self.referrals
            else self.referrals[case % len(self.referrals)][2]
        )
        self.rete.cases.add_note(
            actor(self.rete, who), ref, CATEGORIES[category % len(CATEGORIES)], f"{MARKER} note"
        )

    def _consent(self, case: int, kinds: int, categories: int, expires: bool) -> None:
        ref, owner = self._case(case)
        consent = self.rete.cases.record_consent(
            actor(self.rete, owner),
            ref,
            recipient_kinds=[k for i, k in enumerate(WORKING_KINDS) if kinds >> i & 1],
            recipient_services=[],
            purposes=list(KINDS),
            categories_=[c for i, c in enumerate(CATEGORIES) if categories >> i & 1],
            expires_at=self.clock.at.replace(year=self.clock.at.year + 1) if expires else None,
        )
        self.consents.setdefault(ref, []).append(consent.id)

    def _withdraw(self, case: int, which: int) -> None:
        ref, owner = self._case(case)
        known = self.consents.get(ref) or ["none"]
        self.rete.cases.withdraw_consent(actor(self.rete, owner), ref, known[which % len(known)])

    def _refer(self, case: int, to: int, kind: int, scope: int, basis: int) -> None:
        consented = [c for c in self.cases if c[0] in self.consents]
        ref, owner = consented[case % len(consented)] if consented else self._case(case)
        others = [s for s in SERVICES if s != owner]
        recipient = others[to % len(others)]
        directory = self.rete.ctx.directory
        both = directory.service(recipient).visible_categories
        both &= directory.service(owner).visible_categories
        chosen = [c for i, c in enumerate(CATEGORIES) if scope >> i & 1 and c in both]
        legal_basis = sorted(LegalBasis)[basis]
        view = self.rete.referrals.refer(
            actor(self.rete, owner, "coordinator"),
            ref,
            recipient_service=recipient,
            kind=KINDS[kind % len(KINDS)],
            urgency=["routine", "urgent", "emergency"][kind % 3],
            reason=f"{MARKER} reason",
            scope=[str(c) for c in chosen or sorted(both)[:1] or [Category.IDENTITY]],
            legal_basis=legal_basis,
            statute="art. 331 c.p.p." if legal_basis == LegalBasis.LEGAL_OBLIGATION else None,
            justification=f"{MARKER} why" if legal_basis != LegalBasis.CONSENT else None,
        )
        self.referrals.append((view.id, owner, recipient))

    def _move(self, which: int, move: Move, by_recipient: bool) -> None:
        if not self.referrals:
            return
        referral_id, sender, recipient = self.referrals[which % len(self.referrals)]
        role = "coordinator" if move == Move.EXPIRE else "caseworker"
        who = recipient if by_recipient else sender
        reason = f"{MARKER} because" if move in (Move.DECLINE, Move.WITHDRAW) else None
        self.rete.referrals.move(actor(self.rete, who, role), referral_id, move, reason)

    def _assess(self, case: int, answers: int, raise_level: bool) -> None:
        ref, owner = self._case(case)
        items = self.rete.ctx.instrument(INSTRUMENT).items
        self.rete.cases.assess_risk(
            actor(self.rete, owner),
            ref,
            INSTRUMENT,
            {item.id: bool(answers >> i & 1) for i, item in enumerate(items)},
            "high" if raise_level else None,
            f"{MARKER} judgement" if raise_level else None,
        )

    def _hold(self, case: int, place: bool) -> None:
        ref, owner = self._case(case)
        coordinator = actor(self.rete, owner, "coordinator")
        if place:
            self.rete.cases.place_legal_hold(coordinator, ref, f"{MARKER} proceedings")
        else:
            self.rete.cases.lift_legal_hold(coordinator, ref)

    def _close(self, case: int) -> None:
        ref, owner = self._case(case)
        self.rete.cases.close(actor(self.rete, owner), ref)

    def _erase(self, case: int) -> None:
        ref, owner = self._case(case)
        self.rete.cases.erase(actor(self.rete, owner, "coordinator"), ref, "her request")

    def _advance(self, hours: int) -> None:
        self.clock.advance(hours=hours)

    def _escalate(self) -> None:
        Escalations(self.rete.ctx).run()

    def _catch_up(self) -> None:
        self.views.catch_up()
