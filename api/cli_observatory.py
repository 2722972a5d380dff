"""``rete observatory publish``: publish the observatory's months that have ended.

Run it from a schedule (e.g. daily from cron) to have each month published soon
after it ends; an analyst's first request after a month ends publishes it too.
It acts as the operator, an analyst of the network's observatory service, and
each publication records that (docs/OBSERVATORY.md).
"""

from __future__ import annotations

import click

from api.cli_common import command_settings, operator_as
from api.cli_errors import expected_errors
from application.rete import Rete
from domain.network import Actor
from domain.vocabulary import Role, ServiceKind
from infrastructure.bootstrap import build_rete

CLI_ANALYST = "rete-cli"


def _analyst(rete: Rete, service_id: str | None) -> Actor:
    """The operator, as an analyst of the observatory (the only one, unless named)."""
    return operator_as(rete, CLI_ANALYST, ServiceKind.OBSERVATORY, Role.ANALYST, service_id)


@click.group()
def observatory() -> None:
    """The observatory's statistics: published once per month that has ended."""


@observatory.command()
@click.option("--service", help="The observatory service to act for, if the network has several.")
def publish(service: str | None) -> None:
    """Publish every month that has ended and is not published yet, in order."""
    with expected_errors():
        rete = build_rete(command_settings())
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
