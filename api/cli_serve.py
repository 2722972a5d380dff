"""``rete serve``: the HTTP API, once what every worker will load has been checked."""

from __future__ import annotations

import click

from api.cli_common import announce_dev_secret, command_settings
from api.cli_errors import expected_errors
from api.cli_waiting import until_the_database_answers
from api.server import run_server
from infrastructure.bootstrap import prepare_keys
from infrastructure.crypto.kek import load_keyring
from infrastructure.dev_secret import load_or_create_dev_secret
from infrastructure.network_file import load_directory, load_duty_addresses, load_instruments


@click.command()
@click.option("--host", help="Interface to listen on (default: RETE_HOST or 127.0.0.1).")
@click.option("--port", type=click.IntRange(1, 65535), help="Port (default: RETE_PORT or 8000).")
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True)
def serve(host: str | None, port: int | None, workers: int) -> None:
    """Run the HTTP API."""
    with expected_errors():
        settings = command_settings()
        # Check what every worker will load, so that mistakes stop here, once.
        settings.eventsourcing_env()
        load_directory(settings.directory_file)
        load_duty_addresses(settings.directory_file)  # the email channel's
        load_instruments(settings.instruments_file)
        # The KEK too: a wrong key file stops here, and a development keyring is
        # created once, before several workers could race to create it.
        load_keyring(env_value=settings.kek, key_file=settings.kek_file, var_dir=settings.var_dir)
        # And the database: while it is away, this waits, saying why (api/cli_waiting);
        # once it answers, its schema and key tables are created once, not raced by
        # the workers, and a KEK that is not this database's stops here.
        until_the_database_answers(settings, lambda: prepare_keys(settings))
        announce_dev_secret(load_or_create_dev_secret(settings.jwt_secret_file))
    host = host or settings.host
    port = port or settings.port
    click.echo(f"Rete serving on http://{host}:{port} (API documentation at /schema)")
    run_server("api.server:create_served_app", host, port, workers)
