"""The notifications' settings are part of the settings the application is built
from: read once with the others, checked with the others (a mistake names the
variable), and what was given decides, whatever the process's environment says."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pytest
from support.clock import TestClock

from infrastructure.bootstrap import build_rete
from infrastructure.notifications.worker import NotifyWorker
from infrastructure.settings import SettingsError, load_settings


def test_the_leads_interval_and_lease_are_read_with_the_other_settings() -> None:
    given = load_settings(
        {
            "RETE_NOTIFY_LEAD_EMERGENCY": "90s",
            "RETE_NOTIFY_LEAD_URGENT": "2h",
            "RETE_NOTIFY_INTERVAL": "0",
            "RETE_NOTIFY_LEASE": "45",
        }
    ).notify
    assert given.leads == {
        "emergency": timedelta(seconds=90),
        "urgent": timedelta(hours=2),
        "routine": timedelta(hours=12),
    }
    assert (given.interval_seconds, given.lease_seconds) == (0, 45)

    default = load_settings({}).notify
    assert default.leads["emergency"] == timedelta(minutes=15)
    assert (default.interval_seconds, default.lease_seconds) == (1, 30)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("RETE_NOTIFY_LEAD_URGENT", "soon"),
        ("RETE_NOTIFY_LEAD_ROUTINE", "8d"),
        ("RETE_NOTIFY_INTERVAL", "-1"),
        ("RETE_NOTIFY_INTERVAL", "often"),
        ("RETE_NOTIFY_LEASE", "0"),
    ],
)
def test_a_value_that_cannot_be_used_names_its_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        load_settings({name: value})


@pytest.mark.parametrize(("interval", "worker"), [("0", False), ("5", True)])
def test_the_settings_given_decide_whether_the_server_runs_a_worker_not_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, interval: str, worker: bool
) -> None:
    # The process's environment says the opposite of the settings given.
    monkeypatch.setenv("RETE_NOTIFY_INTERVAL", "5" if interval == "0" else "0")
    settings = load_settings(
        {
            "RETE_DATABASE_URL": f"sqlite:///{tmp_path / 'rete.sqlite'}",
            "RETE_VAR_DIR": str(tmp_path / "var"),
            "RETE_CHECKPOINT_INTERVAL": "0",
            "RETE_NOTIFY_INTERVAL": interval,
        }
    )
    rete = build_rete(settings, clock=TestClock())
    (notifications,) = [b for b in rete.background if isinstance(b, NotifyWorker)]
    try:
        notifications.start()  # as the server starts its background work
        running = any(t.name.startswith("rete-notify") for t in threading.enumerate())
        assert running is worker
    finally:
        notifications.stop()
        rete.close()
