"""Webhook secrets sealed so that only Rete's processes open them.

A subscription's secret is sealed (AES-GCM) under a secret of the scope
``notifications`` (``infrastructure.crypto.scoped_secret``: derived from a data
key wrapped under the KEK) and bound to the subscription's id, so a sealed secret
copied onto another subscription does not open. The sealed bytes travel in the
subscription's events and its row; the plaintext is never stored.
"""

from __future__ import annotations

import os
from typing import Final
from uuid import UUID

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from application.ports import KeyStore
from infrastructure.crypto.scoped_secret import scoped_secret
from infrastructure.once import Once

SCOPE: Final = "notifications"
_LABEL: Final = b"rete webhook secrets v1"
_NONCE: Final = 12


class SealedSecrets:
    """Implements ``application.notifications.ports.SecretBox``. The scope's secret is
    derived on first use, which must happen outside any transaction (it may write)."""

    def __init__(self, keys: KeyStore) -> None:
        self._cipher = Once(lambda: AESGCM(scoped_secret(keys, SCOPE, _LABEL)))

    def _aead(self) -> AESGCM:
        return self._cipher.get()

    def seal(self, secret: str, subscription_id: UUID) -> bytes:
        nonce = os.urandom(_NONCE)
        return nonce + self._aead().encrypt(nonce, secret.encode(), _aad(subscription_id))

    def open(self, sealed: bytes, subscription_id: UUID) -> str:
        nonce, body = sealed[:_NONCE], sealed[_NONCE:]
        return self._aead().decrypt(nonce, body, _aad(subscription_id)).decode()


def _aad(subscription_id: UUID) -> bytes:
    return b"rete webhook secret:" + str(subscription_id).encode()
