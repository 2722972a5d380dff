"""The development HS256 secret that signs and verifies local tokens.

It lives in a file (``RETE_JWT_SECRET_FILE``, by default ``var/jwt-secret``) so
that every worker process and the ``rete token`` command share it; a random
secret per process would break tokens across workers. Created on first use,
with 0600 permissions, and announced loudly as a development secret.
"""

from __future__ import annotations

import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

from infrastructure.crypto.keyfile import create_private
from infrastructure.logging import get_logger

SECRET_BYTES = 32

log = get_logger(__name__)


class DevSecretError(Exception):
    """The secret file exists but cannot be used; the message says why."""


@dataclass(frozen=True)
class DevSecret:
    key: bytes
    path: Path
    created: bool


def load_or_create_dev_secret(path: Path) -> DevSecret:
    """Read the secret at ``path``, creating it first if it does not exist."""
    created = False
    if not path.exists():
        try:
            created = create_private(path, (secrets.token_hex(SECRET_BYTES) + "\n").encode())
        except OSError as e:
            raise DevSecretError(
                f"cannot create the JWT secret file {path}: {e.strerror}"
            ) from None
        if created:
            log.warning(
                "created a DEVELOPMENT JWT secret: fine for a laptop, never for production",
                secret_file=str(path),
            )
    return DevSecret(_read(path), path, created)


def _read(path: Path) -> bytes:
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as e:
        reason = e.strerror if isinstance(e, OSError) else "not ASCII text"
        raise DevSecretError(f"cannot read the JWT secret file {path}: {reason}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning(
            "the JWT secret file is readable by other users; chmod 600 it",
            secret_file=str(path),
        )
    try:
        key = bytes.fromhex(text)
    except ValueError:
        raise DevSecretError(f"the JWT secret file {path} must hold hexadecimal text") from None
    if len(key) < SECRET_BYTES:
        raise DevSecretError(
            f"the JWT secret in {path} is shorter than {SECRET_BYTES} bytes; delete it to get a new one"
        )
    return key
