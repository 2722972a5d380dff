"""The access log: every read of a case's personal data, and who may list them.

What is recorded: one entry per read of one case (the case view, one referral,
an auditor's disclosure), with the reader, their service, the route it came
through and the categories of personal data the answer actually carried: the
categories with at least one value shown (an erased value is not shown). A
read that showed nothing personal (a case just opened, an erased case) is
recorded all the same, with no category: opening her file is itself a fact the
owner and the auditors may want to see.

Lists carry no personal field (``ReferralSummary``, ``CaseSummary``), so they
add no entry. The entry is saved before the answer leaves: a read that could
not be logged fails rather than goes unrecorded.

Who may list a case's log: the owner service's caseworkers and coordinators,
and auditors. Any other service gets "not found", as for the case itself (a
recipient of a referral on the case included).
"""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from application.authorisation import Action, authorise, reads_every_log, require_reads_log
from application.context import Context
from application.loading import Loader
from application.pagination import page
from application.views import AccessEntry, AccessLogPage, CaseView, ReferralView
from domain.access import AccessRecord
from domain.network import Actor
from domain.vocabulary import Category

IN_PROCESS = "in-process"
"""How a read that came through no route is logged (the demo, scripts, tests):
the API always passes the route template it answered on."""


def case_categories(view: CaseView) -> frozenset[Category]:
    """The categories of personal data a case view shows a value in."""
    shown = {Category(e.category) for e in view.entries if e.text is not None}
    if any(not a.erased for a in view.risk_assessments):
        shown.add(Category.RISK)
    for referral in view.referrals:
        shown |= referral_categories(referral)
    return frozenset(shown)


def referral_categories(view: ReferralView) -> frozenset[Category]:
    """A referral's reason and justification speak of what it shares: its scope."""
    if view.reason is None and view.justification is None:
        return frozenset()
    return frozenset(Category(c) for c in view.scope)


def record_read(
    ctx: Context, actor: Actor, case_id: UUID, categories: Iterable[Category], via: str
) -> None:
    """Append the entry of one read (its own aggregate: concurrent reads never conflict)."""
    ctx.store.save(AccessRecord.read(case_id, categories, via, actor, ctx.clock.now()))


def access_entry(record: AccessRecord) -> AccessEntry:
    return AccessEntry(
        id=str(record.id),
        case_id=str(record.case_id),
        user_id=record.user_id,
        service_id=record.service_id,
        categories=[c.value for c in record.categories],
        route=record.route,
        kind=record.kind.value,
        reason=record.reason,
        read_at=record.read_at,
    )


class AccessLog:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.load = Loader(ctx)

    def entries(
        self, actor: Actor, case_ref: str, cursor: str | None = None, limit: int = 50
    ) -> AccessLogPage:
        """A case's access log, newest first."""
        case_id = self._readable_log(actor, case_ref)
        newest_first = list(reversed(self.record_ids(case_id)))
        ids, next_cursor = page(newest_first, cursor, limit)
        records = [self.ctx.store.get(AccessRecord, i) for i in ids]
        return AccessLogPage([access_entry(r) for r in records], next_cursor)

    def record_ids(self, case_id: UUID) -> list[UUID]:
        """Ids of a case's access records, oldest first (the ``access`` view)."""
        return self.ctx.views.access_records(case_id)

    def _readable_log(self, actor: Actor, case_ref: str) -> UUID:
        authorise(actor, Action.READ_ACCESS_LOG)
        if reads_every_log(actor):
            return self.load.case(case_ref).id
        rows, access = self.load.visible_rows(actor, case_ref)
        require_reads_log(access)
        return rows.case.id
