"""Who may do what: the application's authorisation decisions, in one place.

Two questions, asked in this order:

- *May this person ask for this kind of work?* Their roles decide (``authorise``
  over ``ROLES``): caseworkers and coordinators read cases and referrals,
  auditors replay the history and ask for proofs, analysts read the
  observatory, coordinators see the worklist.
- *Which case, referral and category?* The case's access (``domain.visibility``)
  decides; a case or referral the service may not see answers "not found", so
  that a service cannot even learn which exist.

What a command may do to an aggregate (only the owner's coordinator erases, only
the recipient accepts a referral, ...) is an invariant of the aggregate and stays
in ``domain/``. The API's route guards (``api/guards.py``) ask ``authorise`` too.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum

from application.errors import NotFound, NotWorkingOnCase
from application.view_rows import AssessmentRow, CaseRows
from domain.network import Actor, Service
from domain.visibility import CaseAccess, Written, access_of
from domain.vocabulary import Category, Role


class Action(StrEnum):
    """A kind of work a person asks for, whatever case it is about."""

    WORK_CASES = "work cases"  # read cases and referrals, list them
    READ_ACCESS_LOG = "read an access log"
    AUDIT = "audit"  # replay the history, ask for a disclosure
    LEDGER_PROOFS = "ledger proofs"
    WORKLIST = "worklist"
    OBSERVATORY = "observatory"
    MANAGE_NOTIFICATIONS = "manage notifications"  # webhook subscriptions, dead letters


# The roles that may ask for each kind of work, in the order a refusal names them.
ROLES: Mapping[Action, tuple[Role, ...]] = {
    Action.WORK_CASES: (Role.CASEWORKER, Role.COORDINATOR),
    Action.READ_ACCESS_LOG: (Role.CASEWORKER, Role.COORDINATOR, Role.AUDITOR),
    Action.AUDIT: (Role.AUDITOR,),
    Action.LEDGER_PROOFS: (Role.AUDITOR,),
    Action.WORKLIST: (Role.COORDINATOR,),
    Action.OBSERVATORY: (Role.ANALYST,),
    Action.MANAGE_NOTIFICATIONS: (Role.COORDINATOR,),
}


def authorise(actor: Actor, action: Action) -> None:
    """Refuse unless the actor holds a role that may ask for ``action``."""
    actor.require(*ROLES[action])


# -- cases ----------------------------------------------------------------------


def require_sees_case(access: CaseAccess) -> None:
    """A case the service may not see answers "not found"."""
    if not access.sees_case:
        raise NotFound("no such case")


def require_works_on(access: CaseAccess, at: datetime) -> None:
    """Writing in a case takes owning it or an active referral on it."""
    if not (access.owner or access.categories_at(at)):
        raise NotWorkingOnCase("your service's referral on this case has ended")


def reads_every_log(actor: Actor) -> bool:
    """Auditors (only an oversight service's people hold the role) read any case's
    access log; anyone else only the logs of cases their service owns."""
    return actor.has(Role.AUDITOR)


def require_reads_log(access: CaseAccess) -> None:
    """Of the services that see a case, only its owner reads its access log."""
    if not access.owner:
        raise NotFound("no such case")


def disclosure_access(owner: Service, rows: CaseRows) -> CaseAccess:
    """A disclosure shows an auditor the case as its owner service sees it."""
    return access_of(owner, rows, rows.referrals)


# -- referrals ------------------------------------------------------------------


def sees_referral(actor: Actor, sender_service: str, recipient_service: str) -> bool:
    """A referral is seen by its sender and its recipient only."""
    return actor.service.id in (sender_service, recipient_service)


# -- what a case view shows -----------------------------------------------------


def shows_entry(access: CaseAccess, entry: Written) -> bool:
    return access.sees(entry)


def shows_assessment(access: CaseAccess, assessment: AssessmentRow) -> bool:
    """Its own assessments, and others' while the service sees the risk category."""
    return assessment.service_id == access.service_id or access.sees_category_at(
        Category.RISK, assessment.assessed_at
    )


def shows_referral(access: CaseAccess, sender_service: str, recipient_service: str) -> bool:
    """The owner sees every referral of its case; another service those it takes part in."""
    return access.owner or access.service_id in (sender_service, recipient_service)


def shows_consents(access: CaseAccess) -> bool:
    """Her consents are the owner's to see."""
    return access.owner
