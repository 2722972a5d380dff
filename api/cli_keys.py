"""``rete keys``: rotate and rewrap the KEK, complete erasures, show where keys and
erasures stand (docs/ENCRYPTION.md). Failures a user can fix exit 1 with one line."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click

from api.cli_common import command_settings
from api.cli_errors import expected_errors
from application.erasures import WAITING_FOR_KEK, WAITING_FOR_LOG, Erasure
from application.ports import SYSTEM_SCOPE
from infrastructure.bootstrap import key_operations
from infrastructure.crypto.kek import Keyring
from infrastructure.crypto.keystore import SqlKeyStore

_WAITING = {
    WAITING_FOR_LOG: "the write-ahead log (a reader holds it; folding is retried)",
    WAITING_FOR_KEK: "KEK version(s) up to v{kek} still held: run `rete keys retire`",
}


@click.group()
def keys() -> None:
    """Operate the encryption keys (see docs/ENCRYPTION.md)."""


@contextmanager
def _key_operations() -> Iterator[tuple[Keyring, SqlKeyStore]]:
    """The configured KEK and the data-key store, for one key operation."""
    with expected_errors(), key_operations(command_settings()) as (kek, store):
        yield kek, store


@keys.command()
@click.option(
    "--system",
    is_flag=True,
    help="Also start a new system data key; the old ones stay for reading.",
)
def rotate(system: bool) -> None:
    """Add a new key-encryption key and rewrap every data key under it.

    No event is rewritten. Afterwards the old KEK version opens nothing: once
    no backup needs it, it can be removed from the key file.
    """
    with _key_operations() as (kek, store):
        version = kek.rotate()
        rewrapped = store.rewrap_all(kek)
        if system:
            store.rotate_data_key(SYSTEM_SCOPE)
        in_use = store.kek_versions_in_use()
    click.echo(f"KEK version {version} is now primary; {rewrapped} data keys rewrapped.")
    if system:
        click.echo("A new system key seals from now on; the older ones still open.")
    click.echo("Data keys by KEK version: " + _versions(in_use))


@keys.command()
def rewrap() -> None:
    """Rewrap every data key under the primary KEK version (after changing RETE_KEK)."""
    with _key_operations() as (kek, store):
        rewrapped = store.rewrap_all(kek)
        in_use = store.kek_versions_in_use()
    click.echo(f"{rewrapped} data keys rewrapped under KEK version {kek.primary_version()}.")
    click.echo("Data keys by KEK version: " + _versions(in_use))


@keys.command()
def retire() -> None:
    """Complete pending erasures: fold the write-ahead log again, and retire the KEK.

    Rotates the KEK, rewraps every data key under the new version, and destroys
    every older version in the key file, so that no copy of an erased case's key
    (in a log, the database's free pages, or a backup) can be unwrapped again.
    Copy the key file to where its backups are kept afterwards: old copies hold
    the retired versions, and must be destroyed too.
    """
    with _key_operations() as (kek, store):
        pending = [e for e in store.erasures() if e.completed_at is None]
        retired = store.retire_kek() if pending else []
        erasures = store.complete_erasures(retire_kek=False)
    if retired:
        click.echo(
            f"KEK version {kek.primary_version()} is now primary; retired: "
            + ", ".join(f"v{v}" for v in retired)
            + ". Replace every copy of the key file with this one."
        )
    elif not pending:
        click.echo("No erasure is pending: nothing to retire.")
    _report(erasures)


@keys.command()
def status() -> None:
    """KEK versions, the data keys under each, and every erasure with its times."""
    with _key_operations() as (kek, store):
        in_use = store.kek_versions_in_use()
        erasures = store.erasures()
    click.echo(f"Primary KEK version: {kek.primary_version()}; known: {list(kek.versions())}")
    click.echo("Data keys by KEK version: " + _versions(in_use))
    _report(erasures)


def _report(erasures: list[Erasure]) -> None:
    pending = [e for e in erasures if e.completed_at is None]
    click.echo(f"Erasures: {len(erasures) - len(pending)} complete, {len(pending)} pending")
    for e in erasures:
        line = f"  case {e.case_id}: erased {e.erased_at.isoformat()}, "
        if e.completed_at is not None:
            line += f"complete {e.completed_at.isoformat()}"
        else:
            waits = "; ".join(_WAITING[w].format(kek=e.kek_version) for w in e.waiting_for)
            line += f"pending: waits for {waits}"
        click.echo(line)


def _versions(in_use: dict[int, int]) -> str:
    return ", ".join(f"v{v}: {n}" for v, n in sorted(in_use.items())) or "none yet"
