"""The application's rules in memory: the same stories as on the databases, over the
in-memory adapters (``support.memory``), in milliseconds.

The fixtures below replace ``make_rete`` (and so ``rete`` and ``people``): every
application of a test shares one in-memory event store, as workers share a
database; nothing asks for a ``backend``. The tests are imported from the modules
that run them on SQLite and PostgreSQL, so each story is written once and asserts
the same in both places; those modules stay the integration tests of the adapters.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from support.clock import TestClock
from support.memory import memory_rete
from support.memory.store import memory_store
from test_concurrent_writers import *  # noqa: F403
from test_consent_expiry import *  # noqa: F403
from test_escalation import *  # noqa: F403
from test_referral_boxes import *  # noqa: F403
from test_referral_story import *  # noqa: F403
from test_visibility_matrix import *  # noqa: F403
from test_withdrawing_consent import *  # noqa: F403

from application.rete import Rete


@pytest.fixture
def make_rete(clock: TestClock) -> Iterator[Callable[..., Rete]]:
    """``make_rete(clock_=None)``: another application on the test's in-memory store."""
    store = memory_store()

    def make(clock_: TestClock | None = None) -> Rete:
        return memory_rete(clock_ or clock, store)

    yield make
    store.close()
