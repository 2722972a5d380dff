"""What every ``rete`` command shares: its settings, a progress bar on stderr, and
the loop of a process that follows the log until it is stopped."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

from api.cli_errors import expected_errors
from api.cli_waiting import until_the_database_answers
from application.rete import Rete
from domain import errors
from domain.network import Actor
from domain.vocabulary import Role, ServiceKind
from infrastructure.bootstrap import prepare_keys
from infrastructure.dev_secret import DevSecret
from infrastructure.logging import configure_logging
from infrastructure.settings import Settings, load_settings

_stderr = Console(stderr=True)


def announce_dev_secret(secret: DevSecret) -> None:
    """Say on stderr when a development JWT secret was just created."""
    if secret.created:
        click.echo(
            f"Created a DEVELOPMENT JWT secret in {secret.path} (not for production).",
            err=True,
        )


def command_settings() -> Settings:
    """The settings from the environment, with logging configured as they say."""
    settings = load_settings()
    configure_logging(settings.log_format)
    return settings


def operator_as(
    rete: Rete, user_id: str, kind: ServiceKind, role: Role, service_id: str | None
) -> Actor:
    """The operator at the terminal, acting in ``role`` for the network's one service
    of ``kind`` (or the one named, where the network has several)."""
    directory = rete.directory
    if service_id is None:
        services = directory.of_kind(kind)
        if len(services) != 1:
            raise errors.UnknownService(f"name the {kind.value} service with --service")
        service_id = services[0].id
    return Actor(user_id, directory.service(service_id), frozenset({role}))


@contextmanager
def progress(what: str) -> Iterator[Callable[[int, int], None]]:
    """A progress bar on stderr; call what it yields with (reached, total)."""
    columns = (*Progress.get_default_columns()[:1], BarColumn(), MofNCompleteColumn())
    with Progress(*columns, TimeRemainingColumn(), console=_stderr, transient=False) as bar:
        task = bar.add_task(what, total=None)
        yield lambda reached, total: bar.update(task, completed=reached, total=total)


def run_until_stopped(follow: Callable[[threading.Event], None]) -> None:
    """Run ``follow`` (a process that follows the log: ``rete views run``, ``rete
    notify run``) until SIGTERM or Ctrl-C. Started before its database, or while it
    restarts or is full, it waits, saying why (api/cli_waiting), rather than exit.
    What was in flight when stopped is done again by the next run."""
    stop = threading.Event()

    def on_signal(number: int, frame: FrameType | None) -> None:
        stop.set()  # and interrupt whatever it waits for, as Ctrl-C does
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, on_signal)
    try:
        with expected_errors():
            settings = command_settings()
            # A KEK that is not this database's stops it here, in one line.
            until_the_database_answers(settings, lambda: prepare_keys(settings))
        follow(stop)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
    click.echo("Stopped.", err=True)


def poll_option(default: float, help: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """The ``--poll`` of a following process: seconds between its rounds."""
    return click.option(
        "--poll",
        type=click.FloatRange(0.05, 60),
        default=default,
        show_default=True,
        help=help,
    )
