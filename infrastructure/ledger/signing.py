"""The checkpoint signing key: an Ed25519 key in a private file, never in the database.

The file holds one line, the signer key string of Go's ``sumdb/note``
(``PRIVATE+KEY+<name>+<key id>+<base64(0x01 || seed)>``). The key's name is the
log's origin, so a checkpoint's first line names the key that signs it.

In production the file comes from the operator (``RETE_LEDGER_SIGNING_KEY_FILE``)
and a missing one is an error. Only the default development path under ``var/``
is created on first run, with a warning: a key beside the database it vouches
for protects nothing against whoever holds the database's host.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from infrastructure.crypto.keyfile import PrivateFileError, create_private, read_private
from infrastructure.ledger.note import NoteError, Signer, Verifier
from infrastructure.logging import get_logger
from infrastructure.settings import Settings

DEV_KEY_NAME = "ledger-signing.key"

log = get_logger(__name__)


class SigningKeyError(Exception):
    """The signing key file is missing, unreadable, malformed, or for another origin."""


@dataclass(frozen=True)
class SigningKey:
    signer: Signer
    path: Path
    created: bool

    @property
    def verifier(self) -> Verifier:
        return self.signer.verifier()


def is_development_key(settings: Settings) -> bool:
    return settings.ledger_signing_key_file == settings.var_dir / DEV_KEY_NAME


def load_signing_key(settings: Settings, *, create: bool = True) -> SigningKey:
    """The signing key from its file; the development file is created when missing
    (if ``create``), any other must exist."""
    path = settings.ledger_signing_key_file
    created = False
    if create and is_development_key(settings) and not path.exists():
        try:
            signer = Signer.generate(settings.ledger_origin)
        except NoteError:
            raise SigningKeyError(
                f"RETE_LEDGER_ORIGIN {settings.ledger_origin!r} cannot name a key: "
                "no spaces, no '+'"
            ) from None
        try:
            created = create_private(path, (signer.to_key_string() + "\n").encode("ascii"))
        except OSError as e:
            raise SigningKeyError(f"cannot create the ledger signing key {path}: {e}") from None
        if created:
            log.warning(
                "created a DEVELOPMENT ledger signing key next to the database it vouches for: "
                "for real data set RETE_LEDGER_SIGNING_KEY_FILE to a key kept elsewhere",
                key_file=str(path),
            )
    return SigningKey(read_signer(path, settings.ledger_origin), path, created)


def read_signer(path: Path, origin: str) -> Signer:
    try:
        data, _ = read_private(path)
    except PrivateFileError as e:
        raise SigningKeyError(f"ledger signing key: {e}") from None
    try:
        signer = Signer.from_key_string(data.decode("ascii").strip())
    except (NoteError, UnicodeDecodeError, ValueError) as e:
        raise SigningKeyError(f"{path} does not hold a signer key string: {e}") from None
    if signer.name != origin:
        raise SigningKeyError(
            f"the signing key in {path} is for the log {signer.name!r}, "
            f"but RETE_LEDGER_ORIGIN is {origin!r}"
        )
    return signer


def parse_verifier_keys(values: list[str]) -> list[Verifier]:
    """Verifier key strings, each given as itself or as a file holding it."""
    keys = []
    for value in values:
        text = value
        path = Path(value)
        if "+" not in value or path.is_file():
            try:
                text = path.read_text(encoding="utf-8").strip()
            except OSError as e:
                raise SigningKeyError(f"cannot read the public key file {value}: {e}") from None
        try:
            keys.append(Verifier.from_key_string(text))
        except (NoteError, ValueError) as e:
            raise SigningKeyError(f"not a verifier key string ({e}): {text[:80]!r}") from None
    return keys
