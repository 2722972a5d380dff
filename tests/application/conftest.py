"""The application on a real database, built the way the server builds it.

``make_rete`` builds an application from settings (``load_settings`` and
``build_rete``) on the test's backend; calling it again builds another
instance on the same database: a restarted process, or a second worker.
Every instance is closed at the end of the test.

The clock is the tests' own (it implements ``application.ports.Clock``). It can
also run something the moment the application asks for the time: every use
case asks once, after loading and before saving, which is exactly where a
second writer can get in between.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from application.rete import Rete
from infrastructure.bootstrap import build_rete
from infrastructure.settings import load_settings

MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class TestClock:
    """A clock the test sets. At its next reading it may first run ``meanwhile``
    actions, or wait at a ``barrier`` until other threads' clocks are read too."""

    __test__ = False

    def __init__(self, at: datetime = MONDAY) -> None:
        self.at = at
        self._meanwhile: list[Callable[[], object]] = []
        self.barrier: threading.Barrier | None = None

    def now(self) -> datetime:
        if self._meanwhile:
            self._meanwhile.pop(0)()
        if self.barrier is not None:
            barrier, self.barrier = self.barrier, None  # once: retries do not wait again
            barrier.wait(timeout=30)
        return self.at

    def advance(self, **delta: float) -> datetime:
        self.at += timedelta(**delta)
        return self.at

    def meanwhile(self, action: Callable[[], object]) -> None:
        """Run ``action`` when the application next asks the time (between load and save)."""
        self._meanwhile.append(action)


def settings_env(backend: dict[str, str], var_dir: str, **extra: str) -> dict[str, str]:
    """The RETE_* variables for ``backend``: PostgreSQL's schema goes in the URL's query."""
    url = backend["RETE_DATABASE_URL"]
    return {"RETE_DATABASE_URL": url, "RETE_VAR_DIR": var_dir, **extra}


@pytest.fixture
def clock() -> TestClock:
    return TestClock()


@pytest.fixture
def another_clock(clock: TestClock) -> Callable[[], TestClock]:
    """Another process's clock, showing the same time as the test's."""
    return lambda: TestClock(clock.at)


@pytest.fixture
def make_rete(backend: dict[str, str], tmp_path, clock: TestClock) -> Iterator[Callable[..., Rete]]:
    built: list[Rete] = []

    def make(clock_: TestClock | None = None, **extra: str) -> Rete:
        env = settings_env(backend, str(tmp_path / "var"), **extra)
        rete = build_rete(load_settings(env), clock=clock_ or clock)
        built.append(rete)
        return rete

    yield make
    for rete in built:
        rete.close()


@pytest.fixture
def rete(make_rete: Callable[..., Rete]) -> Rete:
    return make_rete()


@pytest.fixture
def people(rete: Rete):
    """The people of the network who act in these stories, by nickname."""
    who = {
        "anna": ("cav-scirocco", ["caseworker"]),
        "chiara": ("cav-scirocco", ["coordinator"]),
        "bea": ("ss-cesano", ["caseworker"]),
        "bruna": ("ss-cesano", ["coordinator"]),
        "paolo": ("pl-cesano", ["caseworker"]),
        "marta": ("asst-rhodense", ["caseworker"]),
    }
    return SimpleNamespace(
        **{name: rete.ctx.identify(name, sid, roles) for name, (sid, roles) in who.items()}
    )


@pytest.fixture
def consented_case(rete: Rete, people) -> tuple[str, str]:
    """Anna at the CAV opens a case, writes what happened, and records what she agreed to:
    social services and the police may receive her identity, safety and the violence."""
    case = rete.cases.open(people.anna)
    rete.cases.add_note(people.anna, case.reference_code, "violence", "what she told us")
    consent = rete.cases.record_consent(
        people.anna,
        case.reference_code,
        recipient_kinds=["social_services", "police"],
        recipient_services=[],
        purposes=["social_support", "shelter", "protection_measures"],
        categories_=["identity", "safety", "violence"],
        expires_at=None,
    )
    return case.reference_code, consent.id


def refer(rete: Rete, actor, case_ref: str, to: str = "ss-cesano", **overrides):
    """A referral on consent with ordinary terms; each story changes what it needs."""
    terms = dict(
        recipient_service=to,
        kind="social_support",
        urgency="routine",
        reason="she needs a safe place to live",
        scope=["identity", "violence"],
        legal_basis="consent",
    )
    terms.update(overrides)
    return rete.referrals.refer(actor, case_ref, **terms)


@pytest.fixture
def send():
    """``send(rete, actor, case_ref, to=..., **terms)``: see ``refer``."""
    return refer
