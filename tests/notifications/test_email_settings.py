"""The email channel's settings and the duty addresses: a mistake stops start-up
with a message naming the variable or the entry, and no password is shown."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infrastructure.network_file import NetworkFileError, load_directory, load_duty_addresses
from infrastructure.settings import SettingsError, load_settings

FROM = {"RETE_SMTP_FROM": "rete@cesano-boscone.example"}


def test_no_smtp_url_means_no_email() -> None:
    assert load_settings({}).smtp is None


@pytest.mark.parametrize(
    ("url", "security", "port"),
    [
        ("smtp://relay.local", "plain", 25),
        ("smtp+starttls://mail.example.org", "starttls", 587),
        ("smtps://mail.example.org", "tls", 465),
        ("smtp+starttls://mail.example.org:2525", "starttls", 2525),
    ],
)
def test_the_url_says_how_to_reach_the_server(url: str, security: str, port: int) -> None:
    smtp = load_settings({"RETE_SMTP_URL": url, **FROM}).smtp
    assert smtp is not None
    assert (smtp.security, smtp.port, smtp.username) == (security, port, None)


def test_a_login_in_the_url_is_decoded_and_kept_out_of_repr() -> None:
    env = {"RETE_SMTP_URL": "smtps://rete%40comune:p%40ss%3Aw@mail.example.org", **FROM}
    smtp = load_settings(env).smtp
    assert smtp is not None
    assert (smtp.username, smtp.password) == ("rete@comune", "p@ss:w")
    assert "p@ss" not in repr(smtp)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"RETE_SMTP_URL": "http://mail.example.org", **FROM}, "RETE_SMTP_URL"),
        ({"RETE_SMTP_URL": "smtp://", **FROM}, "RETE_SMTP_URL"),
        ({"RETE_SMTP_URL": "smtp://mail.example.org:99999", **FROM}, "RETE_SMTP_URL"),
        ({"RETE_SMTP_URL": "smtp://mail.example.org"}, "RETE_SMTP_FROM"),
        ({"RETE_SMTP_URL": "smtp://m.example.org", "RETE_SMTP_FROM": "a@b\nBcc: x@y"}, "FROM"),
        ({"RETE_SMTP_URL": "smtp://m.example.org", **FROM, "RETE_SMTP_TIMEOUT": "0"}, "TIMEOUT"),
        ({"RETE_PUBLIC_URL": "rete.example.org"}, "RETE_PUBLIC_URL"),
    ],
)
def test_a_bad_value_names_its_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        load_settings(env)


def test_the_seed_directory_gives_the_police_a_duty_address() -> None:
    addresses = load_duty_addresses()
    assert addresses["pl-cesano"] == "turno@polizialocale.cesano-boscone.example"
    # Services that receive no referral have none.
    assert "osservatorio" not in addresses


def test_a_malformed_duty_address_stops_loading_naming_the_service(tmp_path: Path) -> None:
    path = tmp_path / "network.json"
    service = {"id": "pl-x", "kind": "police", "name": "Polizia", "duty_email": "turno at pl"}
    path.write_text(json.dumps({"code": "X", "name": "X", "services": [service]}))
    load_directory(path)  # the directory itself is fine
    with pytest.raises(NetworkFileError, match="pl-x: duty_email"):
        load_duty_addresses(path)
