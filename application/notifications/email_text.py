"""The email a service's duty address receives, in Italian: who reads it works in Italian.

Built from an ``Announcement`` alone, so it can say nothing the announcement does
not carry: ids, kind, urgency, deadline and a link. Never a name, a note, a reason
or any sealed field: the message lives in mailboxes Rete does not protect. The
reader follows the link and reads the rest through the API, which logs the read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from application.notifications.announcement import Announcement

# What each kind is called in the subject line (the English key stays in the body,
# for whoever matches it against the webhook payloads or the API).
KIND_TEXT: dict[str, str] = {
    "referral.received": "Nuovo invio ricevuto",
    "referral.acknowledged": "Invio preso in visione",
    "referral.accepted": "Invio accettato",
    "referral.declined": "Invio rifiutato",
    "referral.withdrawn": "Invio ritirato",
    "referral.suspended": "Invio sospeso",
    "referral.completed": "Invio concluso",
    "deadline.approaching": "Scadenza imminente",
    "deadline.missed": "Scadenza non rispettata",
    "referral.escalated": "Invio segnalato alle referenti",
    "consent.withdrawn": "Consenso revocato",
    "case.erased": "Fascicolo cancellato",
}

URGENCY_TEXT: dict[str, str] = {
    "emergency": "EMERGENZA",
    "urgent": "urgente",
    "routine": "ordinaria",
}

# What the reader is asked to do, by kind; a kind not named here asks nothing.
ACTION_TEXT: dict[str, str] = {
    "deadline.missed": (
        "La scadenza indicata è passata senza risposta: le referenti del servizio "
        "sono pregate di verificare subito."
    ),
    "referral.escalated": (
        "L'invio è stato segnalato alle referenti di entrambi i servizi: è nella loro "
        "lista di lavoro (GET /api/v1/worklist)."
    ),
}
# An emergency received: the deadline is short (DOMAIN.md "Deadlines").
EMERGENCY_RECEIVED = (
    "Un invio in emergenza va preso in visione entro la scadenza indicata "
    "(di norma 1 ora dalla ricezione)."
)

NOTICE = (
    "Questo messaggio non contiene dati personali. Per leggere l'invio accedere a "
    "Rete con le proprie credenziali seguendo il collegamento: ogni lettura è registrata."
)


def _local_zone() -> tzinfo:
    """The network's time (Cesano Boscone); UTC where the zone database is missing."""
    try:
        return ZoneInfo("Europe/Rome")
    except ZoneInfoNotFoundError:  # pragma: no cover - a machine without tzdata
        return UTC


LOCAL = _local_zone()


@dataclass(frozen=True, slots=True)
class EmailText:
    subject: str
    body: str


def when(moment: datetime) -> str:
    """``05/12/2026 14:30 (ora italiana; 13:30 UTC)``: the reader's time first."""
    local = moment.astimezone(LOCAL)
    utc = moment.astimezone(UTC)
    if LOCAL is UTC:
        return f"{utc:%d/%m/%Y %H:%M} UTC"
    return f"{local:%d/%m/%Y %H:%M} (ora italiana; {utc:%H:%M} UTC)"


def full_link(link: str, base_url: str | None) -> str:
    """The announcement's link, made absolute when Rete's public address is known."""
    if base_url and link.startswith("/"):
        return base_url.rstrip("/") + link
    return link


def email_text(announcement: Announcement, *, base_url: str | None = None) -> EmailText:
    """The subject and body of the email for ``announcement``."""
    a = announcement
    kind = KIND_TEXT.get(a.kind, a.kind)
    urgency = URGENCY_TEXT.get(a.urgency, a.urgency) if a.urgency else None
    subject = f"[Rete] {kind}"
    if urgency == URGENCY_TEXT["emergency"]:
        subject = f"[Rete] {urgency}: {kind}"
    if a.referral_id:
        subject += f" (invio {a.referral_id})"
    lines = [
        f"{kind}.",
        "",
        f"Tipo: {a.kind}",
        f"Avvenuto il: {when(a.occurred_at)}",
    ]
    if a.referral_id:
        lines.append(f"Invio: {a.referral_id}")
    if a.case_ref:
        lines.append(f"Fascicolo: {a.case_ref}")
    if urgency:
        lines.append(f"Urgenza: {urgency}")
    if a.deadline is not None:
        lines.append(f"Scadenza: {when(a.deadline)}")
    lines.append(f"Collegamento: {full_link(a.link, base_url)}")
    action = ACTION_TEXT.get(a.kind)
    if a.kind == "referral.received" and a.urgency == "emergency":
        action = EMERGENCY_RECEIVED
    if action:
        lines += ["", action]
    lines += ["", NOTICE, "", f"Identificativo dell'annuncio: {a.id}", ""]
    return EmailText(subject=subject, body="\n".join(lines))
