"""The ``rete`` command line: serve the API, mint development tokens, load the demo,
and operate keys, the ledger, the audit, the views, the notifications and the
observatory.

Each command lives in a module of its own, imported only when it runs
(``LazyGroup``): ``rete ledger verify`` does not load the web framework, and a
command starts in the time its own imports take.

Expected failures (a bad setting, a broken data file, an unreadable secret, a
refused domain command, an unreachable database) end with one line on stderr and
exit code 1; wrong usage exits 2 (click's convention). Anything else is a bug and
keeps its traceback.
"""

from __future__ import annotations

import importlib

import click

COMMANDS = {
    "serve": "api.cli_serve:serve",
    "token": "api.cli_token:token",
    "demo": "api.cli_demo:demo",
    "keys": "api.cli_keys:keys",  # rotate | rewrap | retire | status
    "ledger": "api.cli_ledger:ledger",  # checkpoint | export | verify | alarms
    "audit": "api.cli_audit:audit",  # history
    "views": "api.cli_views:views",  # rebuild | check | status | run
    "notify": "api.cli_notify:notify",  # run | status
    "observatory": "api.cli_observatory:observatory",  # publish
}
"""Each command's name and where it is defined (``module:object``)."""


class LazyGroup(click.Group):
    """A group whose commands are imported when asked for (click's documented
    pattern for lazily loaded subcommands): by name when one runs, all of them for
    the group's ``--help``."""

    def __init__(self, *args: object, lazy: dict[str, str], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._lazy = lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self._lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        where = self._lazy.get(cmd_name)
        if where is None:
            return super().get_command(ctx, cmd_name)
        module, name = where.split(":")
        command = getattr(importlib.import_module(module), name)
        if not isinstance(command, click.Command):
            raise TypeError(f"{where} is not a click command")
        return command


@click.group(cls=LazyGroup, lazy=COMMANDS)
def main() -> None:
    """Rete: the referral network against gender-based violence."""
