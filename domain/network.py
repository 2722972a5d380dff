"""The network: its services (from the directory) and the people acting for them."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from domain import errors
from domain.vocabulary import (
    CASE_WORKING_KINDS,
    ROLES_BY_KIND,
    VISIBILITY,
    Category,
    Role,
    ServiceKind,
)


@dataclass(frozen=True, slots=True)
class Service:
    """A node of the network: one signatory of the protocol."""

    id: str
    kind: ServiceKind
    name: str

    @property
    def visible_categories(self) -> frozenset[Category]:
        return VISIBILITY[self.kind]

    @property
    def works_cases(self) -> bool:
        return self.kind in CASE_WORKING_KINDS


@dataclass(frozen=True, slots=True)
class Actor:
    """A person acting for a service, as their (already verified) token says."""

    user_id: str
    service: Service
    roles: frozenset[Role]

    def __post_init__(self) -> None:
        not_allowed = self.roles - ROLES_BY_KIND[self.service.kind]
        if not_allowed:
            raise errors.RoleNotAllowed(
                f"a {self.service.kind} service cannot hold the role(s) "
                f"{', '.join(sorted(not_allowed))}"
            )
        if not self.roles:
            raise errors.RoleNotAllowed("an actor needs at least one role")

    def has(self, role: Role) -> bool:
        return role in self.roles

    @property
    def works_cases(self) -> bool:
        """Caseworkers and coordinators of a case-working service work cases."""
        return self.service.works_cases and bool(self.roles & {Role.CASEWORKER, Role.COORDINATOR})

    def require(self, *roles: Role) -> None:
        """Refuse unless the actor holds at least one of ``roles``."""
        if not self.roles & set(roles):
            if set(roles) == {Role.COORDINATOR}:
                raise errors.CoordinatorRequired("only a coordinator may do this")
            raise errors.RoleNotAllowed(f"this needs the role {' or '.join(roles)}")


class NetworkDirectory:
    """Which services make up the network. Data, not code: another town, another file."""

    def __init__(self, code: str, name: str, services: Iterable[Service]) -> None:
        self.code = code
        self.name = name
        self._services: Mapping[str, Service] = {s.id: s for s in services}

    def __contains__(self, service_id: object) -> bool:
        return service_id in self._services

    def __iter__(self) -> Iterator[Service]:
        return iter(self._services.values())

    def __len__(self) -> int:
        return len(self._services)

    def service(self, service_id: str) -> Service:
        try:
            return self._services[service_id]
        except KeyError:
            raise errors.UnknownService(f"no service {service_id!r} in the network") from None

    def of_kind(self, kind: ServiceKind) -> list[Service]:
        return [s for s in self._services.values() if s.kind is kind]
