"""Bearer tokens: every forged, stale or foreign token answers 401 with a challenge."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from support.http import anna_claims

from api.auth import Claims, TokenVerifier

CASES = "/api/v1/cases"


def claims(api, **overrides):
    now = int(datetime.now(UTC).timestamp())
    payload = {**anna_claims(api.settings, now, now + 3600), **overrides}
    return {k: v for k, v in payload.items() if v is not None}


def signed(api, key=None, algorithm="HS256", **overrides):
    return jwt.encode(claims(api, **overrides), key or api.secret, algorithm=algorithm)


def unsigned(api, **overrides):
    def part(obj):
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims(api, **overrides))}."


def call(api, token):
    return api.client.get(CASES, headers={"Authorization": f"Bearer {token}"})


def test_a_valid_token_is_accepted(api):
    assert call(api, signed(api)).status_code == 200


def test_no_token_is_refused_with_a_bearer_challenge(api, problem):
    response = api.client.get(CASES)
    problem(response, 401, "missing-token")
    assert response.headers["www-authenticate"] == 'Bearer realm="rete"'


def test_another_scheme_is_refused(api, problem):
    response = api.client.get(CASES, headers={"Authorization": "Basic YW5uYTpzZWNyZXQ="})
    problem(response, 401, "invalid-token")


NOW = int(datetime.now(UTC).timestamp())

BAD_TOKENS = {
    "alg none": lambda api: unsigned(api),
    "HS512, not on the allow-list": lambda api: signed(api, algorithm="HS512"),
    "another secret": lambda api: signed(api, key=b"x" * 32),
    "wrong issuer": lambda api: signed(api, iss="someone-else"),
    "wrong audience": lambda api: signed(api, aud="another-api"),
    "no issuer": lambda api: signed(api, iss=None),
    "no audience": lambda api: signed(api, aud=None),
    "no expiry": lambda api: signed(api, exp=None),
    "no issued-at": lambda api: signed(api, iat=None),
    "no subject": lambda api: signed(api, sub=None),
    "no service": lambda api: signed(api, service=None),
    "no roles": lambda api: signed(api, roles=None),
    "roles not a list": lambda api: signed(api, roles="caseworker"),
    "issued in the future": lambda api: signed(api, iat=NOW + 3600, exp=NOW + 7200),
    "not valid yet": lambda api: signed(api, nbf=NOW + 3600),
    "malformed": lambda api: "not.a.token",
    "garbage": lambda api: "%%%",
}


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
@pytest.mark.parametrize("make", BAD_TOKENS.values(), ids=BAD_TOKENS.keys())
def test_invalid_tokens_are_refused(api, problem, make):
    response = call(api, make(api))
    problem(response, 401, "invalid-token")
    assert response.headers["www-authenticate"] == 'Bearer realm="rete", error="invalid_token"'


def test_an_expired_token_is_refused(api, problem):
    response = call(api, signed(api, iat=NOW - 7200, exp=NOW - 3600))
    problem(response, 401, "expired-token")
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


@pytest.mark.parametrize(
    ("service", "roles"),
    [
        ("no-such-service", ["caseworker"]),  # not in the directory
        ("osservatorio", ["caseworker"]),  # the observatory's kind has analysts only
        ("cav-scirocco", ["auditor"]),  # a CAV has no auditors
        ("cav-scirocco", ["superuser"]),  # no such role
        ("cav-scirocco", []),  # nobody
    ],
)
def test_a_token_naming_nobody_we_know_is_refused(api, problem, service, roles):
    response = call(api, signed(api, service=service, roles=roles))
    body = problem(response, 401, "unknown-actor" if roles else "invalid-token")
    assert service not in body["detail"]


def test_public_routes_need_no_token_and_are_matched_exactly(api, problem):
    assert api.client.get("/health").status_code == 200
    assert api.client.get("/schema/openapi.json").status_code == 200
    # "/health" inside another path is no exemption.
    problem(api.client.get(f"{CASES}/health"), 401, "missing-token")


# -- the verifier on its own ----------------------------------------------------


def test_a_public_key_verifier_accepts_eddsa_and_refuses_hs256_signed_with_the_key():
    private = Ed25519PrivateKey.generate()
    pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    verifier = TokenVerifier.for_public_key(pem, "idp", "rete-api")
    now = int(datetime.now(UTC).timestamp())
    payload = {
        "sub": "anna",
        "service": "cav-scirocco",
        "roles": ["caseworker"],
        "iss": "idp",
        "aud": "rete-api",
        "iat": now,
        "exp": now + 60,
    }
    assert verifier.verify(jwt.encode(payload, private, algorithm="EdDSA")) == Claims(
        "anna", "cav-scirocco", ("caseworker",)
    )
    # Algorithm confusion: the public key used as an HMAC secret.
    forged = jwt.encode(payload, b"x" * 32, algorithm="HS256")
    with pytest.raises(Exception) as refused:
        verifier.verify(forged)
    assert getattr(refused.value, "status_code", None) == 401


def test_a_verifier_cannot_be_built_without_a_real_algorithm():
    with pytest.raises(ValueError):
        TokenVerifier(b"k" * 32, ["none"], "i", "a")
    with pytest.raises(ValueError):
        TokenVerifier(b"k" * 32, [], "i", "a")


def test_minted_tokens_carry_every_required_claim(api):
    token = api.token("anna", "cav-scirocco", "caseworker", ttl=timedelta(minutes=5))
    payload = jwt.decode(
        token, api.secret, algorithms=["HS256"], audience=api.settings.jwt_audience
    )
    assert {"sub", "service", "roles", "iss", "aud", "iat", "exp", "nbf", "jti"} <= set(payload)
    assert payload["exp"] - payload["iat"] == 300
