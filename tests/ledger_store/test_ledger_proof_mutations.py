"""Proofs served from the stored nodes verify, and every mutation of them is refused
by the RFC 9162 verifier (at least 1,000 of each kind: issue 4, "done when" 2)."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from ledger_store_support import flip, write_cases

from application.rete import Rete
from infrastructure.ledger.ledger import Ledger
from infrastructure.ledger.proofs import ProofError, verify_consistency, verify_inclusion


@pytest.fixture
def tree(rete: Rete, ledger: Ledger) -> Ledger:
    write_cases(rete, 3, 110)  # 333 leaves
    ledger.catch_up()
    return ledger


def mutations(proof: list[bytes], rng: random.Random) -> Iterator[list[bytes]]:
    """Every element with one bit flipped; one element dropped, added, moved."""
    for k, node in enumerate(proof):
        yield [*proof[:k], flip(node, rng.randrange(256)), *proof[k + 1 :]]
    if proof:
        yield proof[:-1]
        yield proof[1:]
        yield [*proof, proof[-1]]
        yield [bytes(32), *proof]
    if len(proof) > 1:
        yield [proof[1], proof[0], *proof[2:]]


def refused(check: Callable[..., None], *args: Any) -> bool:
    try:
        check(*args)
    except ProofError:
        return True
    return False


def test_mutated_inclusion_proofs_are_refused(tree: Ledger) -> None:
    rng = random.Random(1)
    rejected = 0
    for _ in range(80):
        size = rng.randint(2, 333)
        index = rng.randrange(size)
        proof = tree.store.inclusion(index, size)
        leaf, root, path = proof.leaf_hash, proof.root, proof.proof
        verify_inclusion(leaf, index, size, path, root)
        cases = [(leaf, index, size, bad, root) for bad in mutations(path, rng)]
        cases += [(flip(leaf, rng.randrange(256)), index, size, path, root)]
        cases += [(leaf, index, size, path, flip(root, rng.randrange(256)))]
        cases += [
            (leaf, other, size, path, root) for other in {index - 1, index + 1} if 0 <= other < size
        ]
        for case in cases:
            assert refused(verify_inclusion, *case), case[1:3]
            rejected += 1
    assert rejected >= 1000


def test_mutated_consistency_proofs_are_refused(tree: Ledger) -> None:
    rng = random.Random(2)
    rejected = 0
    for _ in range(90):
        second = rng.randint(3, 333)
        first = rng.randint(1, second - 1)
        proof = tree.store.consistency(first, second)
        one, two, path = proof.first_root, proof.second_root, proof.proof
        verify_consistency(first, second, path, one, two)
        cases = [(first, second, bad, one, two) for bad in mutations(path, rng)]
        cases += [(first, second, path, flip(one, rng.randrange(256)), two)]
        cases += [(first, second, path, one, flip(two, rng.randrange(256)))]
        cases += [(first, second, path, two, one)]
        for case in cases:
            assert refused(verify_consistency, *case), case[:2]
            rejected += 1
    assert rejected >= 1000
