"""Who may ask for which kind of work: ``application.authorisation.ROLES``, checked
without a database."""

from __future__ import annotations

import pytest

from application.authorisation import ROLES, Action, authorise
from domain import errors
from domain.network import Actor, Service
from domain.vocabulary import ROLES_BY_KIND, Role

# What each kind of work is for, written out by hand rather than read from ROLES.
EXPECTED = {
    Action.WORK_CASES: {Role.CASEWORKER, Role.COORDINATOR},
    Action.READ_ACCESS_LOG: {Role.CASEWORKER, Role.COORDINATOR, Role.AUDITOR},
    Action.AUDIT: {Role.AUDITOR},
    Action.LEDGER_PROOFS: {Role.AUDITOR},
    Action.WORKLIST: {Role.COORDINATOR},
    Action.OBSERVATORY: {Role.ANALYST},
    Action.MANAGE_NOTIFICATIONS: {Role.COORDINATOR},
}


def someone(role: Role) -> Actor:
    kind = next(k for k, roles in ROLES_BY_KIND.items() if role in roles)
    return Actor(f"someone.{role}", Service(f"a-{kind}", kind, "A service"), frozenset({role}))


def test_every_kind_of_work_names_its_roles():
    assert set(ROLES) == set(Action)


@pytest.mark.parametrize("action", list(Action))
@pytest.mark.parametrize("role", list(Role))
def test_a_role_may_ask_for_the_work_it_is_for_and_nothing_else(action: Action, role: Role):
    actor = someone(role)
    if role in EXPECTED[action]:
        authorise(actor, action)
    else:
        with pytest.raises((errors.RoleNotAllowed, errors.CoordinatorRequired)):
            authorise(actor, action)


def test_a_worklist_refusal_says_a_coordinator_is_needed():
    caseworker = someone(Role.CASEWORKER)
    with pytest.raises(errors.CoordinatorRequired):
        authorise(caseworker, Action.WORKLIST)
