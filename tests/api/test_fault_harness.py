"""The real server killed (SIGKILL) under concurrent writes, on each backend, and
restarted: nothing acknowledged is lost or written twice, nothing unacknowledged is
half-done, and the ledger and the views verify (``support.fault_harness``).

A few kills here; ``python -m bench.faults`` (or the slow test below) does the
20 per backend of issue 11 (docs/RELIABILITY.md).
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from support.fault_harness import ACKNOWLEDGED, Report, run_faults


def _backend_name(backend: dict[str, str]) -> str:
    return "postgres" if backend["RETE_DATABASE_URL"].startswith("postgres") else "sqlite"


@pytest.mark.long
def test_sigkills_under_concurrent_writes_lose_nothing(
    backend: dict[str, str], tmp_path: Path
) -> None:
    name = _backend_name(backend)
    report = run_faults(
        {"RETE_DATABASE_URL": backend["RETE_DATABASE_URL"], "RETE_VAR_DIR": str(tmp_path / "var")},
        backend=name,
        kills=3,
        gap=(0.2, 0.6),
        tail=0.3,
        log_dir=tmp_path / "logs",
    )
    assert report.problems == [], report.summary()
    assert sum(report.kills.values()) == 3
    if name == "postgres":
        assert report.kills["runner"] >= 1
    assert report.outcomes()[ACKNOWLEDGED] > 0, report.summary()


@pytest.mark.slow
def test_twenty_sigkills_under_concurrent_writes_lose_nothing(
    backend: dict[str, str], tmp_path: Path
) -> None:
    """Issue 11, done-when 3 (as ``python -m bench.faults --kills 20``)."""
    report = run_faults(
        {"RETE_DATABASE_URL": backend["RETE_DATABASE_URL"], "RETE_VAR_DIR": str(tmp_path / "var")},
        backend=_backend_name(backend),
        kills=20,
        settle=65.0,
        log_dir=tmp_path / "logs",
    )
    assert report.problems == [], report.summary()
    assert sum(report.kills.values()) == 20


@pytest.mark.long
def test_the_harness_sees_a_write_found_twice(tmp_path: Path) -> None:
    """Its checks are not empty: a note written a second time, as a retry that was
    not recognised would, is reported (SQLite, no faults)."""

    def write_one_note_again(
        http: httpx.Client, headers: dict[str, dict[str, str]], report: Report
    ) -> None:
        note = next(w for w in report.writes if w.kind == "note" and w.outcome == ACKNOWLEDGED)
        again = http.post(note.path, json=note.body, headers=headers["anna"])  # no key
        assert again.status_code == 201, again.text

    report = run_faults(
        {
            "RETE_DATABASE_URL": f"sqlite:///{tmp_path / 'rete.sqlite'}",
            "RETE_VAR_DIR": str(tmp_path / "var"),
        },
        backend="sqlite",
        kills=0,
        tail=1.5,
        log_dir=tmp_path / "logs",
        before_check=write_one_note_again,
        verify=False,
    )
    assert any("found 2 times" in p for p in report.problems), report.summary()
