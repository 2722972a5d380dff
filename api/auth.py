"""Bearer tokens (JWT): who is calling, for which service, in which roles.

Every token must carry ``sub``, ``service``, ``roles`` (a list of strings),
``iss``, ``aud``, ``exp`` and ``iat``; issuer and audience must be ours, and the
signature must use an algorithm on the verifier's allow-list (``HS256`` for the
development secret; ``EdDSA`` or ``RS256`` for a configured public key; never
``none``). Expired tokens (``expired-token``), and tokens issued or valid only
in the future beyond ``LEEWAY`` (``invalid-token``), are refused. So is a token
that lives longer than the verifier's ``max_lifetime`` (the setting
``RETE_MAX_TOKEN_LIFETIME``, 12 hours by default), counted from its ``iat`` and
from now (``token-lifetime-too-long``): whoever mints tokens, a stolen one is
worth at most that long.

Keys come from a ``KeySource``: one fixed key (the development secret, a configured
PEM), or the network's identity provider's JWKS (``api.oidc``), where the key is
chosen by the token's ``kid`` and the algorithm by the key, never by the token.
Where the service and the roles sit in the token is a ``ClaimNames`` (dotted paths,
and a map from the provider's role names to ours).

All refusals answer 401 with ``WWW-Authenticate: Bearer``, including a valid
signature over claims that describe nobody we know (a service missing from the
directory, a role the service's kind cannot hold): such a token does not
authenticate anyone, so 403 (a known caller, not allowed) would be wrong. What
an authenticated actor may do is decided by the application, not here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Protocol
from uuid import uuid4

import anyio.to_thread
import jwt
import msgspec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from litestar.connection import ASGIConnection, Request
from litestar.middleware.authentication import (
    AbstractAuthenticationMiddleware,
    AuthenticationResult,
)
from litestar.types import ASGIApp

from api.problems import Problem
from domain.errors import DomainError
from domain.network import Actor

DEV_ALGORITHM = "HS256"
LEEWAY = timedelta(seconds=30)
DEFAULT_MAX_LIFETIME = timedelta(hours=12)
# Anchored: Litestar's exclude patterns are searched anywhere in the path.
PUBLIC_PATHS = (r"^/health$", r"^/schema(/.*)?$")

_REALM = 'Bearer realm="rete"'
_REQUIRED = ["exp", "iat", "iss", "aud", "sub"]


class Authenticating(Protocol):
    """Where the middleware finds, at each request, the token check and the people
    of the network the app serves (``api.serving.Serving``)."""

    @property
    def verifier(self) -> TokenVerifier: ...

    def identify(self, user_id: str, service_id: str, roles: Iterable[str]) -> Actor: ...


class _Claims(msgspec.Struct):
    """Our claims beyond the registered ones PyJWT checks."""

    sub: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    service: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    roles: Annotated[
        list[Annotated[str, msgspec.Meta(max_length=50)]], msgspec.Meta(min_length=1, max_length=10)
    ]


@dataclass(frozen=True)
class Claims:
    user: str
    service: str
    roles: tuple[str, ...]


@dataclass(frozen=True)
class ClaimNames:
    """Where a token says its service and roles: dotted paths into its claims (a
    provider nests them, e.g. ``resource_access.rete.roles``), and the provider's role
    names mapped to ours. With a map, roles it does not name are dropped (a provider
    adds its own, such as ``offline_access``); without one, names are taken as ours."""

    service: str = "service"
    roles: str = "roles"
    role_map: Mapping[str, str] = field(default_factory=dict)

    def read(self, payload: Mapping[str, Any]) -> Claims:
        """The claims, or ``msgspec.ValidationError`` when one is missing or ill-typed."""
        roles = _at(payload, self.roles)
        if self.role_map and isinstance(roles, list):
            roles = [self.role_map[r] for r in roles if isinstance(r, str) and r in self.role_map]
        found = {"sub": payload.get("sub"), "service": _at(payload, self.service), "roles": roles}
        claims = msgspec.convert(found, _Claims)
        return Claims(claims.sub, claims.service, tuple(claims.roles))


def _at(payload: Mapping[str, Any], path: str) -> Any:
    value: Any = payload
    for name in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(name)
    return value


class KeySource(Protocol):
    """The key and the algorithms a token may be checked with."""

    fetches: bool  # True when finding the key may wait on the network

    def key_for(self, token: str) -> tuple[Any, list[str]]: ...


@dataclass(frozen=True)
class FixedKey:
    key: Any
    algorithms: list[str]
    fetches: bool = False

    def key_for(self, token: str) -> tuple[Any, list[str]]:
        return self.key, self.algorithms


def unauthenticated(code: str, detail: str) -> Problem:
    challenge = _REALM if code == "missing-token" else f'{_REALM}, error="invalid_token"'
    return Problem(401, code, "Not authenticated", detail, headers={"WWW-Authenticate": challenge})


class TokenVerifier:
    """Checks a token's signature and claims; knows nothing of the network."""

    def __init__(
        self,
        key: Any,
        algorithms: Sequence[str],
        issuer: str,
        audience: str,
        max_lifetime: timedelta = DEFAULT_MAX_LIFETIME,
        *,
        keys: KeySource | None = None,
        claim_names: ClaimNames | None = None,
    ) -> None:
        if not algorithms or any(a.lower() == "none" for a in algorithms):
            raise ValueError("a verifier needs real signature algorithms")
        self._keys = keys or FixedKey(key, list(algorithms))
        self._claim_names = claim_names or ClaimNames()
        self.issuer = issuer
        self.audience = audience
        self.max_lifetime = max_lifetime

    @property
    def fetches(self) -> bool:
        """True when verifying may wait on the network (run it off the event loop)."""
        return self._keys.fetches

    @classmethod
    def for_secret(
        cls,
        secret: bytes,
        issuer: str,
        audience: str,
        max_lifetime: timedelta = DEFAULT_MAX_LIFETIME,
    ) -> TokenVerifier:
        return cls(secret, [DEV_ALGORITHM], issuer, audience, max_lifetime)

    @classmethod
    def for_public_key(
        cls,
        pem: bytes,
        issuer: str,
        audience: str,
        max_lifetime: timedelta = DEFAULT_MAX_LIFETIME,
    ) -> TokenVerifier:
        """Production: EdDSA (Ed25519) or RS256, as the key's type says."""
        key = load_pem_public_key(pem)
        if isinstance(key, Ed25519PublicKey):
            return cls(key, ["EdDSA"], issuer, audience, max_lifetime)
        if isinstance(key, RSAPublicKey):
            return cls(key, ["RS256"], issuer, audience, max_lifetime)
        raise ValueError("the public key must be Ed25519 or RSA")

    def verify(self, token: str) -> Claims:
        try:
            key, algorithms = self._keys.key_for(token)
            payload = jwt.decode(
                token,
                key,
                algorithms=algorithms,
                issuer=self.issuer,
                audience=self.audience,
                leeway=LEEWAY,
                options={"require": _REQUIRED},
            )
            claims = self._claim_names.read(payload)
        except jwt.ExpiredSignatureError:
            raise unauthenticated("expired-token", "the token has expired") from None
        except (jwt.PyJWTError, msgspec.ValidationError):
            raise unauthenticated("invalid-token", "the token is not valid here") from None
        self._check_lifetime(payload)
        return claims

    def _check_lifetime(self, payload: dict[str, Any]) -> None:
        """``exp`` at most ``max_lifetime`` after ``iat``, and after now (PyJWT has
        checked both are numbers, ``iat`` not in the future and ``exp`` not past)."""
        limit = self.max_lifetime.total_seconds()
        now = datetime.now(UTC).timestamp()
        exp, iat = payload["exp"], payload["iat"]
        if exp - iat > limit or exp - now > limit + LEEWAY.total_seconds():
            hours = limit / 3600
            raise unauthenticated(
                "token-lifetime-too-long",
                f"the token lives longer than this server accepts ({hours:g} hours)",
            )


