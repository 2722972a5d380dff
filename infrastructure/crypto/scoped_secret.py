"""Secrets that exist only in the memory of Rete's processes.

A secret of its own for one purpose (the views' row MACs, the idempotency keys'
answers) is HKDF-SHA256 of a data key of its own scope, which the key store keeps
wrapped under the KEK like any other: every process derives the same secret, it
never reaches disk or the database unwrapped, and rotating or retiring a KEK
version rewraps its data key with the others, so the secret stays the same.
"""

from __future__ import annotations

from typing import Final

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from application.ports import KeyStore

SECRET_SIZE: Final = 32


def scoped_secret(keys: KeyStore, scope: str, label: bytes) -> bytes:
    """The secret of ``scope`` for ``label``'s use (its data key is created on first
    use: call it outside any transaction, creating it writes)."""
    _, data_key = keys.sealing_key(scope)
    return HKDF(hashes.SHA256(), SECRET_SIZE, salt=None, info=label).derive(data_key)
