"""A case's version as one service sees it: how many of the case's events show in
what that service may read of it.

The case's own version counts every event in its stream, and so moved when the
owner wrote in a category a reader may not see, telling the reader that
something happened. The version a reader gets (and the ``ETag`` made of it)
leaves out each event whose effect the reader cannot see, so it moves when, and
only when, what that reader sees of the case changes:

* a note in a category it may not read (``shows_entry``);
* a risk assessment it may not read, unless it turned the case's high-risk flag,
  which every service taking part sees (``shows_assessment``); once the case is
  erased, which assessment turned the flag is gone with her data, and every
  assessment counts as seen, so that the version still only moves on;
* a consent recorded or withdrawn, for any service but the owner (``shows_consents``);
* a referral recorded on the case that it takes no part in (``shows_referral``).

Everything else (the opening, a legal hold placed or lifted, the closing, the
erasure) shows to every service that sees the case. What a service may see of
events already written never shrinks (DOMAIN.md: a recipient keeps what it could
see), so a reader's version never goes back.
"""

from __future__ import annotations

from application.authorisation import (
    shows_assessment,
    shows_consents,
    shows_entry,
    shows_referral,
)
from application.view_rows import CaseRows
from domain.visibility import CaseAccess
from domain.vocabulary import Category


def sees_everything(access: CaseAccess) -> bool:
    """An owner that may read every category: no event of its case is hidden from it."""
    return access.owner and access.categories == frozenset(Category)


def visible_version(rows: CaseRows, access: CaseAccess) -> int:
    """The case's version less the events hidden from ``access``'s service."""
    if sees_everything(access):
        return rows.case.version
    hidden = sum(1 for e in rows.entries if not shows_entry(access, e))
    turns = rows.case.high_risk_turns
    if turns is not None:
        hidden += sum(
            1 for a in rows.assessments if a.id not in turns and not shows_assessment(access, a)
        )
    if not shows_consents(access):
        hidden += sum(1 if c.withdrawn_at is None else 2 for c in rows.consents.values())
    hidden += sum(
        1
        for r in rows.referrals
        if not shows_referral(access, r.sender_service, r.recipient_service)
    )
    return rows.case.version - hidden
