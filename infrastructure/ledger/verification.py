"""``rete ledger verify``: a live database, or an export with only the public key.

Steps, each stopping at the first failure (``VerificationFailed``):
1. every checkpoint's signature and origin (and, live, its stored row);
2. every record, in order, against the checkpoints (``LogVerifier``), locating
   the first bad leaf with the ledger's stored leaves; live, every stored node
   is compared with the recomputed one too, whole chunks at a time while they
   are exactly as stored, in ``jobs`` processes (``whole_chunks``), then page by
   page from the first chunk that is not;
3. the consistency proof between each two consecutive checkpoints.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass
from itertools import pairwise

from infrastructure.ledger.chunks import CHUNK
from infrastructure.ledger.db import Head, LedgerTables
from infrastructure.ledger.findings import CleanChunk, Page, TrustedCheckpoint, VerificationFailed
from infrastructure.ledger.follower import LedgerCorrupt
from infrastructure.ledger.note import NoteError, Verifier, open_checkpoint
from infrastructure.ledger.proofs import ProofError, verify_consistency
from infrastructure.ledger.sources import live_pages, node_lookup
from infrastructure.ledger.store import LedgerStore
from infrastructure.ledger.verify import LogVerifier
from infrastructure.ledger.whole_chunks import clean_chunks

Progress = Callable[[int, int], None]
ProofSource = Callable[[int, int], Sequence[bytes] | None]


@dataclass(frozen=True, slots=True)
class VerifySummary:
    records: int
    checkpoints: int
    latest: TrustedCheckpoint | None

    @property
    def uncovered(self) -> int:
        """Records after the latest checkpoint: checked against the ledger, not yet
        against a signature."""
        return self.records - (self.latest.size if self.latest else 0)


def open_checkpoints(
    notes: Iterable[tuple[str, bytes]], verifiers: Sequence[Verifier], origin: str
) -> list[TrustedCheckpoint]:
    """Verify signed notes given as ``(label, note)``, the log's own first (so that
    its own label wins when an external checkpoint repeats one); smallest first."""
    by_size: dict[int, TrustedCheckpoint] = {}
    for label, note in notes:
        try:
            checkpoint = open_checkpoint(note, verifiers, origin)
        except NoteError as e:
            raise VerificationFailed(None, f"{label} does not verify: {e}") from None
        trusted = TrustedCheckpoint(
            f"{label} (size {checkpoint.size})", checkpoint.size, checkpoint.root
        )
        earlier = by_size.setdefault(checkpoint.size, trusted)
        if earlier.root != trusted.root:
            raise VerificationFailed(
                None,
                f"{earlier.label} and {trusted.label} sign different roots for the same "
                "size: the signed history forked",
            )
    return [by_size[size] for size in sorted(by_size)]


def check_log(
    pages: Iterator[Page | CleanChunk],
    checkpoints: list[TrustedCheckpoint],
    proofs: ProofSource,
    total: int,
    progress: Progress | None = None,
    verifier: LogVerifier | None = None,
) -> VerifySummary:
    verifier = verifier or LogVerifier(checkpoints)
    for page in pages:
        if isinstance(page, CleanChunk):
            verifier.feed_clean(page)
        else:
            verifier.feed(page)
        if progress:
            progress(verifier.records, total)
    latest = verifier.finish()
    for first, second in pairwise(checkpoints):
        proof = proofs(first.size, second.size)
        if proof is None:
            raise VerificationFailed(
                None, f"no consistency proof from {first.label} to {second.label}"
            )
        try:
            verify_consistency(first.size, second.size, proof, first.root, second.root)
        except ProofError as e:
            raise VerificationFailed(
                None, f"{first.label} and {second.label} are not consistent: {e}"
            ) from None
    return VerifySummary(verifier.records, len(checkpoints), latest)


def verify_live(
    tables: LedgerTables,
    verifiers: Sequence[Verifier],
    origin: str,
    external: Sequence[tuple[str, bytes]] = (),
    progress: Progress | None = None,
    *,
    jobs: int = 1,
    whole_chunks: bool = True,
) -> VerifySummary:
    """``jobs``: processes checking whole chunks (1: this one only). Without
    ``whole_chunks`` every page is read row by row: the reference path, which the
    tests hold the fast one to."""
    with tables.read() as tx:
        # Checkpoints first: the head only grows, so it covers every one of them.
        rows = tx.checkpoints()
        head = tx.head()
    own = [(f"checkpoint {k}", row.note) for k, row in enumerate(rows, start=1)]
    checkpoints = open_checkpoints([*own, *external], verifiers, origin)
    signed = {c.size: c.root for c in checkpoints}
    for ordinal, row in enumerate(rows, start=1):
        if signed.get(row.size) != row.root:
            raise VerificationFailed(
                None, f"checkpoint {ordinal}: its stored size or root differ from its signed note"
            )
    store = LedgerStore(tables)

    def proofs(first: int, second: int) -> Sequence[bytes] | None:
        try:
            return store.consistency_proof(first, second)
        except (ValueError, LedgerCorrupt):
            return None

    sizes = [c.size for c in checkpoints]
    pages = _live(tables, head, sizes, jobs) if whole_chunks else live_pages(tables, head)
    with closing(pages):  # stops the workers now, should verification fail midway
        return check_log(
            pages,
            checkpoints,
            proofs,
            head.size,
            progress,
            LogVerifier(checkpoints, node_lookup(tables)),
        )


def _live(
    tables: LedgerTables, head: Head, sizes: list[int], jobs: int
) -> Generator[Page | CleanChunk, None, None]:
    """Clean chunks while there are, then pages from the first chunk that is not."""
    start, after = 0, 0
    with closing(clean_chunks(tables, head, sizes, jobs)) as chunks:
        for chunk in chunks:
            yield chunk
            if chunk.levels is not None:  # the last, partial chunk: the log ends there
                return
            start, after = chunk.start + CHUNK, chunk.last_position
    yield from live_pages(tables, head, start, after)
