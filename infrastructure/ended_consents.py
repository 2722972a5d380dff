"""``EndedConsentQuery``: the consent-expiry run's port (``application.ports.EndedConsents``)
on the views' tables.

The views only say where to look: the run loads each referral and its case from
the event store, and those decide (``application.consent_expiry``).
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from domain.entries import CaseStatus
from infrastructure.views import Views
from infrastructure.views.schema import CASES, CONSENTS, REFERRALS


class EndedConsentQuery:
    def __init__(self, views: Views) -> None:
        self._tables = views.tables
        self._catch_up = views.queries.catch_up
        q = views.tables.dialect.qualify
        self._statement = (
            f"SELECT r.id FROM {q(REFERRALS.name)} r "
            f"JOIN {q(CONSENTS.name)} k ON k.consent_id = r.consent_id "
            f"JOIN {q(CASES.name)} c ON c.id = r.case_id "
            "WHERE r.active = %s AND c.status <> %s "
            "AND (k.expires_at <= %s OR k.withdrawn_at <= %s) ORDER BY r.position"
        )

    def relying_on_ended(self, at: datetime) -> list[UUID]:
        self._catch_up()  # on SQLite the views follow the log on demand
        active, now = self._tables.dialect.encode_row(("bool", "time"), (True, at))
        with self._tables.read(snapshot=False) as tx:
            rows = tx.query(self._statement, (active, CaseStatus.ERASED.value, now, now))
            return [UUID(row[0]) for row in rows]
