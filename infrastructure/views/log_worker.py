"""A large rebuild's log, read and opened in a worker process, page by page.

A rebuild is CPU-bound in Python, and one process uses one core. So for a large
log a worker process (forked, started once per rebuild) reads the log's pages on
its own new connection and opens their outer seals, while this process projects
and writes the page before. Pages come back in log order, each as one MessagePack
array of ``OpenedRecord``s, decoded here straight into them (in C): measured on a
page of 5,000 records, 0.2 µs a record to encode there and 1.1-2.4 µs to decode
here, against 2.4 and 2.4-4.8 µs pickling tuples. The fields were unpacked from
MessagePack, so they come back equal; a page with a record whose class upcasts
(its fields may then be any Python values) is pickled instead.

Keys: the worker never touches this process's key store (nor any connection made
before the fork). It asks this process for each system key id it meets, over the
pipe, once; the answer is the key, ``None`` or the key store's error, so a record
is opened, and refused, exactly as in-process (``records.BatchOpener``).

Bounded: at most two batches' worth of chunks wait here (``_Inbox``), one more in
the pipe and the one the worker is building. A worker that
reports an error or dies fails the rebuild before its swap: the live views are
left untouched, as with any interrupted rebuild.
"""

from __future__ import annotations

import multiprocessing
import pickle
import queue
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from types import TracebackType
from typing import Any, Final

import msgspec

from infrastructure.views.db.base import ViewTables
from infrastructure.views.log import EventLog, StoredRecord
from infrastructure.views.projection import NetworkViews
from infrastructure.views.records import OpenedRecord, OpeningKeys, upcasts
from infrastructure.views.runner import OpenedBatch

# Records from which a rebuild reads through a worker, by backend: starting one
# costs a fork and a connection, and the first chunk is waited for (some 15-35 ms
# in all). Measured (docs/PERFORMANCE.md, 2 cores): on SQLite faster than in-process
# at 18,000 records and more; on PostgreSQL slower at every size (the server's
# processes for two connections need the cores too), so never there.
WORKER_FROM: Final[Mapping[str, int]] = {"sqlite": 10_000}


def threshold(dialect: str) -> int | None:
    """The log's length from which a rebuild on this backend uses the worker."""
    return WORKER_FROM.get(dialect) if available() else None


# Records the worker reads, opens and sends at a time: a batch comes in chunks, so
# that this process waits for one chunk, not a batch, before it has work.
CHUNK: Final = 1000

_KEY, _CHUNK, _PICKLED_CHUNK, _END, _DONE, _ERROR = (
    "key",
    "chunk",
    "pickled chunk",
    "end",
    "done",
    "error",
)

_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(list[OpenedRecord])


class WorkerFailed(RuntimeError):
    """The worker process stopped without finishing: the rebuild fails."""


def available() -> bool:
    """Whether this platform forks (the worker shares this process's code, and is
    handed nothing but the job's description)."""
    return "fork" in multiprocessing.get_all_start_methods()


@dataclass(frozen=True)
class LogJob:
    """What the worker reads: records with ``after < position <= stop`` of
    ``topics``, ``page`` at a time (the rebuild's batches, the same boundaries)."""

    tables: ViewTables  # only its ``reopened`` is called in the worker
    log: EventLog
    topics: Sequence[str]
    after: int
    stop: int
    page: int


class _KeysOverPipe:
    """The worker's key store: this process's, asked over the pipe."""

    def __init__(self, pipe: Connection) -> None:
        self._pipe = pipe

    def opening_key(self, key_id: bytes) -> bytes | None:
        _send(self._pipe, (_KEY, key_id))
        kind, answer = pickle.loads(self._pipe.recv_bytes())
        if kind == _ERROR:
            raise answer
        return answer  # type: ignore[no-any-return]


def _send(pipe: Connection, message: tuple[Any, ...]) -> None:
    pipe.send_bytes(pickle.dumps(message, pickle.HIGHEST_PROTOCOL))


def _read_and_open(pipe: Connection, job: LogJob, views: NetworkViews) -> None:
    """The worker's work: every batch of the job, opened and sent in order, a chunk
    at a time (this process starts on a batch before the worker has all of it)."""
    open_ = views.opening(_KeysOverPipe(pipe))
    tables = job.tables.reopened()
    try:
        after = job.after
        while after < job.stop:
            after = _one_batch(pipe, job, tables, after, open_)
    finally:
        tables.close()


def _one_batch(
    pipe: Connection,
    job: LogJob,
    tables: ViewTables,
    after: int,
    open_: Callable[[StoredRecord], OpenedRecord],
) -> int:
    """The batch after ``after``: the records ``EventLog.records(after, stop, page)``
    gives, read ``CHUNK`` at a time; the position reached, as ``ViewRunner.step``
    says it (the last record's for a full batch, else the stop)."""
    taken, last = 0, after
    while taken < job.page:
        limit = min(CHUNK, job.page - taken)
        with tables.read(snapshot=False) as tx:
            chunk = job.log.records(tx, last, job.stop, limit, job.topics)
        if chunk:
            opened = [open_(stored) for stored in chunk]
            if any(upcasts(record.topic) for record in opened):
                _send(pipe, (_PICKLED_CHUNK, opened))
            else:
                _send(pipe, (_CHUNK, _encoder.encode(opened)))
            taken, last = taken + len(chunk), chunk[-1].position
        if len(chunk) < limit:
            break
    reached = last if taken == job.page else job.stop
    _send(pipe, (_END, reached))
    return reached


