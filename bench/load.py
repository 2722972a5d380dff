"""HTTP under 50 clients: the real server against a fixed-JSON handler (issue 11, issue 14).

For each backend, on fresh storage:

1. the demo network is loaded (``rete demo``), then ``rete serve`` is started on a
   free port (on PostgreSQL with ``rete views run`` beside it, as deployed) and
   each caseworker client opens its cases and records the woman's consent (not
   timed);
2. ``--clients`` concurrent clients of different services work it for
   ``--seconds``: caseworkers of the anti-violence centre read case pages, add
   notes, list their cases and outbox and refer cases to social services; social
   services' caseworkers read their inbox and referrals and acknowledge and
   accept what arrives; the police and the health service read their inboxes;
3. the baseline: a Litestar app with one handler answering every request with a
   fixed JSON body of the mean size of the server's answers in the warm-up,
   served by uvicorn with the same settings as ``rete serve`` (workers, protocol
   with the read deadline, no access log), worked by the same clients making the
   same requests.

Both servers run at once; after a warm-up of each, they are measured in
``--rounds`` alternating rounds (A B, B A, ...) of ``--seconds / --rounds`` each,
so that whatever else the machine does falls on both alike.

Reported: requests per second, p50 and p99 latency of both, and the ratio of the
server's throughput to the baseline's (issue 14 asks >= 0.5x on SQLite); the
server's latency per kind of request; and every non-2xx answer. Then the replay
of a case of ``--replay-events`` events (loading the aggregate from the event
store: every event decoded and opened, without snapshots and with them; the
target is <= 50 ms), median of 15 loads.

Clients and servers share the machine's cores: on a small machine the clients'
own work (one asyncio process, httpx) is part of what limits both runs.

    python -m bench.load [--backend sqlite|postgres|both] [--clients 50] [--seconds 30]
                         [--rounds 6] [--warmup 3] [--workers 1] [--replay-events 1000]
                         [--postgres-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from litestar import Litestar, Response, route
from rich.console import Console
from rich.table import Table

from bench.backends import Backend, Storage, add_backend_options, chosen_backends
from bench.tables import by_backend
from tests.support.processes import free_port, stop, wait_answering

CASES = "/api/v1/cases"
REFERRALS = "/api/v1/referrals"
_RETE = str(Path(sys.executable).with_name("rete"))
PROJECT = Path(__file__).resolve().parents[1]
CONSENT = {
    "recipient_kinds": ["social_services"],
    "purposes": ["shelter"],
    "categories": ["identity", "violence"],
}
REFERRAL = {
    "recipient_service": "ss-cesano",
    "kind": "shelter",
    "urgency": "urgent",
    "reason": "Synthetic load benchmark: she needs a safe place.",
    "scope": ["identity"],
    "legal_basis": "consent",
}
# Who the clients are, by share of ``--clients``: (label, service, role, share).
TEAMS = (
    ("cav", "cav-scirocco", "caseworker", 0.5),
    ("social", "ss-cesano", "caseworker", 0.4),
    ("police", "pl-cesano", "caseworker", 0.05),
    ("health", "asst-rhodense", "caseworker", 0.05),
)
CASES_PER_CAV_CLIENT = 2
# Measured rounds per server, alternating between them.
ROUNDS = 6


# --------------------------------------------------------------------------
# The clients.


@dataclass
class Sample:
    kind: str
    status: int
    seconds: float
    size: int


@dataclass
class Run:
    """One measured run: every request's kind, status, latency and answer size."""

    samples: list[Sample] = field(default_factory=list)
    seconds: float = 0.0

    def add(self, sample: Sample) -> None:
        self.samples.append(sample)

    def merge(self, other: Run) -> None:
        self.samples.extend(other.samples)
        self.seconds += other.seconds

    @property
    def throughput(self) -> float:
        return len(self.samples) / self.seconds if self.seconds else 0.0

    def percentile_ms(self, q: int, kind: str | None = None) -> float:
        times = sorted(s.seconds for s in self.samples if kind is None or s.kind == kind)
        if not times:
            return float("nan")
        return times[min(len(times) - 1, round(q / 100 * (len(times) - 1)))] * 1000

    def mean_size(self) -> int:
        return round(statistics.fmean(s.size for s in self.samples)) if self.samples else 0

    def kinds(self) -> Counter[str]:
        return Counter(s.kind for s in self.samples)

    def not_ok(self) -> Counter[str]:
        return Counter(f"{s.kind} {s.status}" for s in self.samples if not 200 <= s.status < 300)


