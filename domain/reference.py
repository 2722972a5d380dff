"""Reference codes: ``CB-2026-7KQ-4MW``, drawn at random, with a check character;
no personal data and no count.

A code is the network's code, the year, and two groups of three symbols read
aloud on the phone: five drawn at random, the last one a check. The symbols are
Crockford's base-32 alphabet without ``V`` (31 symbols: no ``I``, ``L``, ``O``,
``U``, and no ``V``, which sounds like ``B``, ``D``, ``P``, ``T`` in English
and Italian alike). Reading one back, case does not matter and ``O``, ``I``,
``L`` are taken for ``0``, ``1``, ``1``.

Why random: a sequence told any caseworker how many cases the whole network
opened between two of hers, and made concurrent openings collide on it.
Why five symbols: 31**5 is about 28.6 million codes per network and year. A
code names its case (``domain.case.case_id_for``), so a drawn code that is
already taken conflicts on the new case's creation and the opening draws again;
at 10,000 cases a year a draw meets a taken code 1 time in 2,800, and a few
draws in a row never all do.
Why this check: the code's ten symbols after the network (year, drawn part,
check) weighted 1 to 10 sum to 0 modulo 31. 31 is prime and larger than any
difference of two symbols or two weights, so every single mistyped symbol and
every swap of two different symbols changes the sum: a garbled code is not a
code, and is refused before anything is looked up.

Codes of the old numbering (``CB-2026-0042``) stay valid: stored cases keep them.
``ReferenceSequence``, the aggregate that numbered them, stays for the events
already in stored logs and the ledger; no case is numbered by it any more.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from domain.events import NetworkEvent, SystemEvent

SEQUENCE_NAMESPACE = uuid5(NAMESPACE_URL, "urn:rete:reference-sequence")

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTWXYZ"
_MODULUS = len(ALPHABET)  # 31, a prime
_VALUE = {symbol: n for n, symbol in enumerate(ALPHABET)}
_DRAWN = 5
_READ_AS = str.maketrans("OIL", "011")  # what a reader may write for 0 and 1

_NEW = re.compile(rf"^([A-Z][A-Z0-9]*)-(\d{{4}})-([{ALPHABET}]{{3}})-([{ALPHABET}]{{3}})$")
_OLD = re.compile(r"^([A-Z][A-Z0-9]*)-(\d{4})-(\d{4,})$")


def new_reference(network: str, year: int) -> str:
    """A fresh code for a case of ``network`` opened in ``year``, drawn at random."""
    drawn = "".join(secrets.choice(ALPHABET) for _ in range(_DRAWN))
    body = f"{year:04d}{drawn}"
    symbols = body + _check(body)
    return f"{network}-{symbols[:4]}-{symbols[4:7]}-{symbols[7:]}"


def canonical_reference(text: str) -> str | None:
    """The code ``text`` names, as the network writes it, or ``None`` when it is not
    a code (a mistyped symbol, two swapped, a wrong shape)."""
    written = text.strip().upper()
    if _OLD.match(written):
        return written
    parts = written.split("-")
    if len(parts) == 4:
        parts[1:] = [p.translate(_READ_AS) for p in parts[1:]]
        written = "-".join(parts)
    found = _NEW.match(written)
    if found is None:
        return None
    symbols = found.group(2) + found.group(3) + found.group(4)
    return written if _weighted(symbols) == 0 else None


def _weighted(symbols: str) -> int:
    return sum(weight * _VALUE[s] for weight, s in enumerate(symbols, start=1)) % _MODULUS


def _check(body: str) -> str:
    """The symbol that brings the weighted sum of ``body`` and itself to 0."""
    weight = len(body) + 1
    # weight * value = -sum (mod 31): divide by the weight, 31 being prime.
    value = (-_weighted(body) * pow(weight, -1, _MODULUS)) % _MODULUS
    return ALPHABET[value]


class ReferenceSequence(Aggregate):
    """The old numbering: handed out the next number of a year. Stored logs and the
    ledger hold its events, so it still loads; cases are no longer numbered by it."""

    # Numbering is the network's own bookkeeping: the case it numbers says who opened it.

    class Event(NetworkEvent):
        aggregate = "reference_sequence"

    class Started(SystemEvent, Aggregate.Created):
        prefix: str

    class Issued(SystemEvent):
        number: int

        def apply(self, sequence: ReferenceSequence) -> None:
            sequence.last = self.number

    @staticmethod
    def create_id(prefix: str) -> UUID:
        return sequence_id_for(prefix)

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.last = 0

    # Both take the application's clock, as every other event does: the log's times
    # are the network's, and a replay "as of" a moment places the numbering right.

    @classmethod
    def start(cls, prefix: str, at: datetime) -> ReferenceSequence:
        return cls._create(cls.Started, timestamp=at, prefix=prefix)

    def issue(self, at: datetime) -> str:
        self.trigger_event(self.Issued, timestamp=at, number=self.last + 1)
        return f"{self.prefix}-{self.last:04d}"


def sequence_id_for(prefix: str) -> UUID:
    return uuid5(SEQUENCE_NAMESPACE, prefix)
