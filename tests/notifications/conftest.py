"""The notifications' fixtures: the application with its notifier driven by the test
(no background thread: each test runs the worker's rounds when it means to)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from types import SimpleNamespace

import pytest
from support.clock import TestClock
from support.closing import closing_all
from webhook_receiver import Receiver, receiving

from application.rete import Rete
from domain.network import Actor
from infrastructure.bootstrap import build_rete
from infrastructure.notifications.config import NotifySettings
from infrastructure.notifications.worker import Notifier, NotifyWorker
from infrastructure.settings import Settings

# No worker thread in the tests' applications: a test runs ``notifier.step()``.
QUIET = NotifySettings(interval_seconds=0)


@pytest.fixture
def make_rete(
    settings_for: Callable[..., Settings], clock: TestClock
) -> Iterator[Callable[..., Rete]]:
    def make(clock_: TestClock | None = None, **extra: str) -> Rete:
        return build_rete(settings_for(**extra), clock=clock_ or clock, notify=QUIET)

    with closing_all(make) as made:
        yield made


@pytest.fixture
def police(rete: Rete) -> SimpleNamespace:
    """The police's coordinator (manages its subscriptions) and a caseworker."""
    return SimpleNamespace(
        pia=rete.identify("pia", "pl-cesano", ["coordinator"]),
        paolo=rete.identify("paolo", "pl-cesano", ["caseworker"]),
    )


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving(Receiver()) as r:
        yield r


def subscribe(
    rete: Rete, coordinator: Actor, receiver: Receiver, kinds: list[str] | None = None
) -> str:
    """Subscribe the receiver for every kind (or ``kinds``); it learns the secret."""
    from application.notifications.announcement import KINDS

    made = rete.notifications.subscribe(coordinator, receiver.url, kinds or list(KINDS))
    receiver.secrets.append(made.secret)
    return made.id


def notifier_of(rete: Rete) -> Notifier:
    """The application's notifier (its worker's rounds are the test's to run)."""
    return next(w.notifier for w in rete.background if isinstance(w, NotifyWorker))
