"""``rete demo``: a synthetic story of the network, loaded through the application."""

from __future__ import annotations

import click

from api.cli_common import command_settings
from api.cli_errors import expected_errors
from api.demo import load_demo
from infrastructure.bootstrap import build_rete


@click.command()
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