@dataclass
class Shared:
    """What the clients hand each other: referrals sent, waiting to be moved."""

    to_acknowledge: list[str] = field(default_factory=list)
    to_accept: list[str] = field(default_factory=list)
    seen: list[str] = field(default_factory=list)  # referrals social services may read


@dataclass
class Client:
    team: str
    headers: dict[str, str]
    cases: list[str] = field(default_factory=list)


Op = Callable[[httpx.AsyncClient, Client, Shared], Awaitable[httpx.Response]]


async def _case_page(http: httpx.AsyncClient, c: Client, s: Shared) -> httpx.Response:
    return await http.get(f"{CASES}/{random.choice(c.cases)}", headers=c.headers)


async def _note(http: httpx.AsyncClient, c: Client, s: Shared) -> httpx.Response:
    body = {"category": "violence", "text": f"Load benchmark note {uuid.uuid4().hex[:8]}."}
    return await http.post(f"{CASES}/{random.choice(c.cases)}/notes", json=body, headers=c.headers)


async def _cases(http: httpx.AsyncClient, c: Client, s: Shared) -> httpx.Response:
    return await http.get(f"{CASES}/", params={"limit": 20}, headers=c.headers)


async def _outbox(http: httpx.AsyncClient, c: Client, s: Shared) -> httpx.Response:
    return await http.get(f"{REFERRALS}/", params={"box": "outbox"}, headers=c.headers)


async def _refer(http: httpx.AsyncClient, c: Client, s: Shared) -> httpx.Response:
    case = random.choice(c.cases)
    answer = await http.post(f"{CASES}/{case}/referrals", json=REFERRAL, headers=c.headers)
    if answer.is_success:
        s.to_acknowledge.append(str(answer.json()["id"]))
    return answer


async def _inbox(http: httpx.AsyncClient, c: Client, s: Shared) -> httpx.Response:
    return await http.get(f"{REFERRALS}/", params={"box": "inbox"}, headers=c.headers)


async def _referral(http: httpx.AsyncClient, c: Client, s: Shared) -> httpx.Response:
    if not s.seen:
        return await _inbox(http, c, s)
    return await http.get(f"{REFERRALS}/{random.choice(s.seen[-200:])}", headers=c.headers)


async def _move(http: httpx.AsyncClient, c: Client, s: Shared) -> httpx.Response:
    """Accept one acknowledged referral, else acknowledge one sent, else read the inbox."""
    if s.to_accept:
        referral, move, then = s.to_accept.pop(0), "accept", None
    elif s.to_acknowledge:
        referral, move, then = s.to_acknowledge.pop(0), "acknowledge", s.to_accept
    else:
        return await _inbox(http, c, s)
    answer = await http.post(f"{REFERRALS}/{referral}/{move}", headers=c.headers)
    if answer.is_success:
        s.seen.append(referral)
        if then is not None:
            then.append(referral)
    return answer


# Each team's requests, with their weights.
MIXES: dict[str, list[tuple[str, Op, int]]] = {
    "cav": [
        ("case page", _case_page, 30),
        ("add note", _note, 25),
        ("list cases", _cases, 15),
        ("outbox", _outbox, 15),
        ("refer", _refer, 15),
    ],
    "social": [("inbox", _inbox, 40), ("referral", _referral, 25), ("move", _move, 35)],
    "police": [("inbox", _inbox, 1)],
    "health": [("inbox", _inbox, 1)],
}


