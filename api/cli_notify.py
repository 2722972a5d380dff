"""``rete notify``: the notifications' worker as a process of its own, and its state.

``rete notify run`` derives announcements from the log, announces approaching
deadlines and delivers the webhooks, until interrupted (SIGTERM or Ctrl-C). Run
it next to the API workers on PostgreSQL (like ``rete views run``); on SQLite the
server runs the same worker in-process. Killed at any moment (SIGKILL too), it
loses nothing: the next one resumes from the database (docs/NOTIFICATIONS.md).
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import click

from api.cli_common import command_settings, poll_option, run_until_stopped
from api.cli_errors import expected_errors
from infrastructure.bootstrap import build_store
from infrastructure.clock import SystemClock
from infrastructure.db import database_of
from infrastructure.db.listening import wake_on_appends
from infrastructure.notifications.assembly import NotificationParts, open_notifications
from infrastructure.notifications.email import email_channels
from infrastructure.settings import SettingsError


@contextmanager
def _opened(interval: float, *, woken: bool = False) -> Iterator[NotificationParts]:
    """The notifications' parts; ``woken``: on PostgreSQL, the worker is woken by
    each append to the log as it commits (a connection of its own listens), so an
    announcement goes out at once rather than at the worker's next round."""
    with expected_errors(SettingsError):
        settings = command_settings()
    with contextlib.closing(build_store(settings)) as store:
        parts = open_notifications(
            database_of(store.recorder),
            store.recorder,
            store.keys,
            SystemClock(),
            dataclasses.replace(settings.notify, interval_seconds=interval),
            channels=email_channels(settings),
        )
        channel = getattr(store.recorder, "channel_name", None)
        done = threading.Event()
        hearing = None
        if woken and isinstance(channel, str):
            hearing = threading.Thread(
                target=wake_on_appends,
                args=(settings.database_url, channel, parts.worker.nudge, done),
                name="rete-notify-appends",
                daemon=True,
            )
            hearing.start()
        try:
            yield parts
        finally:
            done.set()
            if hearing is not None:
                hearing.join(timeout=5)
            parts.close()


@click.group()
def notify() -> None:
    """Announcements to the services: webhooks, their retries and dead letters."""


@notify.command()
@poll_option(0.5, "Seconds between rounds when nothing wakes it (on PostgreSQL, each append does).")
def run(poll: float) -> None:
    """Derive, announce and deliver until interrupted (SIGTERM or Ctrl-C)."""

    def deliver(stop: threading.Event) -> None:
        # What was in flight is tried again by the next run (at least once).
        with _opened(poll, woken=True) as parts:
            click.echo("Delivering announcements; Ctrl-C or SIGTERM to stop.", err=True)
            parts.worker.run(stop)

    run_until_stopped(deliver)


@notify.command()
def status() -> None:
    """How far the outbox follows the log, and the deliveries by state."""
    with expected_errors(), _opened(0) as parts:
        parts.notifier.follower.catch_up()
        counts = parts.deliveries.counts()
        latest = parts.outbox.latest_position()
    click.echo(f"outbox: {latest} announcements")
    for state in ("pending", "delivered", "dead"):
        click.echo(f"{state}: {counts.get(state, 0)}")
