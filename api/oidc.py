"""Tokens from the network's identity provider (OIDC): keys from its JWKS.

The provider (Keycloak, a regional IdP behind SPID/CIE, any OpenID Connect
provider) signs the tokens; Rete checks them with the public keys the provider
publishes at its ``jwks_uri``, found in its discovery document
(``<issuer>/.well-known/openid-configuration``) unless configured directly.

Rotation needs no restart: a key set is trusted for ``RETE_OIDC_JWKS_CACHE_SECONDS``
and then fetched again, so a key the provider removed stops opening tokens within
that time; a token naming a key not yet seen makes one early fetch (at most one per
``_cooldown`` seconds, so that made-up ``kid``s cannot make Rete hammer the provider).

The key is chosen by the token's ``kid`` and must carry an algorithm Rete allows
(``RETE_OIDC_ALGORITHMS``); the token is then checked with that algorithm only, so
a token cannot choose how it is checked (no ``alg`` confusion, never ``none``).
While the provider cannot be reached and no key set is held, requests answer 503
``identity-provider-unavailable`` with ``Retry-After``.
"""

from __future__ import annotations

import json
import threading
import urllib.request
from datetime import timedelta
from typing import Any

import jwt
from jwt import PyJWK, PyJWKClient, PyJWKClientConnectionError

from api.auth import ClaimNames, TokenVerifier
from api.problems import Problem
from infrastructure.settings import OidcSettings

DISCOVERY_PATH = "/.well-known/openid-configuration"
FETCH_TIMEOUT_SECONDS = 5.0
RETRY_AFTER_SECONDS = 5


def identity_provider_unavailable() -> Problem:
    return Problem(
        503,
        "identity-provider-unavailable",
        "Identity provider unavailable",
        "the network's identity provider does not answer; retry shortly",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


class ProviderKeys:
    """The provider's signing keys, fetched and cached (a ``KeySource``)."""

    fetches = True

    def __init__(self, settings: OidcSettings) -> None:
        self._settings = settings
        self._lock = threading.Lock()
        self._client: PyJWKClient | None = None

    def key_for(self, token: str) -> tuple[Any, list[str]]:
        try:
            key: PyJWK = self._jwks().get_signing_key_from_jwt(token)
        except PyJWKClientConnectionError:
            raise identity_provider_unavailable() from None
        algorithm = key.algorithm_name
        if algorithm not in self._settings.algorithms:
            raise jwt.InvalidAlgorithmError(f"the provider's key is for {algorithm}")
        return key.key, [algorithm]

    def _jwks(self) -> PyJWKClient:
        with self._lock:
            if self._client is None:
                cache = self._settings.jwks_cache_seconds
                self._client = PyJWKClient(
                    self._settings.jwks_url or self._discover(),
                    cache_jwk_set=True,
                    lifespan=cache,
                    timeout=FETCH_TIMEOUT_SECONDS,
                    cooldown_duration=min(10.0, cache),
                )
            return self._client

    def _discover(self) -> str:
        """The ``jwks_uri`` of the issuer's discovery document, which must name the
        same issuer (OpenID Connect Discovery 1.0, section 4.3)."""
        url = self._settings.issuer.rstrip("/") + DISCOVERY_PATH
        try:
            with urllib.request.urlopen(url, timeout=FETCH_TIMEOUT_SECONDS) as response:
                document = json.load(response)
        except (OSError, ValueError):
            raise identity_provider_unavailable() from None
        if not isinstance(document, dict) or document.get("issuer") != self._settings.issuer:
            raise identity_provider_unavailable()
        jwks_uri = document.get("jwks_uri")
        if not isinstance(jwks_uri, str) or not jwks_uri.startswith(("https://", "http://")):
            raise identity_provider_unavailable()
        return jwks_uri


def provider_verifier(
    settings: OidcSettings, audience: str, max_lifetime: timedelta
) -> TokenVerifier:
    """Checks the provider's tokens: its issuer, our audience, its keys, its claims."""
    return TokenVerifier(
        None,  # keys found per token, by ``ProviderKeys``
        settings.algorithms,
        settings.issuer,
        audience,
        max_lifetime,
        keys=ProviderKeys(settings),
        claim_names=ClaimNames(settings.service_claim, settings.roles_claim, settings.role_map),
    )
