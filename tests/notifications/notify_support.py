"""What the notifications' tests share (a module of its own: every test folder has
a ``conftest``, so importing from one by name is ambiguous in the whole suite)."""

from __future__ import annotations

from webhook_receiver import Receiver

from application.notifications.announcement import KINDS
from application.rete import Rete
from domain.network import Actor
from infrastructure.notifications.config import NotifySettings
from infrastructure.notifications.worker import Notifier, NotifyWorker

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
