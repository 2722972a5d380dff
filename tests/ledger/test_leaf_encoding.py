"""The leaf encoding of a record (``rete-leaf-v1``, documented in merkle.py) is
injective: it decodes back to exactly its fields, and tricky neighbours differ."""

from __future__ import annotations

import hashlib
from typing import Any
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from infrastructure.ledger.merkle import LEAF_TAG, LeafFields, decode_leaf, encode_leaf

STREAM = UUID("0b7c9a5e-3f1d-4c2a-9e8b-7d6f5a4b3c2d")
STATE = hashlib.sha256(b"ciphertext").digest()

u64 = st.integers(min_value=0, max_value=2**64 - 1)
topics = st.text(min_size=1, max_size=40).filter(lambda t: len(t.encode("utf-8")) <= 0xFFFF)
fields = st.builds(
    LeafFields,
    position=u64,
    stream_id=st.uuids(),
    version=u64,
    topic=topics,
    state_sha256=st.binary(min_size=32, max_size=32),
)


def _encode(f: LeafFields) -> bytes:
    return encode_leaf(f.position, f.stream_id, f.version, f.topic, f.state_sha256)


def test_layout_is_the_documented_one() -> None:
    leaf = encode_leaf(1, STREAM, 2, "a.B", STATE)
    assert leaf == (
        b"rete-leaf-v1"
        + (1).to_bytes(8, "big")
        + STREAM.bytes
        + (2).to_bytes(8, "big")
        + (3).to_bytes(2, "big")
        + b"a.B"
        + STATE
    )
    assert len(leaf) == 78 + 3
    assert LEAF_TAG == b"rete-leaf-v1"


@given(fields)
def test_decoding_gives_back_exactly_the_fields(f: LeafFields) -> None:
    assert decode_leaf(_encode(f)) == f


@given(fields, fields)
def test_different_records_have_different_leaves(a: LeafFields, b: LeafFields) -> None:
    assert (_encode(a) == _encode(b)) == (a == b)


def test_tricky_neighbours_differ() -> None:
    """Pairs that a naive concatenation (no lengths, text numbers, normalised
    text) would confuse."""
    other_state = hashlib.sha256(b"other").digest()
    records = [
        (1, STREAM, 2, "topic", STATE),
        (2, STREAM, 1, "topic", STATE),  # position and version swapped
        (1, STREAM, 2, "topicX", STATE),
        (1, STREAM, 2, "topi", STATE),  # topic bytes shift into the hash
        (1, STREAM, 2, "topic" + STATE[:1].decode("latin-1"), other_state),
        (1, STREAM, 2, "caf\u00e9", STATE),  # NFC
        (1, STREAM, 2, "cafe\u0301", STATE),  # NFD: same text to a reader, not the same topic
        (1, STREAM, 2, "Topic", STATE),
        (1, UUID(int=STREAM.int ^ 1), 2, "topic", STATE),
        (1, STREAM, 2, "topic", other_state),
        (0, STREAM, 0, "topic", STATE),
        (2**64 - 1, STREAM, 2**64 - 1, "topic", STATE),
        (1 << 8, STREAM, 2, "topic", STATE),  # the same bytes in another field width
        (1, STREAM, 2 << 8, "topic", STATE),
    ]
    leaves = [encode_leaf(*record) for record in records]
    assert len(set(leaves)) == len(records)
    for leaf, record in zip(leaves, records, strict=True):
        assert decode_leaf(leaf) == LeafFields(*record)


@pytest.mark.parametrize(
    "args",
    [
        pytest.param((-1, STREAM, 1, "t", STATE), id="negative-position"),
        pytest.param((2**64, STREAM, 1, "t", STATE), id="position-above-u64"),
        pytest.param((1, STREAM, -1, "t", STATE), id="negative-version"),
        pytest.param((1, STREAM, 2**64, "t", STATE), id="version-above-u64"),
        pytest.param((1, STREAM, 1, "", STATE), id="empty-topic"),
        pytest.param((1, STREAM, 1, "x" * 65536, STATE), id="topic-too-long"),
        pytest.param((1, STREAM, 1, "\ud800", STATE), id="lone-surrogate"),
        pytest.param((1, STREAM, 1, "t", STATE[:31]), id="short-hash"),
        pytest.param((1, str(STREAM), 1, "t", STATE), id="stream-id-not-a-uuid"),
    ],
)
def test_encoding_refuses_what_it_cannot_represent(args: tuple[Any, ...]) -> None:
    with pytest.raises((ValueError, TypeError)):
        encode_leaf(*args)


def test_decoding_refuses_anything_else() -> None:
    leaf = encode_leaf(1, STREAM, 2, "topic", STATE)
    for bad in [
        leaf + b"\0",  # trailing byte
        leaf[:-1],  # truncated hash
        b"rete-leaf-v2" + leaf[12:],  # another layout
        leaf[:44] + (6).to_bytes(2, "big") + leaf[46:],  # length disagrees
        leaf[:44] + (0).to_bytes(2, "big") + leaf[46:],
        leaf[:46] + b"\xff" + leaf[47:],  # not UTF-8
        b"",
    ]:
        with pytest.raises(ValueError):
            decode_leaf(bad)