def mint_token(
    secret: bytes,
    issuer: str,
    audience: str,
    user: str,
    service: str,
    roles: Sequence[str],
    ttl: timedelta,
    now: datetime | None = None,
) -> str:
    """A development token signed with the local HS256 secret."""
    issued = now or datetime.now(UTC)
    payload = {
        "sub": user,
        "service": service,
        "roles": list(roles),
        "iss": issuer,
        "aud": audience,
        "iat": int(issued.timestamp()),
        "nbf": int(issued.timestamp()),
        "exp": int((issued + ttl).timestamp()),
        "jti": str(uuid4()),
    }
    return jwt.encode(payload, secret, algorithm=DEV_ALGORITHM)


class BearerAuthentication(AbstractAuthenticationMiddleware):
    """Puts the verified ``Actor`` in ``request.user`` (and the claims in ``request.auth``)."""

    def __init__(self, app: ASGIApp, serving: Authenticating) -> None:
        super().__init__(app, exclude=list(PUBLIC_PATHS))
        self.serving = serving

    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        header = connection.headers.get("authorization")
        if not header:
            raise unauthenticated("missing-token", "send a Bearer token in Authorization")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise unauthenticated("invalid-token", "use the Bearer scheme")
        serving = self.serving
        verifier = serving.verifier
        if verifier.fetches:
            claims = await anyio.to_thread.run_sync(verifier.verify, token.strip())
        else:
            claims = verifier.verify(token.strip())
        try:
            actor = serving.identify(claims.user, claims.service, claims.roles)
        except DomainError:
            raise unauthenticated(
                "unknown-actor", "the token names a service or role this network does not know"
            ) from None
        return AuthenticationResult(user=actor, auth=claims)


def current_actor(request: Request[Any, Any, Any]) -> Actor:
    """The dependency handlers take: the authenticated actor."""
    return actor_of(request)


def actor_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Actor:
    """The authenticated actor of a request (what the middleware put there)."""
    user = connection.scope.get("user")
    if not isinstance(user, Actor):
        raise unauthenticated("missing-token", "send a Bearer token in Authorization")
    return user
