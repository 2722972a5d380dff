"""Loading the network's data files: the directory of services and the risk instruments.

They are data an operator edits, so a mistake in them must stop start-up with a
message naming the file and the entry, never half-load.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import msgspec

from domain.network import NetworkDirectory, Service
from domain.risk import RiskInstrument, RiskItem
from domain.vocabulary import ServiceKind


class NetworkFileError(Exception):
    """A data file is missing or malformed."""


class _ServiceEntry(msgspec.Struct, forbid_unknown_fields=True):
    id: str
    kind: ServiceKind
    name: str
    # Where the email channel writes about emergencies and missed deadlines.
    duty_email: str | None = None


class _DirectoryFile(msgspec.Struct, forbid_unknown_fields=True):
    code: str
    name: str
    services: list[_ServiceEntry]


class _ItemEntry(msgspec.Struct, forbid_unknown_fields=True):
    id: str
    text: str
    weight: int


class _InstrumentEntry(msgspec.Struct, forbid_unknown_fields=True):
    id: str
    name: str
    medium_from: int
    high_from: int
    items: list[_ItemEntry]


class _InstrumentsFile(msgspec.Struct, forbid_unknown_fields=True):
    instruments: list[_InstrumentEntry]


def _read(path: Path | None, default: str) -> tuple[bytes, str]:
    if path is None:
        return (resources.files("infrastructure") / "data" / default).read_bytes(), default
    try:
        return path.read_bytes(), str(path)
    except OSError as e:
        raise NetworkFileError(f"cannot read {path}: {e.strerror}") from None


def _directory_file(path: Path | None) -> tuple[_DirectoryFile, str]:
    raw, where = _read(path, "cesano-boscone.json")
    try:
        return msgspec.json.decode(raw, type=_DirectoryFile), where
    except msgspec.ValidationError as e:
        raise NetworkFileError(f"{where}: {e}") from None


def load_duty_addresses(path: Path | None = None) -> dict[str, str]:
    """Each service's duty email address (``duty_email``), by service id; a service
    without one gets no email."""
    data, where = _directory_file(path)
    addresses = {}
    for s in data.services:
        if s.duty_email is None:
            continue
        local, at, domain = s.duty_email.partition("@")
        if not (local and at and "." in domain) or any(c.isspace() for c in s.duty_email):
            raise NetworkFileError(f"{where}: {s.id}: duty_email is not an email address")
        addresses[s.id] = s.duty_email
    return addresses


def load_directory(path: Path | None = None) -> NetworkDirectory:
    """The network directory from ``path``, or the Cesano Boscone seed directory."""
    data, where = _directory_file(path)
    ids = [s.id for s in data.services]
    duplicated = sorted({i for i in ids if ids.count(i) > 1})
    if duplicated:
        raise NetworkFileError(f"{where}: service ids appear twice: {duplicated}")
    return NetworkDirectory(
        data.code, data.name, [Service(s.id, s.kind, s.name) for s in data.services]
    )


def load_instruments(path: Path | None = None) -> dict[str, RiskInstrument]:
    raw, where = _read(path, "risk-instruments.json")
    try:
        data = msgspec.json.decode(raw, type=_InstrumentsFile)
    except msgspec.ValidationError as e:
        raise NetworkFileError(f"{where}: {e}") from None
    instruments = {}
    for entry in data.instruments:
        if not 0 < entry.medium_from <= entry.high_from:
            raise NetworkFileError(f"{where}: {entry.id}: need 0 < medium_from <= high_from")
        instruments[entry.id] = RiskInstrument(
            entry.id,
            entry.name,
            tuple(RiskItem(i.id, i.text, i.weight) for i in entry.items),
            entry.medium_from,
            entry.high_from,
        )
    return instruments
