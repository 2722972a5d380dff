"""Email through the notifications' worker, on both backends, to a real SMTP server
the test starts: the police's duty address hears of an emergency without any of
her data, a server that is down is tried again until it answers, a missed
deadline reaches both services, and each email goes once however many workers run."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from types import SimpleNamespace

import pytest
from notify_support import notifier_of
from planted import PLANTED, emergency
from smtp_server import POLICE, Mailbox, smtp_env, smtp_server
from support.clock import TestClock
from support.processes import free_port

from application.rete import Rete
from domain.referral import Move

CAV = "reperibilita@scirocco.cesano-boscone.example"
WAIT = 10.0


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    with smtp_server() as m:
        yield m


@pytest.fixture
def emailing(make_rete: Callable[..., Rete], mailbox: Mailbox) -> Rete:
    """The application with its email channel pointed at the test's SMTP server."""
    return make_rete(**smtp_env(mailbox.port))


def test_an_emergency_referral_reaches_the_police_duty_address_without_her_data(
    emailing: Rete, people: SimpleNamespace, mailbox: Mailbox
) -> None:
    referral_id = emergency(emailing, people, planted=True)

    notifier_of(emailing).step()

    [mail] = mailbox.wait_for(1, WAIT)
    assert mail.recipients == [POLICE]
    assert mail.message["Subject"] == (
        f"[Rete] EMERGENZA: Nuovo invio ricevuto (invio {referral_id})"
    )
    assert f"Invio: {referral_id}" in mail.text
    for planted in PLANTED:
        assert planted not in mail.raw.decode("utf-8", "replace")
        assert planted not in mail.text


def test_what_is_not_an_emergency_or_a_missed_deadline_is_not_emailed(
    emailing: Rete, people: SimpleNamespace, police: SimpleNamespace, mailbox: Mailbox
) -> None:
    referral_id = emergency(emailing, people, planted=True)
    emailing.referrals.move(police.paolo, referral_id, Move.ACKNOWLEDGE)
    emailing.referrals.move(police.paolo, referral_id, Move.ACCEPT)
    notifier = notifier_of(emailing)

    notifier.step()
    notifier.step()

    # The emergency alone: the CAV hears of the acknowledgement by its other channels.
    assert [m.recipients for m in mailbox.wait_for(1, WAIT)] == [[POLICE]]


def test_a_server_that_is_down_is_tried_again_until_it_answers(
    make_rete: Callable[..., Rete], people: SimpleNamespace, clock: TestClock
) -> None:
    port = free_port()  # nobody listens there yet
    rete = make_rete(**smtp_env(port))
    notifier = notifier_of(rete)
    referral_id = emergency(rete, people, planted=True)
    notifier.step()  # fails: tried again in 5 s
    with smtp_server(port=port) as mailbox:
        notifier.step()  # not yet due
        assert mailbox.received == []
        clock.advance(seconds=6)
        notifier.step()
        [mail] = mailbox.wait_for(1, WAIT)
        notifier.step()  # delivered: not sent again
    assert f"Invio: {referral_id}" in mail.text
    assert len(mailbox.received) == 1


def test_a_missed_deadline_reaches_both_duty_addresses(
    emailing: Rete, people: SimpleNamespace, mailbox: Mailbox, clock: TestClock
) -> None:
    emergency(emailing, people, planted=True)
    notifier = notifier_of(emailing)
    notifier.step()
    mailbox.wait_for(1, WAIT)

    clock.advance(minutes=61)  # past the hour to acknowledge an emergency
    emailing.escalations.run()
    notifier.step()

    later = mailbox.wait_for(5, WAIT)[1:]  # missed and escalated, to each side
    assert len(mailbox.received) == 5
    kinds = sorted((m.recipients[0], m.message["X-Rete-Announcement"]) for m in later)
    assert [r for r, _ in kinds] == [CAV, CAV, POLICE, POLICE]
    subjects = sorted(m.message["Subject"].split(" (")[0] for m in later)
    assert subjects == [
        "[Rete] EMERGENZA: Invio segnalato alle referenti",
        "[Rete] EMERGENZA: Invio segnalato alle referenti",
        "[Rete] EMERGENZA: Scadenza non rispettata",
        "[Rete] EMERGENZA: Scadenza non rispettata",
    ]


def test_a_refused_duty_address_holds_back_only_its_own_service(
    emailing: Rete, people: SimpleNamespace, mailbox: Mailbox, clock: TestClock
) -> None:
    mailbox.refuse.add(POLICE)
    emergency(emailing, people, planted=True)
    notifier = notifier_of(emailing)
    notifier.step()
    clock.advance(minutes=61)
    emailing.escalations.run()
    notifier.step()

    # The CAV hears of the missed deadline although the police's address refuses.
    cav = mailbox.wait_for(2, WAIT)
    assert {m.recipients[0] for m in cav} == {CAV}


def test_two_workers_send_each_email_once(
    emailing: Rete,
    make_rete: Callable[..., Rete],
    people: SimpleNamespace,
    mailbox: Mailbox,
) -> None:
    other = make_rete(**smtp_env(mailbox.port))  # a second worker on the same database
    for _ in range(3):
        emergency(emailing, people, planted=True)
    for app in (emailing, other, emailing, other):
        notifier_of(app).step()

    mails = mailbox.wait_for(3, WAIT)
    ids = [m.message["X-Rete-Announcement"] for m in mails]
    assert len(ids) == len(set(ids)) == 3


def test_turning_email_on_does_not_send_the_past(
    rete: Rete, make_rete: Callable[..., Rete], people: SimpleNamespace, mailbox: Mailbox
) -> None:
    emergency(rete, people, planted=True)  # announced while the network had no email
    notifier_of(rete).step()

    emailing = make_rete(**smtp_env(mailbox.port))  # restarted with RETE_SMTP_URL
    notifier_of(emailing).step()
    assert mailbox.received == []
    now = emergency(emailing, people, planted=True)
    notifier_of(emailing).step()

    [mail] = mailbox.wait_for(1, WAIT)
    assert f"Invio: {now}" in mail.text
