"""What the notifications' tests share (a module of its own: every test folder has
a ``conftest``, so importing from one by name is ambiguous in the whole suite)."""

from __future__ import annotations

from pathlib import Path

from support.clock import TestClock
from support.private_postgres import PrivateCluster
from webhook_receiver import Receiver

from application.notifications.announcement import KINDS
from application.rete import Rete
from domain.network import Actor
from infrastructure.bootstrap import build_rete
from infrastructure.notifications.worker import Notifier, NotifyWorker
from infrastructure.settings import NotifySettings, Settings, load_settings

# No worker thread in the tests' applications: a test runs ``notifier.step()``.
QUIET = NotifySettings(interval_seconds=0)


def subscribe(
    rete: Rete, coordinator: Actor, receiver: Receiver, kinds: list[str] | None = None
) -> str:
    """Subscribe the receiver for every kind (or ``kinds``); it learns the secret."""
    made = rete.notifications.subscribe(coordinator, receiver.url, kinds or list(KINDS))
    receiver.secrets.append(made.secret)
    return made.id


def notifier_of(rete: Rete) -> Notifier:
    """The application's notifier (its worker's rounds are the test's to run)."""
    return next(w.notifier for w in rete.background if isinstance(w, NotifyWorker))


def rete_on_a_private_cluster(
    cluster: PrivateCluster, var_dir: Path, clock: TestClock, **environment: str
) -> tuple[Settings, Rete]:
    """The application on a database of its own in ``cluster`` (a test that stops and
    starts the database), with the settings it was built from (``environment``
    added); the caller closes it."""
    settings = load_settings(
        {
            "RETE_DATABASE_URL": cluster.create_database("rete"),
            "RETE_VAR_DIR": str(var_dir),
            "RETE_CHECKPOINT_INTERVAL": "0",
            **environment,
        }
    )
    return settings, build_rete(settings, clock=clock, notify=QUIET)