async def _work(
    base: str, client: Client, shared: Shared, run: Run, start: float, until: float
) -> None:
    names, ops, weights = zip(*MIXES[client.team], strict=True)
    async with httpx.AsyncClient(base_url=base, timeout=30.0) as http:
        while (now := time.monotonic()) < until:
            i = random.choices(range(len(ops)), weights)[0]
            try:
                answer = await ops[i](http, client, shared)
                status, size = answer.status_code, len(answer.content)
            except httpx.HTTPError:
                status, size = 0, 0
            run.add(Sample(names[i], status, time.monotonic() - now, size))


def drive(base: str, clients: list[Client], seconds: float, shared: Shared) -> Run:
    """Every client working ``base`` at once for ``seconds``."""

    async def all_of_them() -> Run:
        run = Run()
        start = time.monotonic()
        until = start + seconds
        await asyncio.gather(*(_work(base, c, shared, run, start, until) for c in clients))
        run.seconds = seconds
        return run

    return asyncio.run(all_of_them())


# --------------------------------------------------------------------------
# The servers.


@contextmanager
def _process(args: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("ab") as out:
        process = subprocess.Popen(args, env=env, cwd=PROJECT, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield process
    finally:
        stop(process)


@contextmanager
def serving_rete(
    env: dict[str, str], workers: int, runner: bool, logs: Path
) -> Iterator[tuple[str, int]]:
    """``rete serve`` (and ``rete views run`` on PostgreSQL): its base URL and pid."""
    port = free_port()
    args = [_RETE, "serve", "--port", str(port), "--workers", str(workers)]
    with _process(args, env, logs / "serve.log") as server:
        base = f"http://127.0.0.1:{port}"
        wait_answering(base, server, 120, logs / "serve.log")
        if not runner:
            yield base, server.pid
            return
        with _process([_RETE, "views", "run"], env, logs / "views.log"):
            yield base, server.pid


@contextmanager
def serving_baseline(size: int, workers: int, logs: Path) -> Iterator[str]:
    """The fixed-JSON app (``--serve-baseline``) in uvicorn, as ``rete serve`` runs."""
    port = free_port()
    args = [sys.executable, "-m", "bench.load", "--serve-baseline", str(port)]
    args += ["--workers", str(workers)]
    env = {**os.environ, "BENCH_LOAD_BODY_SIZE": str(size)}
    with _process(args, env, logs / "baseline.log") as server:
        base = f"http://127.0.0.1:{port}"
        wait_answering(base, server, 120, logs / "baseline.log")
        yield base


def fixed_body(size: int) -> bytes:
    """JSON of exactly ``size`` bytes (at least its smallest form) carrying what the
    clients read from an answer (``id``, ``reference_code``)."""
    body = {"id": str(uuid.UUID(int=0)), "reference_code": "BENCH", "items": [], "pad": ""}
    empty = len(json.dumps(body, separators=(",", ":")).encode())
    body["pad"] = "x" * max(0, size - empty)
    return json.dumps(body, separators=(",", ":")).encode()


def baseline_app() -> Litestar:
    """The baseline: one handler, every method and path, one fixed JSON answer."""
    body = fixed_body(int(os.environ.get("BENCH_LOAD_BODY_SIZE", "1000")))

    @route("/{rest:path}", http_method=["GET", "POST"], sync_to_thread=False)
    def fixed(rest: str) -> Response[bytes]:
        return Response(body, status_code=200, media_type="application/json")

    return Litestar([fixed], openapi_config=None)


def serve_baseline(port: int, workers: int) -> None:
    """uvicorn as ``rete serve`` runs it."""
    from api.server import run_server

    run_server("bench.load:baseline_app", "127.0.0.1", port, workers)


# --------------------------------------------------------------------------
# One backend.


def _clients(env: dict[str, str], count: int) -> list[Client]:
    from api.auth import mint_token
    from infrastructure.dev_secret import load_or_create_dev_secret
    from infrastructure.settings import load_settings

    settings = load_settings(env)
    secret = load_or_create_dev_secret(settings.jwt_secret_file).key
    made: list[Client] = []
    for team, service, role, share in TEAMS:
        n = max(1, round(count * share)) if team != "cav" else 0
        if team == "cav":
            n = count - sum(max(1, round(count * t[3])) for t in TEAMS if t[0] != "cav")
        for i in range(n):
            token = mint_token(
                secret,
                settings.jwt_issuer,
                settings.jwt_audience,
                f"bench.{team}.{i}",
                service,
                [role],
                timedelta(hours=2),
            )
            made.append(Client(team, {"Authorization": f"Bearer {token}"}))
    return made


def _open_cases(base: str, clients: list[Client]) -> None:
    """Each centre caseworker opens her cases and records each woman's consent."""
    with httpx.Client(base_url=base, timeout=60.0) as http:
        for c in clients:
            if c.team != "cav":
                continue
            for _ in range(CASES_PER_CAV_CLIENT):
                case = http.post(f"{CASES}/", headers=c.headers)
                case.raise_for_status()
                ref = str(case.json()["reference_code"])
                http.post(
                    f"{CASES}/{ref}/consents", json=CONSENT, headers=c.headers
                ).raise_for_status()
                c.cases.append(ref)


@dataclass
class Result:
    backend: str
    clients: int
    workers: int
    rete: Run
    baseline: Run
    body_size: int

    @property
    def ratio(self) -> float:
        return self.rete.throughput / self.baseline.throughput


def measure(
    backend: Backend,
    clients: int,
    seconds: float,
    warmup: float,
    workers: int,
    logs: Path,
    rounds: int = ROUNDS,
) -> Result:
    """Both servers up at once, measured in alternating rounds (A B, B A, ...) so that
    whatever else the machine does falls on both alike."""
    with backend.fresh() as storage:
        env = _env(storage)
        demo = subprocess.run([_RETE, "demo"], env=env, capture_output=True, text=True)
        if demo.returncode != 0:
            raise RuntimeError(f"rete demo failed: {demo.stderr[-2000:]}")
        team = _clients(env, clients)
        with serving_rete(env, workers, backend.server_url is not None, logs) as (rete_url, _):
            _open_cases(rete_url, team)
            rete_shared = Shared()
            # The warm-up's answers set the size of the baseline's one answer.
            size = drive(rete_url, team, warmup, rete_shared).mean_size()
            with serving_baseline(size, workers, logs) as baseline_url:
                drive(baseline_url, team, warmup, Shared())
                rete, baseline = Run(), Run()
                runs = [(rete_url, rete, rete_shared), (baseline_url, baseline, Shared())]
                for n in range(rounds):
                    for url, total, shared in runs if n % 2 == 0 else runs[::-1]:
                        total.merge(drive(url, team, seconds / rounds, shared))
    return Result(backend.name, clients, workers, rete, baseline, size)


def _env(storage: Storage) -> dict[str, str]:
    """The server's environment: ``make run``'s settings on this storage."""
    return {
        **os.environ,
        "RETE_DATABASE_URL": storage.database_url,
        "RETE_VAR_DIR": str(storage.var_dir),
        "RETE_LOG_FORMAT": "json",
    }


# --------------------------------------------------------------------------
# Replay of a long case.


@dataclass(frozen=True)
class Replay:
    backend: str
    events: int
    no_snapshots_ms: float
    snapshots_ms: float


def _replay_ms(storage: Storage, events: int, snapshot_interval: int) -> tuple[int, float]:
    """A case of ``events`` events (opened, then notes), loaded 15 times: median ms."""
    from domain.case import Case
    from infrastructure.bootstrap import build_rete
    from infrastructure.settings import load_settings

    settings = load_settings(
        {
            "RETE_DATABASE_URL": storage.database_url,
            "RETE_VAR_DIR": str(storage.var_dir),
            "RETE_SNAPSHOT_INTERVAL": str(snapshot_interval),
            "RETE_CHECKPOINT_INTERVAL": "0",
        }
    )
    rete = build_rete(settings)
    try:
        anna = rete.ctx.identify("bench.replay", "cav-scirocco", ["caseworker"])
        ref = rete.cases.open(anna).reference_code
        (case_id,) = rete.ctx.store.ids_of(Case)
        stored = len(rete.ctx.store.history_of(case_id))
        while stored < events:
            for _ in range(events - stored):
                rete.cases.add_note(anna, ref, "violence", "Synthetic replay benchmark note.")
            stored = len(rete.ctx.store.history_of(case_id))
        times = []
        for _ in range(15):
            start = time.perf_counter()
            rete.ctx.store.get(Case, case_id)
            times.append(time.perf_counter() - start)
        return stored, statistics.median(times) * 1000
    finally:
        rete.close()


def measure_replay(backend: Backend, events: int) -> Replay:
    with backend.fresh() as storage:
        stored, full = _replay_ms(storage, events, snapshot_interval=10**9)
    with backend.fresh() as storage:
        _, snapshotted = _replay_ms(storage, events, snapshot_interval=50)
    return Replay(backend.name, stored, full, snapshotted)


# --------------------------------------------------------------------------
# The same requests through the application, without HTTP (``--in-process``).


def in_process(storage: Storage, rounds: int, warmup: int = 10) -> dict[str, list[float]]:
    """The application's own work per request: the clients' kinds of request made on
    the application in one thread, a round of each in turn, ``warmup`` rounds first
    (not timed); the seconds each took, by kind. The cases gather notes and
    referrals round after round, as the benchmark's do."""
    from domain.referral import Move
    from infrastructure.bootstrap import build_rete
    from infrastructure.settings import load_settings

    settings = load_settings(
        {
            "RETE_DATABASE_URL": storage.database_url,
            "RETE_VAR_DIR": str(storage.var_dir),
            "RETE_CHECKPOINT_INTERVAL": "0",
        }
    )
    rete = build_rete(settings)
    times: dict[str, list[float]] = {}

    def timed(label: str, request: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        answer = request(*args, **kwargs)
        times.setdefault(label, []).append(time.perf_counter() - start)
        return answer

    try:
        cav = rete.ctx.identify("bench.cav", "cav-scirocco", ["caseworker"])
        social = rete.ctx.identify("bench.social", "ss-cesano", ["caseworker"])
        police = rete.ctx.identify("bench.police", "pl-cesano", ["caseworker"])
        cases = []
        for _ in range(CASES_PER_CAV_CLIENT):
            ref = rete.cases.open(cav).reference_code
            rete.cases.record_consent(
                cav,
                ref,
                recipient_kinds=CONSENT["recipient_kinds"],
                recipient_services=[],
                purposes=CONSENT["purposes"],
                categories_=CONSENT["categories"],
                expires_at=None,
            )
            cases.append(ref)
        referral = {k: v for k, v in REFERRAL.items() if k != "scope"}
        cases_, referrals = rete.cases, rete.referrals
        for n in range(warmup + rounds):
            if n == warmup:
                times.clear()
            ref = cases[n % len(cases)]
            timed("case page", cases_.get, cav, ref)
            timed("add note", cases_.add_note, cav, ref, "violence", f"Note {n}.")
            timed("list cases", cases_.list, cav, limit=20)
            timed("outbox", referrals.list, cav, "outbox")
            sent = timed("refer", referrals.refer, cav, ref, scope=["identity"], **referral)
            rid = str(sent.id)
            timed("inbox", referrals.list, social, "inbox")
            timed("move", referrals.move, social, rid, Move.ACKNOWLEDGE)
            timed("referral", referrals.get, social, rid)
            timed("move", referrals.move, social, rid, Move.ACCEPT)
            timed("inbox", referrals.list, police, "inbox")
    finally:
        rete.close()
    return times


def in_process_table(by_backend_: dict[str, dict[str, list[float]]], rounds: int) -> Table:
    table = Table(
        title="The same requests through the application, without HTTP",
        caption=f"median ms of {rounds} rounds (after 10 untimed), one thread",
    )
    for column in ("backend", "request", "count", "p50", "p90"):
        table.add_column(column, justify="left" if column in ("backend", "request") else "right")
    for backend, times in by_backend_.items():
        for kind, seconds in sorted(times.items()):
            ordered = sorted(seconds)
            p90 = ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]
            table.add_row(
                backend,
                kind,
                f"{len(ordered):,}",
                _ms(statistics.median(ordered) * 1000),
                _ms(p90 * 1000),
            )
    return table


# --------------------------------------------------------------------------
# Report.


def _ms(x: float) -> str:
    return f"{x:,.1f}"


def load_table(results: list[Result]) -> Table:
    rows = []
    for r in results:
        for name, run in (("rete", r.rete), ("baseline", r.baseline)):
            rows.append(
                (
                    r.backend,
                    name,
                    f"{len(run.samples):,}",
                    f"{run.throughput:,.0f}",
                    _ms(run.percentile_ms(50)),
                    _ms(run.percentile_ms(99)),
                    f"{sum(run.not_ok().values())}",
                    f"{r.ratio:.2f}x" if name == "rete" else "",
                )
            )
    first = results[0] if results else None
    caption = (
        f"{first.clients} clients, {first.workers} worker(s); baseline body "
        + ", ".join(f"{r.backend} {r.body_size} B" for r in results)
        if first
        else ""
    )
    return by_backend(
        "HTTP under concurrent clients: rete serve vs a fixed-JSON Litestar handler",
        caption,
        ("server", "requests", "req/s", "p50 ms", "p99 ms", "non-2xx", "ratio"),
        rows,
    )


def kinds_table(results: list[Result]) -> Table:
    table = Table(title="rete serve, by kind of request", caption="ms")
    for column in ("backend", "request", "count", "p50", "p99"):
        table.add_column(column, justify="left" if column in ("backend", "request") else "right")
    for r in results:
        for kind, n in sorted(r.rete.kinds().items()):
            p50, p99 = r.rete.percentile_ms(50, kind), r.rete.percentile_ms(99, kind)
            table.add_row(r.backend, kind, f"{n:,}", _ms(p50), _ms(p99))
    return table


def replay_table(replays: list[Replay]) -> Table:
    return by_backend(
        "Replay of one case from the event store (target <= 50 ms)",
        "median of 15 loads; snapshots every 50 events is the default",
        ("events", "no snapshots ms", "snapshots ms"),
        [
            (r.backend, f"{r.events:,}", _ms(r.no_snapshots_ms), _ms(r.snapshots_ms))
            for r in replays
        ],
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__)
    add_backend_options(parser)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30.0, help="measured seconds per run")
    parser.add_argument("--warmup", type=float, default=3.0, help="unmeasured seconds first")
    parser.add_argument("--rounds", type=int, default=ROUNDS, help="alternating rounds")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers of both servers")
    parser.add_argument("--replay-events", type=int, default=1000)
    parser.add_argument(
        "--in-process",
        type=int,
        metavar="ROUNDS",
        help="instead: the same requests through the application, ROUNDS rounds, no HTTP",
    )
    parser.add_argument("--serve-baseline", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_baseline:
        serve_baseline(args.serve_baseline, args.workers)
        return 0
    console = Console() if sys.stdout.isatty() else Console(width=140)
    if args.in_process:
        measured = {}
        for backend in chosen_backends(args, console):
            with backend.fresh() as storage:
                measured[backend.name] = in_process(storage, args.in_process)
        console.print(in_process_table(measured, args.in_process))
        return 0 if measured else 1
    results, replays = [], []
    logs = Path(tempfile.mkdtemp(prefix="rete-load-"))
    for backend in chosen_backends(args, console):
        with console.status(f"{backend.name}: {args.clients} clients"):
            results.append(
                measure(
                    backend,
                    args.clients,
                    args.seconds,
                    args.warmup,
                    args.workers,
                    logs,
                    args.rounds,
                )
            )
        with console.status(f"{backend.name}: replay of {args.replay_events} events"):
            replays.append(measure_replay(backend, args.replay_events))
    if not results:
        return 1
    console.print(load_table(results))
    console.print(kinds_table(results))
    for r in results:
        for what, n in sorted(r.rete.not_ok().items()):
            console.print(f"  {r.backend} rete non-2xx: {what} x {n}", highlight=False)
        for what, n in sorted(r.baseline.not_ok().items()):
            console.print(f"  {r.backend} baseline non-2xx: {what} x {n}", highlight=False)
    console.print(replay_table(replays))
    console.print(f"servers' logs: {logs}", highlight=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
