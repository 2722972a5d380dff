"""``rete audit history CASE [--as-of T]``: the replayed history in a terminal table,
non-personal only. On SQLite and on PostgreSQL."""

from __future__ import annotations

import json

from audit_support import AUDIT, Http, Story
from click.testing import CliRunner

from api import cli


def audit_history(env: dict[str, str], *args: str):
    # A wide terminal, so that no cell wraps in the middle of a word.
    return CliRunner().invoke(cli.main, ["audit", "history", *args], env={**env, "COLUMNS": "400"})


def test_the_history_of_a_case_in_a_table(audit_env, http: Http, story: Story) -> None:
    result = audit_history(audit_env, story.ref)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert f"Case {story.ref} ({story.case_id}) as of now" in out
    for what in ("Case.Opened", "Case.NoteAdded", "Referral.Sent", "Case.LegalHoldPlaced"):
        assert what in out
    assert "text=sealed" in out and "reason=sealed" in out
    assert not [m for m in story.markers if m in result.output]
    assert "Status: open · owner: cav-scirocco" in out and "legal hold: yes" in out
    assert story.referral_id in out and "accepted" in out


def test_what_people_wrote_prints_as_written(audit_env, http: Http, story: Story) -> None:
    why = "[bold]audit 7[/bold] of the DPO"
    path = f"{AUDIT}/cases/{story.ref}/disclosure"
    http.ok(http.post("ugo", path, json={"reason": why}))
    result = audit_history(audit_env, story.ref)
    assert result.exit_code == 0, result.output
    assert f"reason={why}" in result.stdout and 'categories=["identity", "risk"' in result.stdout


def test_as_of_replays_to_that_moment(audit_env, http: Http, story: Story) -> None:
    moment = story.moments["referred"].isoformat()
    result = audit_history(audit_env, story.case_id, "--as-of", moment)
    assert result.exit_code == 0, result.output
    assert f"as of {moment}" in result.stdout
    assert "Referral.Sent" in result.stdout and "Referral.Moved" not in result.stdout
    assert "legal hold: no" in result.stdout and "sent" in result.stdout


def test_mistakes_are_one_line(audit_env, http: Http, story: Story) -> None:
    unknown = audit_history(audit_env, "CB-2026-9999")
    assert unknown.exit_code == 1
    assert unknown.stderr.strip().splitlines()[-1] == "Error: not-found: no such case"
    naive = audit_history(audit_env, story.ref, "--as-of", "2026-03-02T10:00:00")
    assert naive.exit_code == 1 and "naive-datetime" in naive.stderr
    assert audit_history(audit_env, story.ref, "--as-of", "yesterday").exit_code == 2


def test_json_is_the_whole_history_for_a_program(audit_env, http: Http, story: Story) -> None:
    result = audit_history(audit_env, story.ref, "--json")
    assert result.exit_code == 0, result.output
    replayed = json.loads(result.stdout)
    assert replayed["reference_code"] == story.ref and replayed["case_id"] == story.case_id
    types = [e["type"] for e in replayed["events"]]
    assert "Case.Opened" in types and "Referral.Sent" in types
    assert replayed["state"]["owner_service"] == "cav-scirocco"
    assert story.referral_id in [r["id"] for r in replayed["state"]["referrals"]]
    assert not [m for m in story.markers if m in result.output]


def test_a_narrow_or_piped_terminal_wraps_cells_and_cuts_none(
    audit_env, http: Http, story: Story
) -> None:
    narrow = CliRunner().invoke(
        cli.main, ["audit", "history", story.ref], env={**audit_env, "COLUMNS": "60"}
    )
    assert narrow.exit_code == 0, narrow.output
    assert "…" not in narrow.stdout
    # Every id survives whole, if folded across lines of its cell: read the
    # referral's column top to bottom.
    cells = [line.split("│")[1].strip() for line in narrow.stdout.splitlines() if "│" in line]
    assert story.referral_id in "".join(cells)