def _work(pipe: Connection, parents: Connection, job: LogJob, views: NetworkViews) -> None:
    """The worker process's body: its errors go to the parent, pickled."""
    parents.close()  # the parent's end, inherited: EOF here when the parent is gone
    try:
        _read_and_open(pipe, job, views)
        _send(pipe, (_DONE,))
    except BaseException as e:  # every failure is the parent's to raise
        try:
            _send(pipe, (_ERROR, e))
        except Exception:  # an error that does not pickle
            _send(pipe, (_ERROR, WorkerFailed(f"{type(e).__name__}: {e}")))


class OpenedPages:
    """The worker, started on entering and stopped on leaving (``with``); ``batches``
    yields each batch of the log in order, opened.

    The worker opens records as ``views.opening`` does (place-only topics stay
    sealed), asking ``keys`` through this process."""

    def __init__(self, job: LogJob, views: NetworkViews, keys: OpeningKeys) -> None:
        context = multiprocessing.get_context("fork")
        self._pipe, theirs = context.Pipe()
        self._keys = keys
        self._process = context.Process(
            target=_work, args=(theirs, self._pipe, job, views), name="rete views log", daemon=True
        )
        self._done = False
        self._process.start()
        theirs.close()  # the worker's end: EOF here when the worker is gone
        self._inbox = _Inbox(self._pipe, max(2, 2 * job.page // CHUNK))

    def batches(self) -> Iterator[OpenedBatch]:
        """Each batch in turn; take all of its chunks before the next."""
        while True:
            message = self._next()
            if message[0] == _DONE:
                self._done = True
                return
            yield _Batch(self, message)

    def _next(self) -> tuple[Any, ...]:
        """The worker's next chunk, batch end or end, its key requests answered."""
        while True:
            message = self._receive()
            kind = message[0]
            if kind == _KEY:
                self._answer(message[1])
            elif kind == _ERROR:
                raise message[1]
            elif kind in (_CHUNK, _PICKLED_CHUNK, _END, _DONE):
                return message
            else:
                raise WorkerFailed(f"the log worker sent {kind!r}")

    def _receive(self) -> tuple[Any, ...]:
        data = self._inbox.take()
        if data is None:
            self._process.join(5)
            raise WorkerFailed(f"the log worker stopped (exit code {self._process.exitcode})")
        return pickle.loads(data)  # type: ignore[no-any-return]

    def _answer(self, key_id: bytes) -> None:
        try:
            answer: tuple[str, Any] = ("key", self._keys.opening_key(key_id))
        except Exception as e:  # raised in the worker, naming the record
            answer = (_ERROR, e)
        _send(self._pipe, answer)

    def close(self) -> None:
        self._inbox.stop()
        if not self._done:
            self._process.kill()  # it failed, or this side did: no need to wait
        self._process.join()
        self._inbox.join()  # the worker is gone: its pipe is at its end
        self._pipe.close()
        self._process.close()

    def __enter__(self) -> OpenedPages:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()


class _Inbox:
    """The worker's messages, taken off the pipe as they come by a thread of this
    process (it waits outside the GIL), up to ``size`` of them. Without it the
    worker could run only one message ahead: it waited while this process wrote a
    batch's rows, and this process then waited for it, chunk after chunk."""

    def __init__(self, pipe: Connection, size: int) -> None:
        self._pipe = pipe
        self._queue: queue.Queue[bytes | None] = queue.Queue(size)
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._pump, name="rete views log inbox")
        self._thread.daemon = True
        self._thread.start()

    def take(self) -> bytes | None:
        """The next message; None once the worker is gone."""
        return self._queue.get()

    def stop(self) -> None:
        self._stopping.set()

    def join(self) -> None:
        self._thread.join()

    def _pump(self) -> None:
        try:
            while self._put(self._pipe.recv_bytes()):
                pass
        except Exception:  # EOF, or the pipe unusable: the worker is gone either way
            self._put(None)

    def _put(self, item: bytes | None) -> bool:
        while not self._stopping.is_set():
            try:
                self._queue.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False


class _Batch:
    """One batch as the worker sends it (``runner.OpenedBatch``)."""

    def __init__(self, worker: OpenedPages, first: tuple[Any, ...]) -> None:
        self._worker = worker
        self._first: tuple[Any, ...] | None = first
        self._reached: int | None = None

    def chunks(self) -> Iterator[list[OpenedRecord]]:
        while self._reached is None:
            message, self._first = self._first or self._worker._next(), None
            kind = message[0]
            if kind == _END:
                self._reached = message[1]
            elif kind == _CHUNK:
                yield _decoder.decode(message[1])
            elif kind == _PICKLED_CHUNK:
                yield message[1]
            else:
                raise WorkerFailed(f"the log worker sent {kind!r} inside a batch")

    def reached(self) -> int:
        if self._reached is None:
            raise RuntimeError("the batch was not taken whole")
        return self._reached
