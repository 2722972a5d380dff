"""The ``rete`` command line: serve the API, mint development tokens, load the demo.

Expected failures (a bad setting, a broken data file, an unreadable secret, a
refused domain command, an unreachable database) end with one line on stderr and
exit code 1; wrong usage exits 2 (click's convention). Anything else is a bug and
keeps its traceback.
"""

from __future__ import annotations

import re
from datetime import timedelta

import click

from api.auth import mint_token
from api.cli_audit import audit
from api.cli_common import command_settings
from api.cli_errors import expected_errors
from api.cli_keys import keys
from api.cli_ledger import ledger
from api.cli_notify import notify
from api.cli_observatory import observatory
from api.cli_views import views
from api.cli_waiting import until_the_database_answers
from api.demo import load_demo
from api.server import run_server
from domain import errors
from domain.network import Actor
from domain.text import required_text
from domain.vocabulary import Role, parse
from infrastructure.bootstrap import build_keys, build_rete
from infrastructure.crypto.kek import load_keyring
from infrastructure.dev_secret import DevSecret, load_or_create_dev_secret
from infrastructure.network_file import load_directory, load_duty_addresses, load_instruments
from infrastructure.settings import SettingsError

MAX_TTL = timedelta(days=30)
_TTL = re.compile(r"^(\d{1,6})([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def _announce(secret: DevSecret) -> None:
    if secret.created:
        click.echo(
            f"Created a DEVELOPMENT JWT secret in {secret.path} (not for production).",
            err=True,
        )


def parse_ttl(value: str) -> timedelta:
    match = _TTL.match(value.strip())
    if not match:
        raise click.BadParameter("use a number and a unit: 90s, 30m, 8h, 2d")
    ttl = timedelta(**{_UNITS[match[2]]: int(match[1])})
    if not timedelta(0) < ttl <= MAX_TTL:
        raise click.BadParameter("a token lives more than 0 seconds and at most 30 days")
    return ttl


@click.group()
def main() -> None:
    """Rete: the referral network against gender-based violence."""


@main.command()
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
        # the workers.
        until_the_database_answers(settings, lambda: build_keys(settings).close())
        _announce(load_or_create_dev_secret(settings.jwt_secret_file))
    host = host or settings.host
    port = port or settings.port
    click.echo(f"Rete serving on http://{host}:{port} (API documentation at /schema)")
    run_server("api.server:create_served_app", host, port, workers)


@main.command()
@click.option("--user", required=True, help="The person's id (the token's subject).")
@click.option("--service", required=True, help="Service id from the network directory.")
@click.option("--role", "roles", required=True, multiple=True, help="Role; repeat for more.")
@click.option("--ttl", default="8h", show_default=True, help="Lifetime: 90s, 30m, 8h, 2d.")
def token(user: str, service: str, roles: tuple[str, ...], ttl: str) -> None:
    """Print a development token signed with the local secret."""
    lifetime = parse_ttl(ttl)
    with expected_errors():
        settings = command_settings()
        if lifetime > settings.max_token_lifetime:
            raise click.BadParameter(
                f"the server refuses tokens living longer than {settings.max_token_lifetime} "
                "(RETE_MAX_TOKEN_LIFETIME)",
                param_hint="--ttl",
            )
        if settings.jwt_public_key_file is not None:
            raise SettingsError(
                "RETE_JWT_PUBLIC_KEY_FILE is set: tokens come from the identity provider, "
                "not from this command"
            )
        directory = load_directory(settings.directory_file)
        required_text(user, "--user")
        # The same checks the API makes on every token it receives.
        Actor(
            user,
            directory.service(service),
            frozenset(parse(Role, r, errors.UnknownRole) for r in roles),
        )
        secret = load_or_create_dev_secret(settings.jwt_secret_file)
    _announce(secret)
    click.echo(
        mint_token(
            secret.key,
            settings.jwt_issuer,
            settings.jwt_audience,
            user,
            service,
            list(roles),
            lifetime,
        )
    )


@main.command()
def demo() -> None:
    """Load a realistic synthetic story of the network through the application."""
    with expected_errors():
        settings = command_settings()
        rete = build_rete(settings)
        try:
            lines = load_demo(rete)
        finally:
            rete.close()
    for line in lines:
        click.echo(line)


main.add_command(keys)  # rete keys rotate|rewrap|retire|status (api/cli_keys.py)
main.add_command(ledger)  # rete ledger checkpoint|export|verify (api/cli_ledger.py)
main.add_command(audit)  # rete audit history (api/cli_audit.py)
main.add_command(views)  # rete views rebuild|run (api/cli_views.py)
main.add_command(notify)  # rete notify run|status (api/cli_notify.py)
main.add_command(observatory)  # rete observatory publish (api/cli_observatory.py)
