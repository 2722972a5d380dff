"""The ``rete`` command: tokens the API accepts, clear one-line failures, serve's wiring."""

from __future__ import annotations

import base64
import os
import secrets
import subprocess
import sys

import pytest
from click.testing import CliRunner

from api import cli, cli_demo, server
from api.auth import Claims, TokenVerifier
from api.server import ReadDeadlineProtocol
from domain.errors import NoCoveringConsent
from infrastructure.dev_secret import load_or_create_dev_secret
from infrastructure.settings import load_settings


@pytest.fixture
def run(sqlite_env):
    def invoke(*args, **env):
        return CliRunner().invoke(cli.main, list(args), env={**sqlite_env, **env})

    return invoke


def test_token_prints_a_token_the_api_accepts(run, sqlite_env):
    result = run("token", "--user", "anna", "--service", "cav-scirocco", "--role", "caseworker")
    assert result.exit_code == 0, result.output
    settings = load_settings(sqlite_env)
    verifier = TokenVerifier.for_secret(
        load_or_create_dev_secret(settings.jwt_secret_file).key,
        settings.jwt_issuer,
        settings.jwt_audience,
    )
    assert "DEVELOPMENT JWT secret" in result.stderr
    assert verifier.verify(result.stdout.strip()) == Claims("anna", "cav-scirocco", ("caseworker",))
    assert settings.jwt_secret_file.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize(
    ("service", "role", "code"),
    [
        ("nowhere", "caseworker", "unknown-service"),
        ("osservatorio", "caseworker", "role-not-allowed"),
        ("cav-scirocco", "boss", "unknown-role"),
    ],
)
def test_token_refuses_whom_the_network_does_not_know(run, service, role, code):
    result = run("token", "--user", "anna", "--service", service, "--role", role)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: {code}:")
    assert "Traceback" not in result.output
    assert result.stdout == ""


def test_token_refuses_a_bad_lifetime(run):
    result = run(
        "token", "--user", "a", "--service", "cav-scirocco", "--role", "caseworker", "--ttl", "1y"
    )
    assert result.exit_code == 2


def test_a_bad_setting_is_one_line(run):
    result = run(
        "token",
        "--user",
        "a",
        "--service",
        "cav-scirocco",
        "--role",
        "caseworker",
        RETE_LOG_FORMAT="xml",
    )
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == ["Error: RETE_LOG_FORMAT must be console or json"]


def test_serve_runs_uvicorn_on_the_app_factory_without_access_log(run, monkeypatch):
    calls = []
    monkeypatch.setattr(server.uvicorn, "run", lambda app, **kw: calls.append((app, kw)))
    result = run("serve", "--port", "8123", "--workers", "2")
    assert result.exit_code == 0, result.output
    assert "http://127.0.0.1:8123" in result.stdout
    assert "DEVELOPMENT JWT secret" in result.stderr
    ((app, options),) = calls
    assert app == "api.server:create_served_app"  # api.app's, once the database answers
    assert options["factory"] is True
    assert options["http"] is ReadDeadlineProtocol
    assert options["access_log"] is False
    assert options["log_config"] is None
    assert options["workers"] == 2


def test_a_kek_that_is_not_the_databases_stops_serve_and_the_commands_in_one_line(
    run, monkeypatch, sqlite_env
):
    """Started with another key-encryption key than the one its keys are wrapped
    under, ``rete serve`` stops before it serves (not each worker as it starts, with
    a traceback), and so does an operator's command."""
    mine, another = (base64.b64encode(secrets.token_bytes(32)).decode() for _ in range(2))
    served = []
    monkeypatch.setattr(server.uvicorn, "run", lambda *a, **k: served.append(a))
    assert run("demo", RETE_KEK=mine).exit_code == 0  # the database's keys, under mine
    assert run("serve", RETE_KEK=mine).exit_code == 0
    assert len(served) == 1

    for command in (["serve"], ["views", "rebuild"]):
        result = run(*command, RETE_KEK=another)
        assert result.exit_code == 1, result.output
        last = result.stderr.strip().splitlines()[-1]
        assert last.startswith("Error: a data key did not unwrap under KEK version 1"), last
        assert "Traceback" not in result.output
        assert "serving" not in result.stdout
    assert len(served) == 1

    # A process that follows the log stops too, rather than retry for ever.
    follower = subprocess.run(
        [sys.executable, "-c", "from api.cli import main; main()", "notify", "run"],
        env={**os.environ, **sqlite_env, "RETE_KEK": another},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert follower.returncode == 1, follower.stderr
    last = follower.stderr.strip().splitlines()[-1]
    assert last.startswith("Error: a data key did not unwrap under KEK version 1"), last


def test_serve_stops_on_a_broken_data_file(run, tmp_path, monkeypatch):
    monkeypatch.setattr(server.uvicorn, "run", lambda *a, **k: pytest.fail("should not serve"))
    broken = tmp_path / "directory.json"
    broken.write_text("{}")
    result = run("serve", RETE_DIRECTORY_FILE=str(broken))
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ")
    assert "Traceback" not in result.output


def test_demo_prints_the_story(run, monkeypatch):
    monkeypatch.setattr(cli_demo, "load_demo", lambda rete: ["first step", "second step"])
    result = run("demo")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == ["first step", "second step"]


def test_demo_refused_by_a_rule_is_one_line(run, monkeypatch):
    def refuse(rete):
        raise NoCoveringConsent("no active consent covers this")

    monkeypatch.setattr(cli_demo, "load_demo", refuse)
    result = run("demo")
    assert result.exit_code == 1
    # (a first run may warn first that it created development keys)
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line == "Error: no-covering-consent: no active consent covers this"


@pytest.mark.parametrize("command", [["serve"], ["views", "status"], ["demo"]])
def test_a_database_that_cannot_be_opened_is_one_line_and_nothing_is_served(
    run, tmp_path, monkeypatch, command
):
    monkeypatch.setattr(server.uvicorn, "run", lambda *a, **k: pytest.fail("should not serve"))
    a_folder = tmp_path / "not-a-database"
    a_folder.mkdir()
    result = run(*command, RETE_DATABASE_URL=f"sqlite:///{a_folder}")
    assert result.exit_code == 1, result.output
    assert (
        result.stderr.strip()
        .splitlines()[-1]
        .startswith("Error: the database refused or did not answer: ")
    )
    assert "check RETE_DATABASE_URL" in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize("command", ["ledger", "views", "keys", "audit"])
def test_an_operators_command_loads_neither_the_web_framework_nor_the_other_commands(command):
    """``rete ledger verify`` and the others start without the HTTP API's imports (a
    verification's memory is its parent's plus its workers': docs/PERFORMANCE.md)."""
    probe = (
        "import sys, click; from api.cli import main; "
        f"main.get_command(click.Context(main), {command!r}); "
        "print(sorted(m for m in ('litestar', 'api.auth', 'api.cli_serve', 'api.cli_demo') "
        "if m in sys.modules))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert loaded.strip() == "[]"
