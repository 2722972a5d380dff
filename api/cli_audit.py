"""``rete audit``: replay one case's history for an auditor, non-personal only.

It reads the database directly, as the operator, acting as an auditor of the
network's oversight service. Personal fields print as "sealed": their values
reach an auditor only through a disclosure over the API, which is logged.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import click
import msgspec
from rich.console import Console
from rich.table import Table

from api.cli_common import command_settings, operator_as
from api.cli_errors import expected_errors
from application.audit import CaseHistory
from application.rete import Rete
from domain.network import Actor
from domain.vocabulary import Role, ServiceKind
from infrastructure.bootstrap import build_rete

CLI_AUDITOR = "rete-cli"


def _moment(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            "use an RFC 3339 time with its zone, e.g. 2026-03-02T10:00:00Z", param_hint="--as-of"
        ) from None


def _auditor(rete: Rete, service_id: str | None) -> Actor:
    """The operator, as an auditor of the oversight service (the only one, unless named)."""
    return operator_as(rete, CLI_AUDITOR, ServiceKind.OVERSIGHT, Role.AUDITOR, service_id)


@click.group()
def audit() -> None:
    """Replay the history for an auditor (non-personal facts only)."""


@audit.command()
@click.argument("case")
@click.option("--as-of", "as_of", help="Replay to this moment (RFC 3339 with zone); default: now.")
@click.option("--service", help="The oversight service to act for, if the network has several.")
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print one JSON document (the API's CaseHistory) instead of tables.",
)
def history(case: str, as_of: str | None, service: str | None, as_json: bool) -> None:
    """Every event of CASE (id or reference code), of its referrals and its access log.

    Tables wrap long cells rather than cut them, at any terminal width or piped."""
    moment = _moment(as_of)
    with expected_errors():
        rete = build_rete(command_settings())
        try:
            replayed = rete.audit.history(_auditor(rete, service), case, moment)
        finally:
            rete.close()
    if as_json:
        click.echo(msgspec.json.encode(replayed).decode())
        return
    # No markup: a value written by someone (a route, a reason) prints as it is.
    show(replayed, Console(markup=False, highlight=False))


def _fields(fields: dict[str, Any]) -> str:
    shown = (v if isinstance(v, str) else json.dumps(v) for v in fields.values())
    return "\n".join(f"{name}={value}" for name, value in zip(fields, shown, strict=True))


def _table(*columns: str, title: str) -> Table:
    """A table whose cells fold onto more lines when they do not fit: an auditor
    reads every character of an id or a reason, never an ellipsis."""
    table = Table(title=title)
    for column in columns:
        table.add_column(column, overflow="fold")
    return table


def show(replayed: CaseHistory, console: Console) -> None:
    when = replayed.as_of.isoformat() if replayed.as_of else "now"
    console.print(f"Case {replayed.reference_code} ({replayed.case_id}) as of {when}")
    events = _table("time", "event", "v", "user", "service", "fields", title="History")
    for e in replayed.events:
        events.add_row(
            e.timestamp.isoformat(),
            e.type,
            str(e.version),
            e.user_id or "-",
            e.service_id or "-",
            _fields(e.fields),
        )
    console.print(events)
    state = replayed.state
    if state is None:
        console.print("The case was not opened yet at that moment.")
        return
    console.print(
        f"Status: {state.status} · owner: {state.owner_service} · version {state.version} · "
        f"legal hold: {'yes' if state.legal_hold else 'no'}"
    )
    referrals = _table("referral", "from", "to", "kind", "urgency", "status", title="Referrals")
    for r in state.referrals:
        referrals.add_row(r.id, r.sender_service, r.recipient_service, r.kind, r.urgency, r.status)
    console.print(referrals)
