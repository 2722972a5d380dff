"""Verification's fast leaf hashing makes exactly ``merkle.encode_leaf``'s leaves."""

from __future__ import annotations

import hashlib
from uuid import UUID

from hypothesis import given
from hypothesis import strategies as st

from infrastructure.ledger.db import RawRecord
from infrastructure.ledger.merkle import encode_leaf, leaf_hash
from infrastructure.ledger.records import UNENCODABLE, LeafHasher, leaf_data

records = st.builds(
    RawRecord,
    position=st.integers(0, 2**64 - 1),
    stream_id=st.one_of(st.uuids(), st.uuids().map(lambda u: u.hex)),
    version=st.integers(0, 2**64 - 1),
    # Any code point, lone surrogates and the empty topic included: those cannot be leaves.
    topic=st.text(st.characters(blacklist_categories=()), max_size=40),
    state=st.binary(max_size=300),
)


@given(st.lists(records, max_size=20))
def test_the_fast_path_hashes_the_leaves_encode_leaf_makes(batch: list[RawRecord]) -> None:
    hasher = LeafHasher()
    expected = []
    for r in batch:
        try:
            sid = r.stream_id if isinstance(r.stream_id, UUID) else UUID(hex=r.stream_id)
            expected.append(leaf_hash(leaf_data(r.position, sid, r.version, r.topic, r.state)))
        except ValueError:
            expected.append(UNENCODABLE)
    assert hasher.hashes(batch) == expected
    assert hasher.hashes(batch) == expected  # again, from the caches


def test_a_record_that_cannot_be_a_leaf_hashes_to_nothing_not_to_an_error() -> None:
    good = RawRecord(1, UUID(int=1), 1, "domain.case:Case.Opened", b"x")
    bad = [
        good._replace(version=-1),
        good._replace(position=2**64),
        good._replace(topic=""),
        good._replace(stream_id="not hex"),
    ]
    hashes = LeafHasher().hashes([good, *bad])
    sha = hashlib.sha256(b"x").digest()
    assert hashes[0] == leaf_hash(encode_leaf(1, UUID(int=1), 1, "domain.case:Case.Opened", sha))
    assert hashes[1:] == [UNENCODABLE] * 4
