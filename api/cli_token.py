"""``rete token``: a development token, signed with the local secret."""

from __future__ import annotations

import re
from datetime import timedelta

import click

from api.auth import mint_token
from api.cli_common import announce_dev_secret, command_settings
from api.cli_errors import expected_errors
from domain import errors
from domain.network import Actor
from domain.text import required_text
from domain.vocabulary import Role, parse
from infrastructure.dev_secret import load_or_create_dev_secret
from infrastructure.network_file import load_directory
from infrastructure.settings import SettingsError

MAX_TTL = timedelta(days=30)
_TTL = re.compile(r"^(\d{1,6})([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_ttl(value: str) -> timedelta:
    match = _TTL.match(value.strip())
    if not match:
        raise click.BadParameter("use a number and a unit: 90s, 30m, 8h, 2d")
    ttl = timedelta(**{_UNITS[match[2]]: int(match[1])})
    if not timedelta(0) < ttl <= MAX_TTL:
        raise click.BadParameter("a token lives more than 0 seconds and at most 30 days")
    return ttl


@click.command()
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
    announce_dev_secret(secret)
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
