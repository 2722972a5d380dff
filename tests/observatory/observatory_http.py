"""The API as the observatory's tests call it: people by nickname, tokens minted."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from litestar.testing import TestClient

from api.auth import mint_token
from application.rete import Rete
from infrastructure.settings import Settings

MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

PEOPLE: dict[str, tuple[str, str]] = {
    "oli": ("osservatorio", "analyst"),
    "anna": ("cav-scirocco", "caseworker"),
    "chiara": ("cav-scirocco", "coordinator"),
    "bruna": ("ss-cesano", "coordinator"),
    "ugo": ("garanzia-cesano", "auditor"),
}


class Clock:
    def __init__(self, at: datetime = MONDAY) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at


@dataclass
class Api:
    client: TestClient[Any]
    settings: Settings
    rete: Rete
    secret: bytes

    def headers(self, who: str) -> dict[str, str]:
        service, role = PEOPLE[who]
        token = mint_token(
            self.secret,
            self.settings.jwt_issuer,
            self.settings.jwt_audience,
            who,
            service,
            (role,),
            timedelta(hours=1),
        )
        return {"Authorization": f"Bearer {token}"}

    def get(self, who: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.get(path, headers=self.headers(who), **kwargs)

    def post(self, who: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.post(path, headers=self.headers(who), **kwargs)
