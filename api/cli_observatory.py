"""``rete observatory publish``: publish the observatory's months that have ended.

Run it from a schedule (e.g. daily from cron) to have each month published soon
after it ends; an analyst's first request after a month ends publishes it too.
It acts as the operator, an analyst of the network's observatory service, and
each publication records that (docs/OBSERVATORY.md).
"""

from __future__ import annotations

import click

from api.cli_errors import expected_errors
from application.rete import Rete
from domain import errors
from domain.network import Actor
from domain.vocabulary import Role, ServiceKind
from infrastructure.bootstrap import build_rete
from infrastructure.logging import configure_logging
from infrastructure.settings import load_settings

CLI_ANALYST = "rete-cli"


def _analyst(rete: Rete, service_id: str | None) -> Actor:
    """The operator, as an analyst of the observatory (the only one, unless named)."""
    directory = rete.ctx.directory
    if service_id is None:
        observatories = directory.of_kind(ServiceKind.OBSERVATORY)
        if len(observatories) != 1:
            raise errors.UnknownService("name the observatory service with --service")
        service_id = observatories[0].id
    return Actor(CLI_ANALYST, directory.service(service_id), frozenset({Role.ANALYST}))


@click.group()
def observatory() -> None:
    """The observatory's statistics: published once per month that has ended."""


@observatory.command()
@click.option("--service", help="The observatory service to act for, if the network has several.")
def publish(service: str | None) -> None:
    """Publish every month that has ended and is not published yet, in order."""
    with expected_errors():
        settings = load_settings()
        configure_logging(settings.log_format)
        rete = build_rete(settings)
        try:
            made = rete.observatory.publish(_analyst(rete, service))
            published = [month.label for month, _ in rete.observatory.published()]
        finally:
            rete.close()
    if made:
        click.echo(f"Published: {', '.join(made)}.")
    else:
        last = published[-1] if published else "none yet"
        click.echo(f"Nothing to publish: every month that has ended is published (last: {last}).")
