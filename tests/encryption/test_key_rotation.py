"""Issue 3, "done when" 3: after ``rete keys rotate``, every event still decrypts,
the event table's stored bytes are unchanged, and the old KEK alone can no
longer unwrap the data keys.

The command runs as an operator runs it (click's runner on ``api.cli.main``, with
RETE_DATABASE_URL and RETE_VAR_DIR), on a database holding cases, referrals,
snapshots and an erased case, while another instance of the application keeps
running on it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner, Result
from encryption_support import every_aggregate, every_event, tell_case
from support.clock import TestClock
from support.people import people_of
from support.rawdb import RawDatabase

from api import cli
from application.rete import Rete
from domain.case import Case
from infrastructure.bootstrap import build_store
from infrastructure.crypto import sealing
from infrastructure.crypto.kek import KekError, Keyring, KeyringData, UnwrapError, parse_keyring
from infrastructure.crypto.keystore import SqlKeyStore, wrapping_aad
from infrastructure.settings import Settings
from infrastructure.store import ReteEventStore

SNAPSHOTS = {"RETE_SNAPSHOT_INTERVAL": "3"}


def told(rete: Rete, clock: TestClock) -> SimpleNamespace:
    """Three cases worked with referrals; the last one erased."""
    p = people_of(rete)
    stories = [tell_case(rete, p, clock, tag=f"case{i} ") for i in range(3)]
    rete.cases.erase(p.chiara, stories[-1].ref, "her request")
    return SimpleNamespace(stories=stories, erased=stories[-1])


def readable(settings: Settings) -> tuple[list, dict]:
    """Every event and every aggregate, read through a NEW application instance."""
    store = build_store(settings)
    try:
        return every_event(store), every_aggregate(store)
    finally:
        store.close()


def kek_file(var_dir: Path) -> Path:
    return var_dir / "dev-kek.json"


def only(version: int, key: bytes) -> Keyring:
    return Keyring(KeyringData(primary=version, keys={version: key}), source="the old KEK alone")


@dataclass(frozen=True)
class Site:
    """What each test here works on: its application instances and their settings,
    its clock, its rows as stored, and the operator's environment."""

    make_rete: Callable[..., Rete]
    settings_for: Callable[..., Settings]
    clock: TestClock
    raw: RawDatabase
    env: dict[str, str]

    def keys(self, *args: str, **env: str) -> Result:
        """``rete keys ARGS`` as an operator runs it, with ``env`` over the site's."""
        return CliRunner().invoke(cli.main, ["keys", *args], env={**self.env, **env})


@pytest.fixture
def site(
    make_rete: Callable[..., Rete],
    settings_for: Callable[..., Settings],
    clock: TestClock,
    raw: RawDatabase,
    rete_env: dict[str, str],
) -> Site:
    return Site(make_rete, settings_for, clock, raw, {**rete_env, **SNAPSHOTS})


def test_after_rotate_every_event_decrypts_no_event_byte_changed_and_the_old_kek_opens_nothing(
    site: Site, var_dir: Path
) -> None:
    settings = site.settings_for(**SNAPSHOTS)
    # Another process keeps running through the rotation; it re-reads keys at every use.
    running = site.make_rete(**SNAPSHOTS, RETE_KEY_CACHE_SECONDS="0")
    story = told(running, site.clock)
    events_before, aggregates_before = readable(settings)
    assert len(events_before) > 60 and len(aggregates_before) >= 12
    events_table, snapshots_table = site.raw.digest(), site.raw.digest(site.raw.snapshots)
    assert snapshots_table[0] > 0, "snapshots are part of what must keep reading"

    old_key = parse_keyring(kek_file(var_dir).read_bytes(), "the key file").keys[1]
    rows_before = site.raw.key_rows()
    assert {kek for *_, kek, _ in rows_before} == {1}
    for key_id, scope, _, kek, wrapped in rows_before:  # the control: it did open them
        only(1, old_key).unwrap(kek, wrapped, wrapping_aad(key_id, scope))
    assert f"case:{story.erased.id}" not in {scope for _, scope, *_ in rows_before}

    rotated = site.keys("rotate")
    assert rotated.exit_code == 0, rotated.output
    assert f"KEK version 2 is now primary; {len(rows_before)} data keys rewrapped." in (
        rotated.stdout
    )

    # Not one byte of the event table (nor of the snapshots) was rewritten.
    assert site.raw.digest() == events_table
    assert site.raw.digest(site.raw.snapshots) == snapshots_table

    # The same keys, each wrapped anew under version 2, in a key file still 0600.
    rows_after = site.raw.key_rows()
    assert [r[:3] for r in rows_after] == [r[:3] for r in rows_before]
    assert {kek for *_, kek, _ in rows_after} == {2}
    assert not {w for *_, w in rows_after} & {w for *_, w in rows_before}
    keyring = json.loads(kek_file(var_dir).read_text())
    assert keyring["primary"] == 2 and sorted(keyring["keys"]) == ["1", "2"]
    assert kek_file(var_dir).stat().st_mode & 0o777 == 0o600

    # The old KEK alone unwraps none of them: not under its own version number, not
    # relabelled as version 2, and it does not even know version 2.
    for key_id, scope, _, kek, wrapped in rows_after:
        aad = wrapping_aad(key_id, scope)
        with pytest.raises(KekError):
            only(1, old_key).unwrap(kek, wrapped, aad)
        with pytest.raises(UnwrapError):
            only(1, old_key).unwrap(1, wrapped, aad)
        with pytest.raises(UnwrapError):
            only(2, old_key).unwrap(2, wrapped, aad)
    # ...so an application given only the old KEK reads no event at all.
    old_keys = SqlKeyStore.from_settings(settings, only(1, old_key), case_key_ttl=0)
    old_store = ReteEventStore(settings.eventsourcing_env(), old_keys)
    try:
        with pytest.raises((KekError, UnwrapError)):
            old_store.get(Case, story.stories[0].id)
    finally:
        old_store.close()

    # Every event and every aggregate reads as before, through a new instance...
    assert readable(settings) == (events_before, aggregates_before)
    # ...and through the one that kept running, which also wraps new keys under v2.
    assert every_event(running.ctx.store) == events_before
    p = people_of(running)
    new = running.cases.open(p.anna).reference_code
    running.cases.add_note(p.anna, new, "identity", "written after the rotation")
    assert {kek for *_, kek, _ in site.raw.key_rows()} == {2}
    assert len(site.raw.key_rows()) == len(rows_before) + 1

    status = site.keys("status")
    assert status.exit_code == 0, status.output
    assert "Primary KEK version: 2; known: [1, 2]" in status.stdout
    assert f"v2: {len(rows_before) + 1}" in status.stdout
    assert "v1:" not in status.stdout


