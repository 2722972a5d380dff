"""The access log: who read which categories of a case's personal data, when, and how.

Every read is its own aggregate with a single creation event: reads never
conflict with each other, nor with the case, and the log is append-only by
construction (an access record has no command after it is recorded).

An access record holds no personal data: who read what is metadata about the
reading, not about her. It is sealed under the system key like every event and
stays readable after the case is erased, as the rest of the non-personal
history does. A disclosure's reason is written by an auditor to say why the
data was needed; like an erasure's reason it must never say who she is.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate

from domain import errors
from domain.events import ActedEvent, NetworkEvent, OldActor, acted_by
from domain.network import Actor
from domain.text import required_text
from domain.vocabulary import Category, Role

MAX_REASON = 4_000


class ReasonTooLong(errors.InvalidValue):
    code = "reason-too-long"
    title = "The reason is too long"


class AccessKind(StrEnum):
    READ = "read"  # a caseworker or coordinator read what their service may see
    DISCLOSURE = "disclosure"  # an auditor asked for the personal data, with a reason


class AccessRecord(Aggregate):
    """One read of one case's personal data (one aggregate per read)."""

    class Event(NetworkEvent):
        aggregate = "access_record"

    class Recorded(ActedEvent, Aggregate.Created):
        """Who read (``by_user`` for ``by_service``; ``user_id`` and ``service_id``
        in version 1), which categories, through which route."""

        class_version = 2
        case_id: UUID
        categories: list[str]
        route: str
        kind: str
        reason: str | None

        V1_ACTOR = OldActor(user="user_id", service="service_id")

    def __init__(
        self,
        case_id: UUID,
        by_user: str,
        by_service: str,
        categories: list[str],
        route: str,
        kind: str,
        reason: str | None,
    ) -> None:
        self.case_id = case_id
        self.user_id = by_user
        self.service_id = by_service
        self.categories = [Category(c) for c in categories]
        self.route = route
        self.kind = AccessKind(kind)
        self.reason = reason

    @property
    def read_at(self) -> datetime:
        return self.created_on

    @classmethod
    def read(
        cls, case_id: UUID, categories: Iterable[Category], via: str, by: Actor, at: datetime
    ) -> AccessRecord:
        """A read of the case through ``via`` (a route template, or how else it was read)."""
        by.require(Role.CASEWORKER, Role.COORDINATOR)
        return cls._record(case_id, categories, via, AccessKind.READ, None, by, at)

    @classmethod
    def disclosure(
        cls,
        case_id: UUID,
        categories: Iterable[Category],
        via: str,
        reason: str,
        by: Actor,
        at: datetime,
    ) -> AccessRecord:
        """An auditor's disclosure (break-glass): only with a written reason."""
        by.require(Role.AUDITOR)
        return cls._record(case_id, categories, via, AccessKind.DISCLOSURE, reason, by, at)

    @classmethod
    def _record(
        cls,
        case_id: UUID,
        categories: Iterable[Category],
        via: str,
        kind: AccessKind,
        reason: str | None,
        by: Actor,
        at: datetime,
    ) -> AccessRecord:
        via = required_text(via, "an access record's route")
        if kind is AccessKind.DISCLOSURE:
            reason = required_text(reason, "a disclosure's written reason")
            if len(reason) > MAX_REASON:
                raise ReasonTooLong(f"a reason is at most {MAX_REASON} characters")
        return cls._create(
            cls.Recorded,
            id=uuid4(),
            timestamp=at,
            case_id=case_id,
            **acted_by(by),
            categories=sorted({Category(c).value for c in categories}),
            route=via,
            kind=kind.value,
            reason=reason,
        )
