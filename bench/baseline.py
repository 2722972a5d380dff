"""The baseline: what the same stream of commands costs in a plain eventsourcing app.

Minimal aggregates of its own, written the library's declarative way, with the
same events per story as Rete (a numbering sequence, a case, a referral) and the
same saves grouped the same way, the same snapshotting intervals, the default
transcoder. No authorisation, no visibility, no views, no value objects.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate, event

_NAMESPACE = uuid5(NAMESPACE_URL, "urn:rete-bench:baseline")


def _id_of(name: str) -> UUID:
    return uuid5(_NAMESPACE, name)


class Sequence(Aggregate):
    @staticmethod
    def create_id(prefix: str) -> UUID:
        return _id_of(prefix)

    @event("Started")
    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.last = 0

    @event("Issued")
    def issue(self, number: int) -> None:
        self.last = number


class Case(Aggregate):
    @staticmethod
    def create_id(reference_code: str, owner_service: str, opened_by: str) -> UUID:
        return _id_of(reference_code)

    @event("Opened")
    def __init__(self, reference_code: str, owner_service: str, opened_by: str) -> None:
        self.reference_code = reference_code
        self.owner_service = owner_service
        self.opened_by = opened_by
        self.consents: dict[str, list[str]] = {}
        self.referrals: list[str] = []

    @event("ConsentRecorded")
    def record_consent(
        self,
        consent_id: str,
        recipient_kinds: list[str],
        purposes: list[str],
        categories: list[str],
        recorded_by: str,
    ) -> None:
        self.consents[consent_id] = categories

    @event("Referred")
    def record_referral(
        self, referral_id: str, sender: str, recipient: str, consent_id: str
    ) -> None:
        self.referrals.append(referral_id)


class Referral(Aggregate):
    @event("Sent")
    def __init__(
        self,
        case_id: UUID,
        sender: str,
        recipient: str,
        kind: str,
        urgency: str,
        reason: str,
        scope: list[str],
        legal_basis: str,
        consent_id: str,
        acknowledge_by: datetime,
        answer_by: datetime,
        sent_by: str,
    ) -> None:
        self.case_id = case_id
        self.recipient = recipient
        self.status = "sent"

    @event("Moved")
    def move(self, move: str, to_status: str, by_user: str, by_service: str) -> None:
        self.status = to_status


class Baseline(Application[UUID]):
    """One method per command: load, change, save; nothing else."""

    name = "Baseline"
    snapshotting_intervals: ClassVar[dict[type[Any], int]] = {
        Sequence: 50,
        Case: 50,
        Referral: 50,
    }

    def open_case(self, service: str, user: str) -> str:
        prefix = f"CB-{datetime.now(UTC).year}"
        try:
            sequence: Sequence = self.repository.get(_id_of(prefix))
        except AggregateNotFoundError:
            sequence = Sequence(prefix)
        sequence.issue(sequence.last + 1)
        case = Case(f"{prefix}-{sequence.last:04d}", service, user)
        self.save(sequence, case)
        return case.reference_code

    def record_consent(
        self, reference_code: str, kinds: list[str], purposes: list[str], categories: list[str]
    ) -> str:
        case: Case = self.repository.get(_id_of(reference_code))
        consent_id = str(uuid4())
        case.record_consent(consent_id, kinds, purposes, categories, case.opened_by)
        self.save(case)
        return consent_id

    def refer(
        self,
        reference_code: str,
        recipient: str,
        kind: str,
        reason: str,
        scope: list[str],
        consent_id: str,
    ) -> UUID:
        case: Case = self.repository.get(_id_of(reference_code))
        now = datetime.now(UTC)
        referral = Referral(
            case.id,
            case.owner_service,
            recipient,
            kind,
            "urgent",
            reason,
            scope,
            "consent",
            consent_id,
            now + timedelta(hours=24),
            now + timedelta(hours=72),
            case.opened_by,
        )
        case.record_referral(str(referral.id), case.owner_service, recipient, consent_id)
        self.save(referral, case)
        return referral.id

    def move(self, referral_id: UUID, move: str, to_status: str, user: str, service: str) -> None:
        referral: Referral = self.repository.get(referral_id)
        referral.move(move, to_status, user, service)
        self.save(referral)
