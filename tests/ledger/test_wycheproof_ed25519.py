"""The Wycheproof Ed25519 vectors through the primitive every note signature
goes through (``note.verify_ed25519``), and through a note Verifier.

Read from ../shared/vectors/wycheproof/ed25519_test.json (never copied in).
Every valid signature verifies; every invalid one (malleable S, non-canonical
R, truncated or padded signatures, small-order points...) is refused.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from ledger_support import VECTORS, load_json, require_vectors

from infrastructure.ledger.note import Verifier, verify_ed25519

RELATIVE = "wycheproof/ed25519_test.json"


@cache
def _groups() -> list[dict[str, Any]]:
    document = load_json(require_vectors(RELATIVE))
    assert document["algorithm"] == "EDDSA"
    return list(document["testGroups"])


def _vectors() -> list[Any]:
    if not (VECTORS / RELATIVE).is_file():
        return [pytest.param(None, None, id="vectors-absent")]
    return [
        pytest.param(group["publicKey"]["pk"], test, id=f"tc{test['tcId']}-{test['result']}")
        for group in _groups()
        for test in group["tests"]
    ]


@pytest.mark.parametrize(("public_hex", "vector"), _vectors())
def test_vector_through_our_verifier(public_hex: str | None, vector: dict[str, Any] | None) -> None:
    require_vectors(RELATIVE)
    assert public_hex is not None and vector is not None
    public_key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_hex))
    message, signature = bytes.fromhex(vector["msg"]), bytes.fromhex(vector["sig"])
    want = vector["result"] == "valid"
    assert vector["result"] in {"valid", "invalid"}  # no "acceptable" case in this file
    assert verify_ed25519(public_key, message, signature) is want
    assert Verifier.for_key("wycheproof", public_key).verify(message, signature) is want


def test_the_vectors_cover_valid_and_invalid_cases() -> None:
    """Guards against a vacuous pass."""
    results = [t["result"] for g in _groups() for t in g["tests"]]
    assert results.count("valid") >= 80
    assert results.count("invalid") >= 60
    flags = {f for g in _groups() for t in g["tests"] for f in t["flags"]}
    assert {"SignatureMalleability", "InvalidEncoding", "TruncatedSignature"} <= flags
