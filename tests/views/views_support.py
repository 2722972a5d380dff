"""Helpers of the views tests: the views' rows as they are stored, the people who act
in the stories, and two stories."""

from __future__ import annotations

from typing import Any

from support.clock import TestClock
from support.stories import record_consent, refer

from application.rete import Rete
from domain.network import Actor
from domain.referral import Move
from infrastructure.views import Views
from infrastructure.views.schema import ALL_TABLES, TRACKING
from infrastructure.views.statements import TableSql

# Present in every personal field the stories write, and in nothing else.
MARKER = "ZQXJ-PLAINTEXT-MARKER"


Rows = dict[str, list[tuple[Any, ...]]]


def live_rows(views: Views) -> Rows:
    """Every row of every live view table, by table, in key order."""
    with views.tables.read() as tx:
        return {t.name: TableSql(t, t.name, tx.dialect).rows(tx) for t in ALL_TABLES}


def positions(views: Views) -> dict[str, int]:
    with views.tables.read() as tx:
        return views.runner.views.positions(tx)


def tracking_rows(views: Views) -> list[tuple[Any, ...]]:
    with views.tables.read() as tx:
        return tx.query(f"SELECT name, position FROM {tx.dialect.qualify(TRACKING)} ORDER BY name")


def actor(rete: Rete, service: str, role: str = "caseworker") -> Actor:
    return rete.ctx.identify(f"test.{role}.{service}", service, [role])


def working_services(rete: Rete) -> list[str]:
    return [s.id for s in rete.ctx.directory if s.works_cases]


def leave_a_referral_unanswered(rete: Rete, clock: TestClock) -> str:
    """A CAV case referred to social services, urgently, and left unanswered until both
    its deadlines passed and the escalation policy ran; returns its id."""
    from application.escalation import Escalations  # only the stories that need it

    cav = actor(rete, "cav-scirocco")
    case = rete.cases.open(cav)
    rete.cases.add_note(cav, case.reference_code, "violence", f"{MARKER} what happened")
    record_consent(rete, cav, case.reference_code)
    reason = f"{MARKER} she needs a home"
    referral = refer(rete, cav, case.reference_code, urgency="urgent", reason=reason)
    clock.advance(hours=25)
    Escalations(rete.ctx).run()
    rete.referrals.move(actor(rete, "ss-cesano"), referral.id, Move.ACKNOWLEDGE)
    clock.advance(hours=73)
    Escalations(rete.ctx).run()
    return referral.id


def a_case_with_everything(rete: Rete) -> str:
    """Notes, a consent, a risk assessment and a declined referral: a sealed part in
    every view that holds one."""
    cav = actor(rete, "cav-scirocco")
    ref = rete.cases.open(cav).reference_code
    rete.cases.add_note(cav, ref, "health", f"{MARKER} her injuries")
    record_consent(
        rete,
        cav,
        ref,
        kinds=["police"],
        purposes=["protection_measures"],
        categories=["identity", "safety"],
    )
    items = rete.ctx.instrument("rete-screening-v1").items
    rete.cases.assess_risk(cav, ref, "rete-screening-v1", {i.id: True for i in items}, None, None)
    on_consent = {"kind": "protection_measures", "urgency": "emergency"}
    reason, scope = f"{MARKER} he waits outside", ["identity", "safety"]
    referral = refer(rete, cav, ref, "pl-cesano", reason=reason, scope=scope, **on_consent)
    rete.referrals.move(actor(rete, "pl-cesano"), referral.id, Move.DECLINE, f"{MARKER} no")
    return ref


def forget(views: Views) -> None:
    """Empty every view and set each back to the start of the log, as if the story had
    been written before the views existed (the application keeps them current as it
    reads, and a crash test needs a runner with work to do)."""
    with views.tables.write() as tx:
        q = tx.dialect.qualify
        for table in ALL_TABLES:
            tx.command(f"DELETE FROM {q(table.name)}")
        tx.command(f"UPDATE {q(TRACKING)} SET position = 0")
