"""``rete ledger``: sign a checkpoint, export the log, verify it (docs/AUDIT.md).

``verify`` exits 0 when everything holds and 1 with the first bad leaf and the
reason otherwise; other failures (a bad setting, an unreadable key, a database
that does not answer) also exit 1 with one line on stderr.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

from api.cli_errors import expected_errors
from infrastructure.db import database_of
from infrastructure.ledger.checkpoints import LedgerInconsistent, NothingToSign
from infrastructure.ledger.db import LedgerTables, open_tables
from infrastructure.ledger.export import ExportError, export_log
from infrastructure.ledger.export_reader import export_key, verify_export
from infrastructure.ledger.findings import VerificationFailed
from infrastructure.ledger.ledger import open_ledger
from infrastructure.ledger.note import Verifier
from infrastructure.ledger.records import events_table, open_event_log
from infrastructure.ledger.signing import SigningKeyError, parse_verifier_keys, read_signer
from infrastructure.ledger.verification import VerifySummary, verify_live
from infrastructure.logging import configure_logging
from infrastructure.settings import Settings, load_settings

_stderr = Console(stderr=True)


def _expected_errors() -> AbstractContextManager[None]:
    return expected_errors(SigningKeyError, ExportError, LedgerInconsistent)


def _settings() -> Settings:
    settings = load_settings()
    configure_logging(settings.log_format)
    return settings


@contextmanager
def _tables(settings: Settings) -> Iterator[LedgerTables]:
    """The ledger's tables, without the signing key (reading needs only the public one)."""
    log = open_event_log(settings)
    try:
        tables = open_tables(database_of(log.recorder), events_table(log.recorder))
        try:
            yield tables
        finally:
            tables.close()
    finally:
        log.close()


@contextmanager
def _progress(what: str) -> Iterator[Progress]:
    columns = (*Progress.get_default_columns()[:1], BarColumn(), MofNCompleteColumn())
    with Progress(*columns, TimeRemainingColumn(), console=_stderr, transient=False) as bar:
        bar.add_task(what, total=None)
        yield bar


def _updater(bar: Progress) -> Callable[[int, int], None]:
    task = bar.tasks[0].id
    return lambda done, total: bar.update(task, completed=done, total=total)


@click.group()
def ledger() -> None:
    """The tamper-evident history: checkpoints, export and verification."""


@ledger.command()
def checkpoint() -> None:
    """Catch up with the log and sign a checkpoint of it (printed on stdout)."""
    with _expected_errors():
        settings = _settings()
        log = open_event_log(settings)
        try:
            with open_ledger(settings, log.recorder) as opened:
                outcome = opened.sign_checkpoint()
        except NothingToSign as e:
            click.echo(str(e), err=True)
            return
        finally:
            log.close()
    size = outcome.checkpoint.size
    if outcome.new:
        click.echo(f"Signed a checkpoint of the first {size} records.", err=True)
    else:
        click.echo(f"The log has not grown: the checkpoint at size {size} is the latest.", err=True)
    click.echo(outcome.checkpoint.note.decode("utf-8"), nl=False)


@ledger.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def export(directory: Path) -> None:
    """Write the log (stored bytes, never plaintext), every checkpoint and the public key."""
    with _expected_errors():
        settings = _settings()
        verifier = read_signer(settings.ledger_signing_key_file, settings.ledger_origin).verifier()
        with _tables(settings) as tables, _progress("exporting") as bar:
            summary = export_log(tables, verifier, directory, _updater(bar))
    click.echo(
        f"Exported {summary.records} records and {summary.checkpoints} checkpoint(s) to {directory}."
    )
    click.echo(f"Public key: {verifier.to_key_string()}")


def _keys(
    keys: tuple[str, ...], settings: Settings | None, directory: Path | None
) -> list[Verifier]:
    if keys:
        return parse_verifier_keys(list(keys))
    if directory is not None:
        key = export_key(directory)
        click.echo(
            f"Trusting the key in the export, {key.to_key_string()}: check that it is the one "
            "you received out of band, or pass it with --key.",
            err=True,
        )
        return [key]
    assert settings is not None
    return [read_signer(settings.ledger_signing_key_file, settings.ledger_origin).verifier()]


@ledger.command()
@click.argument(
    "directory", required=False, type=click.Path(exists=True, file_okay=False, path_type=Path)
)
@click.option("--key", "keys", multiple=True, help="Verifier key string, or a file holding one.")
@click.option(
    "--checkpoint",
    "published",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A checkpoint received outside the system (e-mail, witness): the log must match it.",
)
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    default=lambda: os.cpu_count() or 1,
    show_default="the number of CPUs",
    help="Processes verifying the live database (1: this one only). Exports use one.",
)
def verify(
    directory: Path | None, keys: tuple[str, ...], published: tuple[Path, ...], jobs: int
) -> None:
    """Verify the live database, or an export DIRECTORY offline with only the public key."""
    external = [(f"the checkpoint in {path.name}", path.read_bytes()) for path in published]
    try:
        with _expected_errors():
            if directory is not None:
                verifiers = _keys(keys, None, directory)
                with _progress("verifying") as bar:
                    summary = verify_export(directory, verifiers, external, _updater(bar))
            else:
                settings = _settings()
                verifiers = _keys(keys, settings, None)
                with _tables(settings) as tables, _progress("verifying") as bar:
                    summary = verify_live(
                        tables,
                        verifiers,
                        settings.ledger_origin,
                        external,
                        _updater(bar),
                        jobs=jobs,
                    )
    except VerificationFailed as failure:
        click.echo(f"FAILED: {failure}", err=True)
        raise SystemExit(1) from None
    _report(summary)


def _report(summary: VerifySummary) -> None:
    latest = summary.latest
    if latest is None:
        click.echo(f"OK: {summary.records} records; no checkpoint signed yet, nothing proven.")
        return
    root = base64.b64encode(latest.root).decode("ascii")
    click.echo(
        f"OK: {summary.records} records, {summary.checkpoints} checkpoint(s) verified; "
        f"latest {latest.label}, root {root}."
    )
    if summary.uncovered:
        click.echo(
            f"{summary.uncovered} records after the latest checkpoint match the ledger "
            "but no signature covers them yet."
        )
