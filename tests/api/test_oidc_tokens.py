"""Tokens from the network's identity provider: its keys fetched from its JWKS over
HTTP, rotated by it without a restart of Rete, its claims mapped to service and role."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from support.http import anna_headers
from support.identity_provider import IdentityProvider, SigningKey

CASES = "/api/v1/cases"
AUDIENCE = "rete-api"
HOUR = timedelta(hours=1)
# As Keycloak nests a client's roles; the provider names them in Italian.
ANNA = {
    "sub": "8d0c7e4e-anna",
    "aud": AUDIENCE,
    "rete_service": "cav-scirocco",
    "resource_access": {"rete-api": {"roles": ["operatrice", "offline_access"]}},
}


@pytest.fixture
def provider() -> Iterator[IdentityProvider]:
    idp = IdentityProvider().start()
    yield idp
    idp.stop()


@pytest.fixture
def oidc_api(make_api, sqlite_env, provider) -> Any:
    return make_api(
        {
            **sqlite_env,
            "RETE_OIDC_ISSUER": provider.issuer,
            "RETE_JWT_AUDIENCE": AUDIENCE,
            "RETE_OIDC_SERVICE_CLAIM": "rete_service",
            "RETE_OIDC_ROLES_CLAIM": "resource_access.rete-api.roles",
            "RETE_OIDC_ROLE_MAP": "operatrice=caseworker,agente=officer",
            # Short, so that a withdrawn key stops opening tokens within the test.
            "RETE_OIDC_JWKS_CACHE_SECONDS": "1",
        }
    )


def call(api: Any, token: str) -> Any:
    return api.client.get(CASES, headers={"Authorization": f"Bearer {token}"})


@pytest.mark.parametrize("algorithm", ["RS256", "EdDSA", "ES256"])
def test_a_token_the_provider_signed_is_accepted(oidc_api, provider, algorithm):
    key = provider.publish(SigningKey.new("k1", algorithm))
    response = call(oidc_api, provider.token(key, ANNA, HOUR))
    assert response.status_code == 200, response.text


def test_keys_rotated_by_the_provider_are_followed_without_a_restart(oidc_api, provider, problem):
    old = provider.publish(SigningKey.new("2026-11", "RS256"))
    assert call(oidc_api, provider.token(old, ANNA, HOUR)).status_code == 200

    new = provider.publish(SigningKey.new("2026-12", "EdDSA"))
    provider.withdraw(old)
    # Rete fetches the key set again once the fetched one is older than
    # RETE_OIDC_JWKS_CACHE_SECONDS (a token naming an unseen key fetches it early,
    # at most once per cool-down of the same length here).
    time.sleep(1.2)
    assert call(oidc_api, provider.token(new, ANNA, HOUR)).status_code == 200
    problem(call(oidc_api, provider.token(old, ANNA, HOUR)), 401, "invalid-token")
    assert provider.jwks_fetches >= 2


def hs256_over_the_public_key(provider: IdentityProvider, key: SigningKey) -> str:
    """The classic confusion: HMAC keyed with the RSA key's public PEM (PyJWT refuses
    to make one, so it is made by hand)."""

    def part(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    now = int(time.time())
    header = part(json.dumps({"alg": "HS256", "typ": "JWT", "kid": key.kid}).encode())
    body = part(json.dumps({"iss": provider.issuer, "iat": now, "exp": now + 600, **ANNA}).encode())
    pem = key.private.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    mac = hmac.new(pem, f"{header}.{body}".encode(), hashlib.sha256).digest()
    return f"{header}.{body}.{part(mac)}"


BAD: dict[str, tuple[Callable[[IdentityProvider, SigningKey], str], str]] = {
    "another issuer": (
        lambda p, k: p.token(k, {**ANNA, "iss": "https://idp.example/realms/other"}, HOUR),
        "invalid-token",
    ),
    "another audience": (
        lambda p, k: p.token(k, {**ANNA, "aud": "someone-else"}, HOUR),
        "invalid-token",
    ),
    "no subject": (lambda p, k: p.token(k, {**ANNA, "sub": None}, HOUR), "invalid-token"),
    "no service": (lambda p, k: p.token(k, {**ANNA, "rete_service": None}, HOUR), "invalid-token"),
    "no role Rete knows": (
        lambda p, k: p.token(
            k, {**ANNA, "resource_access": {"rete-api": {"roles": ["offline_access"]}}}, HOUR
        ),
        "invalid-token",
    ),
    "a role the service cannot hold": (
        lambda p, k: p.token(
            k, {**ANNA, "resource_access": {"rete-api": {"roles": ["agente"]}}}, HOUR
        ),
        "unknown-actor",
    ),
    "a service not in the network": (
        lambda p, k: p.token(k, {**ANNA, "rete_service": "cav-elsewhere"}, HOUR),
        "unknown-actor",
    ),
    "expired": (lambda p, k: p.token(k, ANNA, timedelta(seconds=-120)), "expired-token"),
    "living longer than the server accepts": (
        lambda p, k: p.token(k, ANNA, timedelta(days=2)),
        "token-lifetime-too-long",
    ),
    "signed by a key the provider never published": (
        lambda p, k: p.token(SigningKey.new(k.kid, "RS256"), ANNA, HOUR),
        "invalid-token",
    ),
    "HS256 over the published public key (algorithm confusion)": (
        hs256_over_the_public_key,
        "invalid-token",
    ),
}


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
@pytest.mark.parametrize("case", BAD.values(), ids=BAD.keys())
def test_tokens_the_network_does_not_grant_are_refused(oidc_api, provider, problem, case):
    make, code = case
    key = provider.publish(SigningKey.new("k1", "RS256"))
    response = call(oidc_api, make(provider, key))
    problem(response, 401, code)
    assert response.headers["www-authenticate"].startswith('Bearer realm="rete"')


def test_development_tokens_are_refused_once_a_provider_is_configured(oidc_api, problem):
    headers = anna_headers(oidc_api.settings, HOUR)
    problem(oidc_api.client.get(CASES, headers=headers), 401, "invalid-token")


def test_while_the_provider_cannot_be_reached_requests_answer_503_with_retry_after(
    oidc_api, provider, problem
):
    key = provider.publish(SigningKey.new("k1", "RS256"))
    token = provider.token(key, ANNA, HOUR)
    provider.stop()
    response = call(oidc_api, token)
    problem(response, 503, "identity-provider-unavailable")
    assert int(response.headers["retry-after"]) > 0
