"""Done-when 5: the Wycheproof AES-GCM vectors pass through our AEAD primitive.

The vectors are read from ``../shared/vectors/wycheproof/`` beside the project
(never copied in). Only 256-bit keys with 96-bit nonces and 128-bit tags are
ours: those vectors must open (valid) or be refused (invalid); every other size
must be refused by our primitive outright.
"""

from __future__ import annotations

import contextlib
import json
import os
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from infrastructure.crypto.sealing import IntegrityError, aead_open, aead_seal

PROJECT_ROOT = Path(__file__).resolve().parents[2]
VECTORS = PROJECT_ROOT.parent / "shared" / "vectors" / "wycheproof" / "aes_gcm_test.json"
OURS = (256, 96, 128)  # key, IV and tag sizes in bits


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


@cache
def _groups() -> list[dict[str, Any]] | None:
    if not VECTORS.is_file():
        return None
    document = json.loads(VECTORS.read_text(encoding="utf-8"))
    assert document["algorithm"] == "AES-GCM"
    return list(document["testGroups"])


def _require_vectors() -> list[dict[str, Any]]:
    groups = _groups()
    if groups is None:
        reason = (
            "Wycheproof vectors absent: expected ../shared/vectors/wycheproof/aes_gcm_test.json "
            "beside the project root (see ../shared/vectors/README.md)"
        )
        if _in_ci():
            pytest.fail(reason + "; they are required under CI=true", pytrace=False)
        pytest.skip(reason)
    return groups


def _sizes(group: dict[str, Any]) -> tuple[int, int, int]:
    return group["keySize"], group["ivSize"], group["tagSize"]


def _our_vectors() -> list[Any]:
    groups = _groups()
    if groups is None:
        return [pytest.param(None, id="vectors-absent")]
    return [
        pytest.param(test, id=f"tc{test['tcId']}-{test['result']}")
        for group in groups
        if _sizes(group) == OURS
        for test in group["tests"]
    ]


@pytest.mark.parametrize("vector", _our_vectors())
def test_vector_through_our_aead(vector: dict[str, Any] | None) -> None:
    _require_vectors()
    assert vector is not None
    key, iv, aad = (bytes.fromhex(vector[k]) for k in ("key", "iv", "aad"))
    msg, sealed = bytes.fromhex(vector["msg"]), bytes.fromhex(vector["ct"] + vector["tag"])
    if vector["result"] == "valid":
        assert aead_open(key, iv, sealed, aad) == msg
        assert aead_seal(key, iv, msg, aad) == sealed
    elif vector["result"] == "invalid":
        with pytest.raises(IntegrityError):
            aead_open(key, iv, sealed, aad)
    else:  # "acceptable": either outcome is allowed, but never a wrong plaintext
        with contextlib.suppress(IntegrityError):
            assert aead_open(key, iv, sealed, aad) == msg


def test_the_vectors_cover_valid_and_invalid_cases() -> None:
    """Guards against a vacuous pass (a file with no vector of our sizes)."""
    groups = _require_vectors()
    results = [t["result"] for g in groups if _sizes(g) == OURS for t in g["tests"]]
    assert results.count("valid") >= 30
    assert results.count("invalid") >= 20


def test_every_other_key_or_nonce_size_is_refused() -> None:
    groups = _require_vectors()
    others = [(g, t) for g in groups if _sizes(g) != OURS for t in g["tests"]]
    assert others
    for group, test in others:
        key, iv, aad = (bytes.fromhex(test[k]) for k in ("key", "iv", "aad"))
        sealed = bytes.fromhex(test["ct"] + test["tag"])
        with pytest.raises(ValueError, match="bytes"):
            aead_open(key, iv, sealed, aad)
        with pytest.raises(ValueError, match="bytes"):
            aead_seal(key, iv, bytes.fromhex(test["msg"]), aad)
        assert _sizes(group) != OURS
