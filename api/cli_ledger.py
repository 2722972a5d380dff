"""``rete ledger``: sign a checkpoint, export the log, verify it, show the integrity
alarms (docs/AUDIT.md).

``verify`` exits 0 when everything holds and 1 with the first bad leaf and the
reason otherwise; ``checkpoint`` exits 1 without signing while an alarm about the
log stands; ``alarms`` exits 1 while any alarm stands. Other failures (a bad
setting, an unreadable key, a database that does not answer) also exit 1 with
one line on stderr.
"""

from __future__ import annotations

import base64
import os
from contextlib import AbstractContextManager
from pathlib import Path

import click

from api.cli_common import command_settings, progress
from api.cli_errors import expected_errors
from infrastructure.bootstrap import ledger_tables, signing_ledger
from infrastructure.ledger.alarms import StoredAlarms
from infrastructure.ledger.checkpoints import LedgerInconsistent, NothingToSign
from infrastructure.ledger.export import ExportError, export_log
from infrastructure.ledger.export_reader import export_key, verify_export
from infrastructure.ledger.findings import VerificationFailed
from infrastructure.ledger.note import Verifier
from infrastructure.ledger.signing import SigningKeyError, parse_verifier_keys, read_signer
from infrastructure.ledger.verification import VerifySummary, verify_live
from infrastructure.settings import Settings


def _expected_errors() -> AbstractContextManager[None]:
    return expected_errors(SigningKeyError, ExportError, LedgerInconsistent)


@click.group()
def ledger() -> None:
    """The tamper-evident history: checkpoints, export and verification."""


@ledger.command()
def checkpoint() -> None:
    """Catch up with the log and sign a checkpoint of it (printed on stdout)."""
    with _expected_errors():
        settings = command_settings()
        try:
            with signing_ledger(settings) as opened:
                outcome = opened.sign_checkpoint()
        except NothingToSign as e:
            click.echo(str(e), err=True)
            return
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
        settings = command_settings()
        verifier = read_signer(settings.ledger_signing_key_file, settings.ledger_origin).verifier()
        with ledger_tables(settings) as tables, progress("exporting") as update:
            summary = export_log(tables, verifier, directory, update)
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
                with progress("verifying") as update:
                    summary = verify_export(directory, verifiers, external, update)
            else:
                settings = command_settings()
                verifiers = _keys(keys, settings, None)
                with ledger_tables(settings) as tables, progress("verifying") as update:
                    summary = verify_live(
                        tables,
                        verifiers,
                        settings.ledger_origin,
                        external,
                        update,
                        jobs=jobs,
                    )
    except VerificationFailed as failure:
        click.echo(f"FAILED: {failure}", err=True)
        raise SystemExit(1) from None
    _report(summary)


@ledger.command()
@click.option(
    "--clear",
    is_flag=True,
    help="Forget the stored alarms, once the log was repaired and verifies; then restart "
    "every server process.",
)
def alarms(clear: bool) -> None:
    """The integrity alarms standing for every process (a tampered log, an altered view)."""
    with _expected_errors():
        settings = command_settings()
        with ledger_tables(settings) as tables:
            stored = StoredAlarms(tables.database)
            if clear:
                cleared = stored.clear()
                click.echo(
                    f"Cleared {cleared} alarm(s): restart every server process to forget them."
                )
                return
            found = stored.all()
    if not found:
        click.echo("No integrity alarm stands.")
        return
    for alarm in found:
        click.echo(f"{alarm.at.isoformat()} {alarm.kind}: {alarm.detail}")
    raise SystemExit(1)


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
