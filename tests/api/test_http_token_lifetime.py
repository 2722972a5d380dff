"""The server caps how long a token may live, whoever minted it (issue 10, finding 7).

A token that lives for a year is a stolen credential for a year. The cap is the
server's setting ``RETE_MAX_TOKEN_LIFETIME`` (seconds, default 12 hours); a
token whose ``exp`` is further than that from its ``iat``, or from now, is
refused with 401 ``token-lifetime-too-long``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest
from click.testing import CliRunner
from support.http import anna_claims

from api.cli import main
from infrastructure.settings import SettingsError, load_settings

CASES = "/api/v1/cases"
HOUR = 3600


def token(api, iat: int, exp: int) -> str:
    return jwt.encode(anna_claims(api.settings, iat, exp), api.secret, algorithm="HS256")


def call(api, bearer: str):
    return api.client.get(CASES, headers={"Authorization": f"Bearer {bearer}"})


def now() -> int:
    return int(datetime.now(UTC).timestamp())


def test_a_token_living_longer_than_twelve_hours_is_refused(api, problem):
    t = now()
    for exp in (t + 12 * HOUR + 120, t + 365 * 24 * HOUR, 2**40):
        response = call(api, token(api, t, exp))
        problem(response, 401, "token-lifetime-too-long")
        assert 'error="invalid_token"' in response.headers["www-authenticate"]


def test_an_old_token_that_still_has_hours_to_live_is_refused(api, problem):
    t = now()
    response = call(api, token(api, t - 30 * 24 * HOUR, t + HOUR))
    problem(response, 401, "token-lifetime-too-long")


def test_a_token_within_the_cap_is_accepted(api):
    t = now()
    assert call(api, token(api, t, t + 12 * HOUR)).status_code == 200
    assert call(api, token(api, t - 11 * HOUR, t + HOUR)).status_code == 200


def test_the_cap_is_a_setting(make_api, sqlite_env, problem):
    api = make_api({**sqlite_env, "RETE_MAX_TOKEN_LIFETIME": str(HOUR)})
    t = now()
    assert call(api, token(api, t, t + HOUR)).status_code == 200
    problem(call(api, token(api, t, t + 2 * HOUR)), 401, "token-lifetime-too-long")


@pytest.mark.parametrize("value", ["twelve hours", "0", "-5", "1.5"])
def test_a_cap_that_is_not_a_positive_number_of_seconds_is_refused(value):
    with pytest.raises(SettingsError, match="RETE_MAX_TOKEN_LIFETIME"):
        load_settings({"RETE_MAX_TOKEN_LIFETIME": value})


def test_the_default_cap_is_twelve_hours():
    assert load_settings({}).max_token_lifetime == timedelta(hours=12)


def test_the_token_command_mints_no_token_the_server_would_refuse(tmp_path):
    env = {"RETE_VAR_DIR": str(tmp_path / "var"), "RETE_MAX_TOKEN_LIFETIME": str(HOUR)}
    args = ["token", "--user", "a", "--service", "cav-scirocco", "--role", "caseworker"]
    runner = CliRunner()
    refused = runner.invoke(main, [*args, "--ttl", "2h"], env=env)
    assert refused.exit_code == 2 and "RETE_MAX_TOKEN_LIFETIME" in refused.output
    assert runner.invoke(main, [*args, "--ttl", "1h"], env=env).exit_code == 0
