"""The tamper-evident ledger beside the log, as the API reaches it through ``Rete``.

The ledger itself (a Merkle tree over every stored record, signed checkpoints)
is infrastructure (``infrastructure/ledger``); the application only hands it
on. These protocols name what the API's proof routes read of it.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable


class SignedCheckpoint(Protocol):
    @property
    def size(self) -> int: ...
    @property
    def note(self) -> bytes:
        """The checkpoint in signed-note format."""
        ...


class Inclusion(Protocol):
    @property
    def root(self) -> bytes: ...
    @property
    def proof(self) -> list[bytes]: ...
    @property
    def leaf_hash(self) -> bytes: ...
    @property
    def position(self) -> int:
        """The log position of the record the leaf is."""
        ...


class Consistency(Protocol):
    @property
    def first_root(self) -> bytes: ...
    @property
    def second_root(self) -> bytes: ...
    @property
    def proof(self) -> list[bytes]: ...


# Checkable at run time: the API's dependency injection checks the value it hands on.
@runtime_checkable
class LedgerProofs(Protocol):
    def latest_checkpoint(self) -> SignedCheckpoint | None: ...

    def public_key(self) -> str:
        """The checkpoints' verifier key, as a key string."""
        ...

    def inclusion(self, index: int, size: int) -> Inclusion: ...

    def leaf_data(self, position: int) -> bytes:
        """The stored record at ``position`` as leaf data (empty if it is gone)."""
        ...

    def consistency(self, first: int, second: int) -> Consistency: ...


class LedgerUnavailable(Exception):
    """This application was assembled without a ledger."""
