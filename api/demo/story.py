"""The demo's actors and commands: each step goes through ``Rete`` and leaves one
line naming only non-personal facts (reference codes, services, kinds, moves)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from api.demo.clock import StoryClock
from application.rete import Rete
from domain.network import Actor
from domain.referral import Move

INSTRUMENT = "rete-screening-v1"


@dataclass
class Story:
    """The demo's actors and commands, each leaving one non-personal line."""

    rete: Rete
    clock: StoryClock
    lines: list[str] = field(default_factory=list)
    _cases: dict[str, str] = field(default_factory=dict)

    # -- actors ---------------------------------------------------------------

    def actor(self, service: str, role: str = "caseworker") -> Actor:
        return self.rete.identify(f"demo.{role}.{service}", service, [role])

    def _log(self, text: str) -> None:
        self.lines.append(f"{self.clock.now():%Y-%m-%d %H:%M}  {text}")

    # -- cases ----------------------------------------------------------------

    def open_case(self, service: str) -> str:
        case = self.rete.cases.open(self.actor(service))
        self._log(f"{case.reference_code}  opened by {service}")
        return case.reference_code

    def note(self, service: str, ref: str, category: str, text: str) -> None:
        self.rete.cases.add_note(self.actor(service), ref, category, text)
        self._log(f"{ref}  {category} note by {service}")

    def consent(
        self,
        service: str,
        ref: str,
        *,
        kinds: Iterable[str] = (),
        services: Iterable[str] = (),
        purposes: Iterable[str],
        categories: Iterable[str],
    ) -> str:
        consent = self.rete.cases.record_consent(
            self.actor(service),
            ref,
            recipient_kinds=list(kinds),
            recipient_services=list(services),
            purposes=list(purposes),
            categories_=list(categories),
            expires_at=None,
        )
        self._log(f"{ref}  consent recorded by {service} ({', '.join(consent.categories)})")
        return consent.id

    def withdraw_consent(self, service: str, ref: str, consent_id: str) -> None:
        self.rete.cases.withdraw_consent(self.actor(service), ref, consent_id)
        self._log(f"{ref}  consent withdrawn, recorded by {service}")

    def assess(
        self,
        service: str,
        ref: str,
        yes: Iterable[str],
        judgement: str | None = None,
        justification: str | None = None,
    ) -> None:
        items = self.rete.instrument(INSTRUMENT).items
        answers = {item.id: item.id in set(yes) for item in items}
        assessed = self.rete.cases.assess_risk(
            self.actor(service), ref, INSTRUMENT, answers, judgement, justification
        )
        raised = " (raised by judgement)" if assessed.level != assessed.computed_level else ""
        self._log(f"{ref}  risk assessed by {service}: {assessed.level}{raised}")

    # -- referrals ------------------------------------------------------------

    def refer(
        self,
        sender: str,
        ref: str,
        recipient: str,
        kind: str,
        urgency: str,
        reason: str,
        scope: Iterable[str],
        *,
        basis: str = "consent",
        statute: str | None = None,
        justification: str | None = None,
        role: str = "caseworker",
    ) -> str:
        referral = self.rete.referrals.refer(
            self.actor(sender, role),
            ref,
            recipient_service=recipient,
            kind=kind,
            urgency=urgency,
            reason=reason,
            scope=list(scope),
            legal_basis=basis,
            statute=statute,
            justification=justification,
        )
        self._cases[referral.id] = ref
        self._log(
            f"{ref}  referral {referral.id[:8]} {sender} -> {recipient}"
            f" ({kind}, {urgency}, {basis}): {referral.status}"
        )
        return referral.id

    def move(
        self,
        service: str,
        referral_id: str,
        move: Move,
        reason: str | None = None,
        role: str = "caseworker",
    ) -> None:
        referral = self.rete.referrals.move(self.actor(service, role), referral_id, move, reason)
        self._log(
            f"{self._cases[referral_id]}  referral {referral_id[:8]}"
            f" {move} by {service}: {referral.status}"
        )

    def suspended_by(self, referral_id: str, service: str) -> None:
        """A line for a referral the withdrawal of its consent suspended."""
        referral = self.rete.referrals.get(self.actor(service), referral_id)
        self._log(f"{self._cases[referral_id]}  referral {referral_id[:8]}: {referral.status}")
