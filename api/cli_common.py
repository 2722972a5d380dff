"""What every ``rete`` command shares: its settings, and a progress bar on stderr."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

from application.rete import Rete
from domain import errors
from domain.network import Actor
from domain.vocabulary import Role, ServiceKind
from infrastructure.logging import configure_logging
from infrastructure.settings import Settings, load_settings

_stderr = Console(stderr=True)


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
