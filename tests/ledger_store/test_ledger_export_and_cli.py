"""``rete ledger checkpoint | export | verify``: the auditor's path, end to end.

An export is verified "taken away": with only the directory and the public key,
no database and no setting.
"""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from ledger_store_support import EventsTable, flip, write_cases

from api.cli import main
from application.rete import Rete
from infrastructure.ledger.ledger import Ledger
from infrastructure.ledger.note import Signer


def rete_cli(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(main, ["ledger", *args], env=env, catch_exceptions=False)


@pytest.fixture
def three_checkpoints(rete: Rete, ledger_env: dict[str, str]) -> None:
    """300 sealed records, a checkpoint every 100, signed with ``rete ledger checkpoint``."""
    for start in (0, 1, 2):
        write_cases(rete, 1, 99, start=start)
        result = rete_cli(ledger_env, "checkpoint")
        assert result.exit_code == 0, result.output
        assert result.stdout.startswith("rete.cesano-boscone.example/ledger\n")
        assert "\n\n— rete.cesano-boscone.example/ledger " in result.stdout


@pytest.fixture
def exported(three_checkpoints: None, ledger_env: dict[str, str], tmp_path: Path) -> Path:
    """The export, copied away from where it was made (the database stays behind)."""
    made = tmp_path / "made"
    result = rete_cli(ledger_env, "export", str(made))
    assert result.exit_code == 0, result.output
    assert "Exported 300 records and 3 checkpoint(s)" in result.stdout
    away = tmp_path / "away" / "export"
    shutil.copytree(made, away)
    return away


def public_key(export: Path) -> str:
    return (export / "public-key.txt").read_text().strip()


def offline(export: Path, *args: str) -> Result:
    """Verification of an export with nothing configured: no database URL, no var/."""
    return rete_cli(
        {"RETE_DATABASE_URL": "sqlite:///nowhere/x.sqlite"}, "verify", str(export), *args
    )


def test_the_live_log_verifies_and_a_checkpoint_is_signed_once(
    three_checkpoints: None, ledger_env: dict[str, str]
) -> None:
    result = rete_cli(ledger_env, "verify")
    assert result.exit_code == 0, result.output
    assert "OK: 300 records, 3 checkpoint(s) verified" in result.stdout
    assert "verifying" in result.stderr  # the progress bar
    again = rete_cli(ledger_env, "checkpoint")
    assert again.exit_code == 0 and "has not grown" in again.stderr


def test_an_export_taken_away_verifies_with_only_the_public_key(exported: Path) -> None:
    result = offline(exported, "--key", public_key(exported))
    assert result.exit_code == 0, result.output
    assert (
        "OK: 300 records, 3 checkpoint(s) verified; latest checkpoint 3 (size 300)" in result.stdout
    )
    trusting = offline(exported)
    assert trusting.exit_code == 0 and "Trusting the key in the export" in trusting.stderr


def test_an_export_holds_ciphertext_only(exported: Path) -> None:
    everything = b"".join(p.read_bytes() for p in exported.rglob("*") if p.is_file())
    assert b"note 7 of case 1" not in everything  # a note's text, as written
    line = json.loads((exported / "records.jsonl").read_text().splitlines()[5])
    assert b"note" not in base64.b64decode(line["state"])


def test_another_key_verifies_nothing(exported: Path) -> None:
    other = Signer.generate("rete.cesano-boscone.example/ledger").verifier().to_key_string()
    result = offline(exported, "--key", other)
    assert result.exit_code == 1
    assert "FAILED: checkpoint 1 does not verify" in result.stderr


def _rewrite_line(export: Path, index: int, change: dict[str, object]) -> None:
    path = export / "records.jsonl"
    lines = path.read_text().splitlines()
    line = json.loads(lines[index])
    line.update(change)
    lines[index] = json.dumps(line)
    path.write_text("\n".join(lines) + "\n")


def test_a_record_altered_in_an_export_is_named(exported: Path) -> None:
    line = json.loads((exported / "records.jsonl").read_text().splitlines()[150])
    state = flip(base64.b64decode(line["state"]), 77)
    _rewrite_line(exported, 150, {"state": base64.b64encode(state).decode()})
    result = offline(exported, "--key", public_key(exported))
    assert result.exit_code == 1
    assert "FAILED: leaf 150: the record at position 151" in result.stderr
    assert "differs from the one checkpoint 2 (size 200) committed to" in result.stderr


def test_a_line_removed_from_an_export_is_named(exported: Path) -> None:
    path = exported / "records.jsonl"
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:40] + lines[41:]) + "\n")
    result = offline(exported, "--key", public_key(exported))
    assert result.exit_code == 1 and "FAILED: leaf 40:" in result.stderr


def test_an_export_of_a_tampered_database_names_the_first_bad_leaf(
    three_checkpoints: None, ledger_env: dict[str, str], events: EventsTable, tmp_path: Path
) -> None:
    rows = events.rows()
    events.replace_all(rows[:222] + rows[223:])
    live = rete_cli(ledger_env, "verify")
    assert live.exit_code == 1
    assert "FAILED: leaf 222: the record at position 223 is missing" in live.stderr
    assert rete_cli(ledger_env, "export", str(tmp_path / "x")).exit_code == 0
    result = offline(tmp_path / "x", "--key", public_key(tmp_path / "x"))
    assert result.exit_code == 1
    assert "FAILED: leaf 222: the record at position 223 is missing" in result.stderr


@pytest.mark.parametrize("where", ["body", "signature"])
def test_a_bit_flip_in_an_exported_checkpoint_is_refused(exported: Path, where: str) -> None:
    path = exported / "checkpoints" / "200.note"
    note = path.read_bytes()
    bit = 8 * 3 if where == "body" else 8 * (len(note) - 10)
    path.write_bytes(flip(note, bit))
    result = offline(exported, "--key", public_key(exported))
    assert result.exit_code == 1
    assert "FAILED: checkpoint 2 does not verify" in result.stderr


def test_a_forged_consistency_proof_in_an_export_is_refused(exported: Path) -> None:
    path = exported / "consistency.jsonl"
    first, second = path.read_text().splitlines()
    proof = json.loads(second)
    proof["proof"][0] = base64.b64encode(b"\x00" * 32).decode()
    path.write_text(first + "\n" + json.dumps(proof) + "\n")
    result = offline(exported, "--key", public_key(exported))
    assert result.exit_code == 1
    assert "checkpoint 2 (size 200) and checkpoint 3 (size 300) are not consistent" in result.stderr


def test_a_published_checkpoint_is_checked_with_the_export(
    exported: Path, ledger: Ledger, tmp_path: Path
) -> None:
    published = tmp_path / "from-the-comitato.note"
    published.write_bytes(ledger.store.checkpoints()[0].note)
    result = offline(exported, "--key", public_key(exported), "--checkpoint", str(published))
    assert result.exit_code == 0, result.output


def test_an_export_never_overwrites(exported: Path, ledger_env: dict[str, str]) -> None:
    result = rete_cli(ledger_env, "export", str(exported))
    assert result.exit_code == 1 and "is not an empty directory" in result.output
