"""The application on a real database, built the way the server builds it.

The shared fixtures (``tests/conftest.py``) give ``make_rete``, which builds an
application from settings on the test's backend (calling it again builds another
instance on the same database: a restarted process, or a second worker), the
tests' clock (``support.clock.TestClock``) and the ``people`` of the network.
Here: one consented case (and one with a referral acknowledged), and ``send``, a referral with ordinary terms
(``support.stories.refer``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from support.clock import TestClock
from support.stories import record_consent, refer

from application.rete import Rete
from domain.referral import Move


@pytest.fixture
def another_clock(clock: TestClock) -> Callable[[], TestClock]:
    """Another process's clock, showing the same time as the test's."""
    return lambda: TestClock(clock.at)


@pytest.fixture
def consented_case(rete: Rete, people) -> tuple[str, str]:
    """Anna at the CAV opens a case, writes what happened, and records what she agreed to:
    social services and the police may receive her identity, safety and the violence."""
    case = rete.cases.open(people.anna)
    rete.cases.add_note(people.anna, case.reference_code, "violence", "what she told us")
    consent = record_consent(
        rete,
        people.anna,
        case.reference_code,
        kinds=["social_services", "police"],
        purposes=["social_support", "shelter", "protection_measures"],
        categories=["identity", "safety", "violence"],
    )
    return case.reference_code, consent.id


@pytest.fixture
def send():
    """``send(rete, actor, case_ref, to=..., **terms)``: see ``refer``."""
    return refer


@pytest.fixture
def acknowledged(rete: Rete, people, consented_case: tuple[str, str]) -> tuple[str, str, Any]:
    """The consented case, its consent, and a referral of it to social services,
    acknowledged by Bea there."""
    ref, consent_id = consented_case
    referral = refer(rete, people.anna, ref)
    rete.referrals.move(people.bea, referral.id, Move.ACKNOWLEDGE)
    return ref, consent_id, referral


@pytest.fixture
def refer_meanwhile(rete: Rete, make_rete, people) -> Callable[..., list[Any]]:
    """``refer_meanwhile(case_ref, **terms)``: another desk sends Anna's referral of
    the case while the test's next write is between its load and its save. Returns
    the list the referral is in once sent."""

    def arrange(case_ref: str, **terms: Any) -> list[Any]:
        other_desk = make_rete()
        sent: list[Any] = []
        rete.ctx.clock.meanwhile(
            lambda: sent.append(refer(other_desk, people.anna, case_ref, **terms))
        )
        return sent

    return arrange
