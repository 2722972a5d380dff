"""The stream of commands both implementations run: one "story" per case.

A story: a CAV caseworker opens a case, records her consent, refers the case to
the health service, whose caseworker acknowledges and accepts it. Seven events,
five transactions, in both implementations.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from application.rete import Rete
from bench.baseline import Baseline
from domain.network import Actor
from domain.referral import Move
from infrastructure.bootstrap import build_rete, build_store
from infrastructure.settings import Settings, load_settings

SENDER = "cav-scirocco"
RECIPIENT = "asst-rhodense"
KINDS = ["health"]
PURPOSES = ["health_assessment"]
SCOPE = ["identity", "violence"]
REASON = "Synthetic benchmark referral: health assessment requested."


class Runner(Protocol):
    """One implementation on one fresh storage."""

    def story(self) -> None: ...

    def events(self) -> int:
        """How many events are stored so far."""
        ...

    def close(self) -> None: ...


# A throwaway key-encryption key, given as production gives one (not a dev key file).
_KEK = base64.b64encode(secrets.token_bytes(32)).decode()


def rete_settings(database_url: str, var_dir: Path) -> Settings:
    return load_settings(
        {"RETE_DATABASE_URL": database_url, "RETE_VAR_DIR": str(var_dir), "RETE_KEK": _KEK}
    )


def storage_env(database_url: str, var_dir: Path) -> dict[str, str]:
    """The eventsourcing environment Rete derives from a database URL; both use it."""
    return rete_settings(database_url, var_dir).eventsourcing_env()


class Ours:
    """Rete, assembled as the API assembles it."""

    name = "rete"

    def __init__(self, database_url: str, var_dir: Path) -> None:
        settings = rete_settings(database_url, var_dir)
        self.store = build_store(settings)
        self.rete: Rete = build_rete(settings, store=self.store)
        self.sender: Actor = self.rete.ctx.identify("bench.cw.cav", SENDER, ["caseworker"])
        self.recipient: Actor = self.rete.ctx.identify("bench.cw.asst", RECIPIENT, ["caseworker"])

    def story(self, enrich: Callable[[str], None] | None = None) -> None:
        """One story; ``enrich(reference_code)`` may add entries before the consent."""
        cases, referrals = self.rete.cases, self.rete.referrals
        ref = cases.open(self.sender).reference_code
        if enrich is not None:
            enrich(ref)
        cases.record_consent(
            self.sender,
            ref,
            recipient_kinds=KINDS,
            recipient_services=[],
            purposes=PURPOSES,
            categories_=SCOPE,
            expires_at=None,
        )
        referral = referrals.refer(
            self.sender,
            ref,
            recipient_service=RECIPIENT,
            kind=PURPOSES[0],
            urgency="urgent",
            reason=REASON,
            scope=SCOPE,
            legal_basis="consent",
        )
        referrals.move(self.recipient, referral.id, Move.ACKNOWLEDGE)
        referrals.move(self.recipient, referral.id, Move.ACCEPT)

    def events(self) -> int:
        return self.store.recorder.max_notification_id() or 0

    def close(self) -> None:
        self.rete.close()
        self.store.close()


class Plain:
    """The baseline application on the same storage settings."""

    name = "baseline"

    def __init__(self, database_url: str, var_dir: Path) -> None:
        self.app = Baseline(env=storage_env(database_url, var_dir))

    def story(self) -> None:
        app = self.app
        ref = app.open_case(SENDER, "bench.cw.cav")
        consent_id = app.record_consent(ref, KINDS, PURPOSES, SCOPE)
        referral_id = app.refer(ref, RECIPIENT, PURPOSES[0], REASON, SCOPE, consent_id)
        app.move(referral_id, "acknowledge", "acknowledged", "bench.cw.asst", RECIPIENT)
        app.move(referral_id, "accept", "accepted", "bench.cw.asst", RECIPIENT)

    def events(self) -> int:
        return self.app.recorder.max_notification_id() or 0

    def close(self) -> None:
        self.app.close()


IMPLEMENTATIONS: dict[str, type[Ours] | type[Plain]] = {Ours.name: Ours, Plain.name: Plain}
