"""``rete views``: follow the log, rebuild or check the views, show how far they are.

Expected failures (a bad setting, an unreadable KEK, a database that does not
answer, an unknown view) end with one line on stderr and exit code 1.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import click

from api.cli_common import command_settings, poll_option, progress, run_until_stopped
from api.cli_errors import expected_errors
from infrastructure.bootstrap import operated_views
from infrastructure.views import Views
from infrastructure.views.follow import Follower
from infrastructure.views.projection import VIEW_NAMES, UnknownView
from infrastructure.views.rebuild_workers import RebuildFailed, default_jobs
from infrastructure.views.rows import RowAltered


@contextmanager
def _opened() -> Iterator[tuple[Views, str]]:
    """The views on the configured database (and its event store), and its URL."""
    with expected_errors(UnknownView, RowAltered, RebuildFailed):
        settings = command_settings()
        with operated_views(settings) as views:
            yield views, settings.database_url


_NAMES = click.Choice(VIEW_NAMES)

# One process per core by default, each with its part of the log, but none with
# fewer than 5,000 records (docs/VIEWS.md, "Rebuilding across processes").
_JOBS = click.option(
    "--jobs",
    type=click.IntRange(1, 256),
    default=None,
    help="Processes that fill the rebuilt views, each its part of the log "
    "[default: one per core, at least 5,000 records each].",
)


def _jobs(views: Views, asked: int | None) -> int:
    return asked if asked is not None else default_jobs(views.runner.head())


@click.group()
def views() -> None:
    """The views the API reads: each service's cases and referrals (docs/VIEWS.md)."""


@views.command()
@click.argument("names", nargs=-1, type=_NAMES)
@_JOBS
def rebuild(names: tuple[str, ...], jobs: int | None) -> None:
    """Rebuild views from the log (all, or the NAMES given), beside the live ones.

    The live views keep serving until the rebuilt ones replace them, in one
    transaction. Safe to interrupt: the live views stay as they were.
    """
    with _opened() as (opened, _), progress("rebuilding from the log") as update:
        position = opened.rebuild(list(names), update)
    click.echo(f"Rebuilt {', '.join(names or VIEW_NAMES)} up to position {position} of the log.")


@views.command()
@click.argument("names", nargs=-1, type=_NAMES)
@_JOBS
def check(names: tuple[str, ...], jobs: int | None) -> None:
    """Rebuild views aside and compare them row by row with the live ones (exit 1 if
    they differ). Nothing is replaced."""
    with _opened() as (opened, _), progress("rebuilding aside") as update:
        differences = opened.check(list(names), update, _jobs(opened, jobs))
    for d in differences:
        click.echo(
            f"DIFFERS: {d.table}: {d.live_rows} live rows, {d.rebuilt_rows} rebuilt, "
            f"{d.differing} not alike",
            err=True,
        )
    if differences:
        raise SystemExit(1)
    click.echo(f"OK: {', '.join(names or VIEW_NAMES)} equal what the log rebuilds.")


@views.command()
def status() -> None:
    """How far each view has followed the log."""
    with _opened() as (opened, _):
        head = opened.runner.head()
        with opened.tables.read() as tx:
            positions = opened.runner.views.positions(tx)
    for name, position in positions.items():
        click.echo(f"{name}: position {position} of {head}")


@views.command()
@poll_option(1.0, "Seconds between checks when no notification arrives.")
def run(poll: float) -> None:
    """Follow the log and keep the views up to date, until interrupted.

    On PostgreSQL it wakes on the event store's NOTIFY (and polls as a fallback);
    run one or more next to the API workers. On SQLite it polls (the API keeps
    the views up to date in-process anyway).
    """

    def follow(stop: threading.Event) -> None:
        # The batch in flight when stopped rolls back; the next run resumes after it.
        with _opened() as (opened, url):
            click.echo("Following the log; Ctrl-C or SIGTERM to stop.", err=True)
            Follower(opened, url, poll).run(stop)

    run_until_stopped(follow)
