"""What every use case works with: the store, the views, the clock, and the network's data.

Only dependencies, built by the composition root (``infrastructure.bootstrap``)
and replaceable one by one in tests; and two lookups in the network's own data
(who a token speaks for, which risk instrument). Loading a case or a referral
for someone is ``application.loading``'s; deciding who may is
``application.authorisation``'s.

Commands load aggregates from the event store, decide, and save. Reads come from
the views (``application.view_ports``): rows kept beside the events, decided on
with the same rule (``domain.visibility``), personal parts opened only once the
rule allows them.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from application.idempotency import IdempotencyStore
from application.integrity import IntegrityWatch
from application.owners import KnownOwners
from application.ports import Clock, EndedConsents, EventStore, KeyStore
from application.view_ports import PersonalParts, ViewReader
from domain import errors
from domain.deadlines import DeadlinePolicy
from domain.network import Actor, NetworkDirectory
from domain.risk import RiskInstrument
from domain.text import readable
from domain.vocabulary import Role, parse


@dataclass(frozen=True)
class Context:
    store: EventStore
    keys: KeyStore
    views: ViewReader
    parts: PersonalParts
    clock: Clock
    directory: NetworkDirectory
    instruments: Mapping[str, RiskInstrument]
    deadlines: DeadlinePolicy = field(default_factory=DeadlinePolicy)
    # What this process found altered behind its back (``application.integrity``).
    integrity: IntegrityWatch = field(default_factory=IntegrityWatch)
    # Idempotency keys' reservations and answers (None: keys are not kept).
    idempotency: IdempotencyStore | None = None
    # Where the consent-expiry run looks (``application.consent_expiry``); without
    # it that run finds nothing, and a move still refuses on an ended consent.
    ended_consents: EndedConsents | None = None
    # The owners of the cases this process has met (``application.owners``).
    owners: KnownOwners = field(default_factory=KnownOwners)
    # What list cursors are MACed under (``application.pagination``): the same in
    # every process of a deployment (``infrastructure.bootstrap``); a process of its
    # own (a test) has one of its own.
    cursor_secret: bytes = field(default_factory=lambda: secrets.token_bytes(32))

    def identify(self, user_id: str, service_id: str, roles: Iterable[str]) -> Actor:
        """The actor a verified token speaks for; refuses unknown services and roles
        the service's kind cannot hold."""
        if readable(user_id) is None:
            raise errors.EmptyText("a token needs a subject")
        service = self.directory.service(service_id)
        return Actor(
            user_id,
            service,
            frozenset(parse(Role, r, errors.UnknownRole) for r in roles),
        )

    def instrument(self, instrument_id: str) -> RiskInstrument:
        try:
            return self.instruments[instrument_id]
        except KeyError:
            raise errors.UnknownInstrument(
                f"no instrument {instrument_id!r}; known: {', '.join(sorted(self.instruments))}"
            ) from None
