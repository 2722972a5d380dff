"""What the log announces, and to whom: a withdrawn consent to the recipient of the
referral it carried, an erasure to both services without saying whose; never a
field of hers."""

from __future__ import annotations

from types import SimpleNamespace

from notify_support import notifier_of
from support.stories import record_consent, refer

from application.rete import Rete

SECRET_REASON = "she told us about the flat in via Dante 7"


def _announced(rete: Rete, service: str) -> list[tuple[str, str | None]]:
    assert rete.announcements is not None
    return [(a.kind, a.case_ref) for a in rete.announcements.after(0, service=service)]


def test_a_withdrawn_consent_and_an_erasure_are_announced_without_her_data(
    rete: Rete, people: SimpleNamespace
) -> None:
    case = rete.cases.open(people.anna)
    ref = case.reference_code
    consent = record_consent(rete, people.anna, ref)
    refer(rete, people.anna, ref, reason=SECRET_REASON)
    rete.cases.withdraw_consent(people.anna, ref, consent.id)
    rete.cases.erase(people.chiara, ref, "her request")
    notifier_of(rete).step()

    social = _announced(rete, "ss-cesano")
    assert ("referral.received", ref) in social
    assert ("consent.withdrawn", ref) in social
    # Which referral, never whose: no case reference once it is erased.
    assert ("case.erased", None) in social
    assert ("case.erased", None) in _announced(rete, "cav-scirocco")
    assert rete.announcements is not None
    for service in ("ss-cesano", "cav-scirocco"):
        for announcement in rete.announcements.after(0, service=service):
            assert SECRET_REASON not in repr(announcement)
            assert "her request" not in repr(announcement)


def test_deriving_again_adds_nothing(rete: Rete, people: SimpleNamespace) -> None:
    case = rete.cases.open(people.anna)
    record_consent(rete, people.anna, case.reference_code)
    refer(rete, people.anna, case.reference_code)
    notifier = notifier_of(rete)
    notifier.step()
    assert rete.announcements is not None
    before = rete.announcements.after(0, service="ss-cesano")
    # As after a crash between a batch's work and its commit: the log read again.
    with notifier.tables.outbox_write() as tx:
        tx.command(notifier.tables.sql("UPDATE {STATE} SET value = 0 WHERE name = 'log'"))
    notifier.step()
    assert rete.announcements.after(0, service="ss-cesano") == before
