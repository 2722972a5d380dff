"""The key that authenticates the views' rows (docs/VIEWS.md, "Authenticated rows").

Someone who can write to the database but holds no KEK must not be able to forge a
view row that decides who reads what. Every row carries an HMAC-SHA256 under a key
that exists only in the memory of Rete's processes: HKDF-SHA256 of a data key of
its own scope (``VIEW_MAC_SCOPE``), which the key store keeps wrapped under the KEK
like any other data key. So:

* every process (server workers, ``rete views run``, the commands) derives the same
  key, and it never reaches disk or the database unwrapped;
* rotating or retiring a KEK version rewraps this data key with the others: the
  derived key, and every row's MAC, stay valid;
* the key is used for nothing else (its own scope, and a label of its own in the
  derivation), so a MAC never helps open a seal, nor the reverse.

A new generation of the scope (``rotate_data_key("views")``) changes the key: the
views must then be rebuilt (``rete views rebuild``) and the processes restarted.
"""

from __future__ import annotations

from typing import Final

from application.ports import KeyStore
from infrastructure.crypto.scoped_secret import SECRET_SIZE, scoped_secret

VIEW_MAC_SCOPE: Final = "views"
_LABEL: Final = b"rete view rows mac v1"
MAC_KEY_SIZE: Final = SECRET_SIZE


def view_mac_key(keys: KeyStore) -> bytes:
    """The views' MAC key, derived from its data key (created on first use).
    Call it outside any transaction on the views: creating the data key writes."""
    return scoped_secret(keys, VIEW_MAC_SCOPE, _LABEL)
