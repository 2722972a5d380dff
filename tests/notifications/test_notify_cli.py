"""``rete notify status``: how far the outbox is, and the deliveries by state."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from click.testing import CliRunner
from support.stories import refer_to_protect

from api.cli_notify import notify
from application.rete import Rete


def test_status_counts_the_outbox(
    rete: Rete, rete_env: dict[str, str], people: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = rete.cases.open(people.anna)
    refer_to_protect(rete, people.chiara, case.reference_code, "threat", "danger")
    for name, value in rete_env.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(notify, ["status"])
    assert result.exit_code == 0, result.output
    assert "outbox: 1 announcements" in result.output
    assert "dead: 0" in result.output