def test_rotate_with_system_starts_a_new_system_key_and_the_old_one_still_opens(site: Site) -> None:
    rete = site.make_rete()
    told(rete, site.clock)
    before = site.raw.rows()
    old_system_ids = {sealing.key_id_of(r.state) for r in before}
    assert len(old_system_ids) == 1

    rotated = site.keys("rotate", "--system")
    assert rotated.exit_code == 0, rotated.output
    assert "A new system key seals from now on" in rotated.stdout
    system_keys = [r for r in site.raw.key_rows() if r[1] == "system"]
    assert [generation for _, _, generation, _, _ in system_keys] == [1, 2]
    new_system_id = system_keys[1][0]

    # A new process seals under the new system key; the old records stay as they were.
    writer = site.make_rete()
    p = people_of(writer)
    writer.cases.add_note(p.anna, writer.cases.open(p.anna).reference_code, "safety", "later")
    after = site.raw.rows()
    assert after[: len(before)] == before
    assert {sealing.key_id_of(r.state) for r in after[len(before) :]} == {new_system_id}
    events, _ = readable(site.settings_for())
    assert len(events) == len(after)


def test_with_the_kek_in_the_environment_rotate_refuses_and_rewrap_moves_every_key(
    site: Site,
) -> None:
    v1 = KeyringData.fresh()
    first = v1.to_json().decode()
    rete = site.make_rete(RETE_KEK=first)
    told(rete, site.clock)
    events_table = site.raw.digest()
    events_before, aggregates_before = readable(site.settings_for(RETE_KEK=first))

    refused = site.keys("rotate", RETE_KEK=first)
    assert refused.exit_code == 1
    assert refused.stderr.startswith("Error: the KEK comes from the environment variable RETE_KEK")
    assert "Traceback" not in refused.output

    # The operator adds version 2 to the variable, makes it primary, then rewraps.
    second = v1.with_new_version()
    rewrapped = site.keys("rewrap", RETE_KEK=second.to_json().decode())
    assert rewrapped.exit_code == 0, rewrapped.output
    assert "data keys rewrapped under KEK version 2." in rewrapped.stdout
    assert site.raw.digest() == events_table
    for key_id, scope, _, kek, wrapped in site.raw.key_rows():
        assert kek == 2
        with pytest.raises(UnwrapError):
            only(1, v1.keys[1]).unwrap(1, wrapped, wrapping_aad(key_id, scope))
    assert readable(site.settings_for(RETE_KEK=second.to_json().decode())) == (
        events_before,
        aggregates_before,
    )


def test_a_key_file_that_is_not_the_databases_stops_every_key_operation_before_it_writes(
    site: Site, var_dir: Path, tmp_path: Path
) -> None:
    """``rete keys`` given another keyring with the same version numbers: each
    operation stops with one line before it writes anything, to the key file (rotate
    would have added a version to the wrong file) or to the database."""
    told(site.make_rete(**SNAPSHOTS), site.clock)
    rows = site.raw.key_rows()
    wrong = tmp_path / "another-kek.json"
    wrong.write_bytes(KeyringData.fresh(development=False).to_json())
    wrong.chmod(0o600)
    before = wrong.read_bytes()

    for operation in (["rotate"], ["rotate", "--system"], ["rewrap"], ["retire"], ["status"]):
        result = site.keys(*operation, RETE_KEK_FILE=str(wrong))
        assert result.exit_code == 1, (operation, result.output)
        last = result.stderr.strip().splitlines()[-1]
        assert last.startswith("Error: a data key did not unwrap under KEK version 1"), last

    assert wrong.read_bytes() == before
    assert site.raw.key_rows() == rows
    assert site.keys("status").exit_code == 0  # the right one still works
