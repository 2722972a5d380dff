"""What every ``rete`` command shares: its settings, and a progress bar on stderr."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

from infrastructure.logging import configure_logging
from infrastructure.settings import Settings, load_settings

_stderr = Console(stderr=True)


def command_settings() -> Settings:
    """The settings from the environment, with logging configured as they say."""
    settings = load_settings()
    configure_logging(settings.log_format)
    return settings


@contextmanager
def progress(what: str) -> Iterator[Callable[[int, int], None]]:
    """A progress bar on stderr; call what it yields with (reached, total)."""
    columns = (*Progress.get_default_columns()[:1], BarColumn(), MofNCompleteColumn())
    with Progress(*columns, TimeRemainingColumn(), console=_stderr, transient=False) as bar:
        task = bar.add_task(what, total=None)
        yield lambda reached, total: bar.update(task, completed=reached, total=total)
