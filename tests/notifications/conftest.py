"""The notifications' fixtures: the application with its notifier driven by the test
(no background thread: each test runs the worker's rounds when it means to)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from types import SimpleNamespace

import pytest
from notify_support import QUIET
from support.clock import TestClock
from support.closing import closing_all
from webhook_receiver import Receiver, receiving

from application.rete import Rete
from infrastructure.bootstrap import build_rete
from infrastructure.settings import Settings


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
