"""What an app serves: the application and the check of the tokens that reach it.

Requests, the background plugin and the announcements' streams read them from
here when they run, not from what the app was built with. Building the routes is
most of building an app (Litestar parses every handler's signature: about 70 ms
of CPU); an app that is not running can therefore be pointed at another
application of the same network (``serve``) instead of being built again. The
test harness does that once per test; ``rete serve`` builds one app per worker
and never re-points it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from api.auth import TokenVerifier
from application.rete import Rete
from domain.network import Actor


class Serving:
    """The application an app serves, its token check, and whether it runs."""

    def __init__(self, rete: Rete, verifier: TokenVerifier, owned: Rete | None) -> None:
        self.rete = rete
        self.verifier = verifier
        # Built by ``create_app`` (not passed in): closed when the app shuts down.
        self.owned = owned
        self.running = False

    def identify(self, user_id: str, service_id: str, roles: Iterable[str]) -> Actor:
        return self.rete.identify(user_id, service_id, roles)

    def current_rete(self) -> Rete:
        """The ``rete`` dependency of every handler."""
        return self.rete

    def close_owned(self) -> None:
        if self.owned is not None:
            self.owned.close()

    def point_at(self, rete: Rete, verifier: TokenVerifier) -> None:
        """Serve ``rete`` from now on (the app must not be running)."""
        if self.running:
            raise RuntimeError("an app is pointed at another application only while stopped")
        self.close_owned()
        self.rete, self.verifier, self.owned = rete, verifier, None


class Network(NamedTuple):
    """What an app's OpenAPI document says of the network: its services, those that
    work cases, and the items of each risk instrument. An app is pointed only at an
    application of the same network."""

    services: tuple[str, ...]
    case_services: tuple[str, ...]
    instruments: tuple[tuple[str, tuple[str, ...]], ...]


def network_of(rete: Rete) -> Network:
    return Network(
        tuple(sorted(service.id for service in rete.directory)),
        tuple(sorted(service.id for service in rete.directory if service.works_cases)),
        tuple((i.id, tuple(item.id for item in i.items)) for i in rete.instruments),
    )
