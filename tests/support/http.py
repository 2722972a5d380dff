"""The HTTP API on an application the test built, with tokens minted like ``rete token``.

People of the network are called by nickname: ``api.post("anna", path, json=...)``;
``None`` sends no token at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
from litestar import Litestar
from litestar.testing import TestClient

from api.app import create_app, serve
from api.auth import mint_token
from api.serving import Network, network_of
from application.rete import Rete
from infrastructure.dev_secret import load_or_create_dev_secret
from infrastructure.settings import Settings
from support.clock import TestClock
from support.people import PEOPLE

# Stopped apps, by the network their document describes, for the next ``Api.open``.
_IDLE_APPS: dict[Network, list[Litestar]] = {}


@dataclass
class Api:
    client: TestClient[Any]
    settings: Settings
    rete: Rete
    clock: TestClock
    secret: bytes
    tokens: dict[str, str] = field(default_factory=dict)

    @classmethod
    def open(cls, settings: Settings, rete: Rete, clock: TestClock) -> Api:
        """Serves ``rete`` as ``create_app(settings, rete)`` does; ``close`` stops it
        (not the application). The app is one this process built before for the same
        network, stopped, pointed at ``rete`` (``api.app.serve``), or a new one:
        building the routes is most of an app's cost, paid once per process."""
        idle = _IDLE_APPS.setdefault(network_of(rete), [])
        if idle:
            app = idle.pop()
            serve(app, settings, rete)
        else:
            app = create_app(settings, rete)
        client = TestClient(app)
        client.__enter__()
        secret = load_or_create_dev_secret(settings.jwt_secret_file).key
        return cls(client, settings, rete, clock, secret)

    def close(self) -> None:
        self.client.__exit__(None, None, None)
        _IDLE_APPS.setdefault(network_of(self.rete), []).append(self.client.app)

    def token(
        self, user: str, service: str, *roles: str, ttl: timedelta = timedelta(hours=1)
    ) -> str:
        s = self.settings
        return mint_token(self.secret, s.jwt_issuer, s.jwt_audience, user, service, roles, ttl)

    def headers(self, who: str | None) -> dict[str, str]:
        if who is None:
            return {}
        if who not in self.tokens:
            service, roles = PEOPLE[who]
            self.tokens[who] = self.token(who, service, *roles)
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    def _with(self, who: str | None, kwargs: dict[str, Any]) -> dict[str, str]:
        return {**self.headers(who), **kwargs.pop("headers", {})}

    def get(self, who: str | None, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.get(path, headers=self._with(who, kwargs), **kwargs)

    def post(self, who: str | None, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.post(path, headers=self._with(who, kwargs), **kwargs)

    def delete(self, who: str | None, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.delete(path, headers=self._with(who, kwargs), **kwargs)

    def ok(self, response: httpx.Response, status: int = 200) -> Any:
        """The JSON body of an answer with that status."""
        assert response.status_code == status, response.text
        return response.json()


def anna_claims(settings: Settings, iat: int, exp: int) -> dict[str, Any]:
    """Anna's claims at the CAV as ``rete token`` writes them, valid from ``iat`` to ``exp``."""
    return {
        "sub": "anna",
        "service": "cav-scirocco",
        "roles": ["caseworker"],
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": iat,
        "exp": exp,
    }


def dev_token(settings: Settings, user: str, service: str, roles: list[str], ttl: timedelta) -> str:
    """A token as ``rete token`` mints it, with the development secret under ``settings``."""
    secret = load_or_create_dev_secret(settings.jwt_secret_file).key
    return mint_token(secret, settings.jwt_issuer, settings.jwt_audience, user, service, roles, ttl)


def anna_headers(settings: Settings, ttl: timedelta) -> dict[str, str]:
    """Anna's bearer token at the CAV, as a caseworker."""
    return {
        "Authorization": f"Bearer {dev_token(settings, 'anna', 'cav-scirocco', ['caseworker'], ttl)}"
    }
