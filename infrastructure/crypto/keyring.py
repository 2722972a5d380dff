"""The contents of a KEK keyring: numbered 32-byte versions and a primary, and
their JSON form (``{"primary": 2, "keys": {"1": "<base64>", "2": "<base64>"}}``)."""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final

KEK_SIZE: Final = 32


class KekError(Exception):
    """The KEK configuration cannot be used; the message says what to fix."""


@dataclass(frozen=True)
class KeyringData:
    """The versions and the primary; ``repr`` never shows key material."""

    primary: int
    keys: Mapping[int, bytes] = field(repr=False)
    development: bool = False

    def __post_init__(self) -> None:
        if not self.keys:
            raise KekError("a keyring needs at least one key")
        for version, key in self.keys.items():
            if isinstance(version, bool) or not isinstance(version, int) or version < 1:
                raise KekError(f"KEK versions are whole numbers from 1, got {version!r}")
            if len(key) != KEK_SIZE:
                raise KekError(f"KEK version {version} is {len(key)} bytes, not {KEK_SIZE}")
        if len(set(self.keys.values())) != len(self.keys):
            raise KekError("two KEK versions hold the same key")
        if self.primary not in self.keys:
            raise KekError(f"the primary KEK version {self.primary} is not among the keys")
        object.__setattr__(self, "keys", MappingProxyType(dict(self.keys)))

    @classmethod
    def fresh(cls, *, development: bool = False) -> KeyringData:
        return cls(primary=1, keys={1: os.urandom(KEK_SIZE)}, development=development)

    def with_new_version(self) -> KeyringData:
        version = max(self.keys) + 1
        keys = {**self.keys, version: os.urandom(KEK_SIZE)}
        return KeyringData(primary=version, keys=keys, development=self.development)

    def without(self, versions: Iterable[int]) -> KeyringData:
        """The keyring with ``versions`` removed (never the primary)."""
        gone = set(versions)
        if self.primary in gone:
            raise KekError(f"KEK version {self.primary} is primary: it cannot be retired")
        keys = {v: k for v, k in self.keys.items() if v not in gone}
        return KeyringData(primary=self.primary, keys=keys, development=self.development)

    def to_json(self) -> bytes:
        document: dict[str, Any] = {
            "primary": self.primary,
            "keys": {str(v): base64.b64encode(k).decode("ascii") for v, k in self.keys.items()},
        }
        if self.development:
            document["development"] = True
        return (json.dumps(document, indent=2) + "\n").encode("utf-8")


def parse_keyring(text: str | bytes, source: str) -> KeyringData:
    """Read ``{"primary": 2, "keys": {"1": "<base64>", "2": "<base64>"}}``, or a single
    base64 key (which becomes version 1). Errors name ``source``, never a key."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise KekError(f"{source}: not UTF-8 text") from None
    stripped = text.strip()
    if not stripped.startswith("{"):
        return KeyringData(primary=1, keys={1: _b64key(stripped, source, "the key")})
    try:
        document = json.loads(stripped)
    except ValueError:
        raise KekError(f"{source}: not valid JSON (nor a single base64 key)") from None
    if not isinstance(document, dict):
        raise KekError(f"{source}: expected a JSON object")
    unknown = set(document) - {"primary", "keys", "development"}
    if unknown:
        raise KekError(f"{source}: unknown fields {sorted(unknown)}")
    primary, keys = document.get("primary"), document.get("keys")
    development = document.get("development", False)
    if isinstance(primary, bool) or not isinstance(primary, int):
        raise KekError(f'{source}: "primary" must be a whole number')
    if not isinstance(keys, dict) or not keys:
        raise KekError(f'{source}: "keys" must be an object of version -> base64 key')
    if not isinstance(development, bool):
        raise KekError(f'{source}: "development" must be true or false')
    parsed: dict[int, bytes] = {}
    for name, value in keys.items():
        if not (name.isascii() and name.isdigit() and str(int(name)) == name):
            raise KekError(f"{source}: KEK version {name!r} is not a whole number")
        parsed[int(name)] = _b64key(value, source, f"KEK version {name}")
    try:
        return KeyringData(primary=primary, keys=parsed, development=development)
    except KekError as exc:
        raise KekError(f"{source}: {exc}") from None


def _b64key(value: object, source: str, what: str) -> bytes:
    if not isinstance(value, str | bytes):
        raise KekError(f"{source}: {what} must be a base64 string")
    try:
        key = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise KekError(f"{source}: {what} is not valid base64") from None
    if len(key) != KEK_SIZE:
        raise KekError(f"{source}: {what} decodes to {len(key)} bytes, not {KEK_SIZE}")
    return key
