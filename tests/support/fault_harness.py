"""The fault harness: the real server under concurrent writes, killed without warning
(SIGKILL) at random moments and restarted, then every write accounted for.

``run_faults(env, kills=..., ...)`` starts ``rete serve`` (one worker) on a free port
with ``env`` (``RETE_DATABASE_URL``, ``RETE_VAR_DIR``); on PostgreSQL also
``rete views run``, and the kills alternate between the server and the runner.
Client threads work cases over HTTP as caseworkers do: Anna opens a case, adds a
note, records consent and refers it to social services; Bea acknowledges the
referral. Every write carries a new ``Idempotency-Key`` and, where the body takes
text, a marker of its own, so that it can be found afterwards.

A write is *acknowledged* on a 2xx answer, *applied* on 409 ``already-applied``
(the server says it is in the log and its answer was lost). No answer, a 5xx,
or 409 ``idempotency-in-progress`` (a request killed mid-flight holds its key for
the reservation's lease): the client retries with the same key and body until
it gets an answer or the run ends (then the write is *unacknowledged*). Any other
answer is *refused*, and is a problem of the run.

After the run, with the server up again, the harness reads everything back
through the API and checks:

* every acknowledged (or applied) write is there exactly once, and each
  unacknowledged one at most once;
* no write is half-done: every case listed opens, holds only what was written to
  it, a referral the case records is the referral the recipient sees, in the
  same state, and the recipient's inbox holds no referral its case does not record;
* ``rete ledger verify`` and ``rete views check`` exit 0.

The problems found are in ``Report.problems`` (empty when all holds). Used by
``tests/api/test_fault_harness.py`` (a few kills) and ``python -m bench.faults``
(issue 11: 20 per backend). Imports only the project's own packages, so that the
benchmark can use it too.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

from api.auth import mint_token
from infrastructure.dev_secret import load_or_create_dev_secret
from infrastructure.settings import load_settings

# Relative: this module is imported as ``support.fault_harness`` by the tests and as
# ``tests.support.fault_harness`` by the benchmarks.
from .processes import free_port, stop, wait_answering

_RETE = str(Path(sys.executable).with_name("rete"))
CASES = "/api/v1/cases"
REFERRALS = "/api/v1/referrals"
# Who writes: Anna at the anti-violence centre, Bea at social services.
PEOPLE = {
    "anna": ("cav-scirocco", "caseworker"),
    "bea": ("ss-cesano", "caseworker"),
}
CONSENT = {
    "recipient_kinds": ["social_services"],
    "purposes": ["shelter"],
    "categories": ["identity"],
}
# An answer that says nothing about the write: retried with the same key.
RETRIED_CODES = {"idempotency-in-progress", "outcome-unknown"}
# Seconds a client retries a write whose key is in progress before it parks it and
# goes on with new work (it is retried at the end of the run).
PATIENCE = 2.0

ACKNOWLEDGED, APPLIED, UNACKNOWLEDGED, REFUSED = (
    "acknowledged",
    "applied",
    "unacknowledged",
    "refused",
)


@dataclass
class Write:
    kind: str  # case, note, consent, referral, acknowledge
    who: str
    path: str
    body: dict[str, Any] | None
    case: str | None = None  # the case's reference code (every kind but ``case``)
    marker: str | None = None
    key: str = field(default_factory=lambda: uuid.uuid4().hex)
    outcome: str = UNACKNOWLEDGED
    answer: Any = None
    status: int | None = None
    attempts: int = 0

    @property
    def landed(self) -> bool:
        """The server said it is written (2xx, or 409 already-applied)."""
        return self.outcome in (ACKNOWLEDGED, APPLIED)


@dataclass
class Report:
    backend: str
    kills: Counter[str] = field(default_factory=Counter)
    writes: list[Write] = field(default_factory=list)
    client_saw: Counter[str] = field(default_factory=Counter)  # every answer, by status/code
    problems: list[str] = field(default_factory=list)
    server_errors: list[str] = field(default_factory=list)  # each 5xx answer, what it said
    cases_listed: int = 0
    seconds: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)  # seconds each part took

    def timed(self, phase: str, since: float) -> float:
        now = time.monotonic()
        self.phases[phase] = round(now - since, 1)
        return now

    def outcomes(self) -> Counter[str]:
        return Counter(w.outcome for w in self.writes)

    def by_kind(self) -> dict[str, dict[str, int]]:
        """For each kind of write, how many ended in each outcome."""
        kinds: dict[str, Counter[str]] = {}
        for w in self.writes:
            kinds.setdefault(w.kind, Counter())[w.outcome] += 1
        return {kind: dict(counts) for kind, counts in kinds.items()}

    def summary(self) -> str:
        out = self.outcomes()
        kills = ", ".join(f"{n} x {t}" for t, n in sorted(self.kills.items()))
        saw = ", ".join(f"{k}: {n}" for k, n in sorted(self.client_saw.items()))
        return (
            f"{self.backend}: {sum(self.kills.values())} SIGKILLs ({kills}) in {self.seconds:.0f} s; "
            f"{len(self.writes)} writes: {out[ACKNOWLEDGED]} acknowledged, {out[APPLIED]} applied "
            f"(answer lost), {out[UNACKNOWLEDGED]} unacknowledged, {out[REFUSED]} refused; "
            f"by kind {self.by_kind()}; "
            f"{self.cases_listed} cases listed; client saw {saw}; "
            f"{len(self.problems)} problems; seconds: {self.phases}"
        )


# --------------------------------------------------------------------------
# Processes.


def _start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen([_RETE, *args], env=env, stdout=out, stderr=subprocess.STDOUT)


def _kill(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGKILL)
    process.wait(30)


@dataclass
class _Server:
    env: dict[str, str]
    port: int
    log: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        args = ["serve", "--host", "127.0.0.1", "--port", str(self.port), "--workers", "1"]
        self.process = _start(args, self.env, self.log)
        wait_answering(self.base, self.process, 90, self.log)


@contextmanager
def _running(env: dict[str, str], runner: bool, log_dir: Path) -> Iterator[dict[str, Any]]:
    """The server, and on PostgreSQL the views' runner; stopped at the end."""
    server = _Server(env, free_port(), log_dir / "server.log")
    procs: dict[str, Any] = {"server": server, "runner": None}
    try:
        server.start()
        if runner:
            procs["runner"] = _start(["views", "run", "--poll", "0.2"], env, log_dir / "runner.log")
        yield procs
    finally:
        if server.process is not None:
            stop(server.process)
        if procs["runner"] is not None:
            stop(procs["runner"])


# --------------------------------------------------------------------------
# Clients.


def _tokens(env: dict[str, str]) -> dict[str, dict[str, str]]:
    settings = load_settings(env)
    secret = load_or_create_dev_secret(settings.jwt_secret_file).key
    return {
        who: {
            "Authorization": "Bearer "
            + mint_token(
                secret,
                settings.jwt_issuer,
                settings.jwt_audience,
                who,
                service,
                [role],
                timedelta(hours=2),
            )
        }
        for who, (service, role) in PEOPLE.items()
    }


class _Client:
    """One caseworker's thread: writes one after another, each until answered."""

    def __init__(self, base: str, headers: dict[str, dict[str, str]], report: Report) -> None:
        self.base, self.headers, self.report = base, headers, report
        self.finishing = threading.Event()  # no new write from now on
        self.stop = threading.Event()  # no more retries either
        self.lock = threading.Lock()
        self.parked: list[Write] = []  # writes whose key was held (shared by the threads)

    def send(self, write: Write, http: httpx.Client) -> bool:
        """Send ``write`` until it is answered; True when acknowledged. A write whose
        key stays in progress (its first request was killed: the key is held for the
        reservation's lease) is parked, to be retried at the end, and False returned."""
        if self.finishing.is_set():
            return False
        with self.lock:
            self.report.writes.append(write)
        return self._until_answered(write, http, park=True)

    def _until_answered(self, write: Write, http: httpx.Client, park: bool) -> bool:
        headers = {**self.headers[write.who], "Idempotency-Key": write.key}
        in_progress_since: float | None = None
        while not self.stop.is_set():
            write.attempts += 1
            try:
                response = http.post(write.path, json=write.body, headers=headers)
            except httpx.HTTPError as e:
                self._saw(type(e).__name__)
                time.sleep(0.1)
                continue
            code = _code(response)
            self._saw(f"{response.status_code}" + (f" {code}" if code else ""))
            if response.is_success:
                write.outcome, write.status = ACKNOWLEDGED, response.status_code
                write.answer = response.json()
                return True
            if response.status_code == 409 and code == "already-applied":
                write.outcome, write.status = APPLIED, 409
                return False  # written, but its answer (the new id) is lost
            if code == "idempotency-in-progress":
                in_progress_since = in_progress_since or time.monotonic()
                if park and time.monotonic() - in_progress_since > PATIENCE:
                    self.parked.append(write)
                    return False
            if response.status_code >= 500:
                with self.lock:
                    self.report.server_errors.append(
                        f"{time.strftime('%H:%M:%S')} {write.kind} {write.path}: "
                        f"{response.status_code} {response.text[:300]}"
                    )
            if response.status_code >= 500 or code in RETRIED_CODES:
                time.sleep(min(float(response.headers.get("Retry-After", "0.2")), 1.0))
                continue
            write.outcome, write.status, write.answer = REFUSED, response.status_code, response.text
            return False
        return False

    def retry_parked(self, http: httpx.Client) -> None:
        """The parked writes, sent again with their keys until answered or stopped."""
        while not self.stop.is_set():
            try:
                write = self.parked.pop()
            except IndexError:
                return
            self._until_answered(write, http, park=False)

    def _saw(self, what: str) -> None:
        with self.lock:
            self.report.client_saw[what] += 1

    def work(self, name: str) -> None:
        with httpx.Client(base_url=self.base, timeout=10.0) as http:
            n = 0
            while not self.finishing.is_set():
                n += 1
                marker = f"fault {name}-{n} {uuid.uuid4().hex[:8]}"
                case = Write("case", "anna", f"{CASES}/", None)
                if not self.send(case, http):
                    continue
                ref = case.answer["reference_code"]
                note = Write(
                    "note", "anna", f"{CASES}/{ref}/notes",
                    {"category": "violence", "text": f"note {marker}"}, ref, f"note {marker}",
                )  # fmt: skip
                consent = Write("consent", "anna", f"{CASES}/{ref}/consents", CONSENT, ref)
                if not (self.send(note, http) and self.send(consent, http)):
                    continue
                referral = Write(
                    "referral", "anna", f"{CASES}/{ref}/referrals",
                    {
                        "recipient_service": "ss-cesano", "kind": "shelter", "urgency": "urgent",
                        "reason": f"referral {marker}", "scope": ["identity"],
                        "legal_basis": "consent", "consent_id": consent.answer["id"],
                    },
                    ref, f"referral {marker}",
                )  # fmt: skip
                if not self.send(referral, http):
                    continue
                rid = referral.answer["id"]
                self.send(
                    Write("acknowledge", "bea", f"{REFERRALS}/{rid}/acknowledge", None, ref), http
                )
            self.retry_parked(http)


def _code(response: httpx.Response) -> str | None:
    if response.headers.get("content-type", "").startswith("application/problem+json"):
        code = response.json().get("code")
        return str(code) if code is not None else None
    return None


# --------------------------------------------------------------------------
# The run.


def run_faults(
    env: dict[str, str],
    *,
    backend: str,
    kills: int,
    clients: int = 4,
    gap: tuple[float, float] = (0.5, 1.5),
    tail: float = 1.0,
    settle: float = 0.0,
    log_dir: Path,
    seed: int | None = None,
    before_check: Callable[[httpx.Client, dict[str, dict[str, str]], Report], None] | None = None,
    verify: bool = True,
) -> Report:
    """Write with ``clients`` threads while killing ``kills`` times, ``gap`` seconds
    apart (uniformly drawn); run ``tail`` seconds more, then let unanswered writes be
    retried for up to ``settle`` seconds with no more faults; then check everything.
    ``env`` holds RETE_DATABASE_URL and RETE_VAR_DIR (and anything else for the server).
    ``before_check(http, headers, report)`` runs just before the checks, the server up
    (a test of the harness itself does there what a defect would); ``verify=False``
    leaves out ``rete ledger verify`` and ``rete views check``.
    """
    rng = random.Random(seed)
    env = {**os.environ, "RETE_CHECKPOINT_INTERVAL": "1", **env}
    runner = backend == "postgres"
    report = Report(backend)
    log_dir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    headers = _tokens(env)
    with _running(env, runner, log_dir) as procs:
        server: _Server = procs["server"]
        client = _Client(server.base, headers, report)
        threads = [threading.Thread(target=client.work, args=(f"c{i}",)) for i in range(clients)]
        for thread in threads:
            thread.start()
        mark = report.timed("start", started)
        try:
            for k in range(kills):
                time.sleep(rng.uniform(*gap))
                target = "runner" if runner and k % 2 == 1 else "server"
                report.kills[target] += 1
                if target == "server":
                    assert server.process is not None
                    _kill(server.process)
                    server.start()
                else:
                    _kill(procs["runner"])
                    procs["runner"] = _start(
                        ["views", "run", "--poll", "0.2"], env, log_dir / "runner.log"
                    )
            time.sleep(tail)
        finally:
            mark = report.timed("faults", mark)
            # The writes in flight may go on for ``settle`` seconds, with no fault.
            client.finishing.set()
            deadline = time.monotonic() + settle
            for thread in threads:
                thread.join(max(0.0, deadline - time.monotonic()))
            client.stop.set()
            for thread in threads:
                thread.join(60)
            mark = report.timed("finish", mark)
        if before_check is not None:
            with httpx.Client(base_url=server.base, timeout=30.0) as http:
                before_check(http, headers, report)
        _check_through_api(server.base, headers, report)
        mark = report.timed("read back", mark)
    # Both at once: each only reads.
    if verify:
        _check_commands([["ledger", "verify"], ["views", "check"]], env, report)
        report.timed("verify and check", mark)
    report.seconds = time.monotonic() - started
    return report


def _check_commands(commands: list[list[str]], env: dict[str, str], report: Report) -> None:
    """Each command must exit 0."""
    running = [
        (args, subprocess.Popen([_RETE, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
        for args in commands
    ]  # fmt: skip
    for args, process in running:
        out, _ = process.communicate(timeout=600)
        if process.returncode != 0:
            tail = out.strip()[-600:]
            report.problems.append(f"`rete {' '.join(args)}` exited {process.returncode}: {tail}")


def _pages(http: httpx.Client, path: str, headers: dict[str, str], **params: str) -> list[Any]:
    items: list[Any] = []
    cursor: str | None = None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        page = http.get(path, headers=headers, params=query)
        page.raise_for_status()
        body = page.json()
        items.extend(body["items"])
        cursor = body["next_cursor"]
        if not cursor:
            return items


def _check_through_api(base: str, headers: dict[str, dict[str, str]], report: Report) -> None:
    problems = report.problems
    writes = report.writes
    for w in writes:
        if w.outcome == REFUSED:
            problems.append(f"{w.kind} {w.path} refused: {w.status} {w.answer}")
    by_kind: dict[str, list[Write]] = {}
    for w in writes:
        by_kind.setdefault(w.kind, []).append(w)
    opened = by_kind.get("case", [])
    acked_refs = [w.answer["reference_code"] for w in opened if w.outcome == ACKNOWLEDGED]
    if len(set(acked_refs)) != len(acked_refs):
        problems.append("two acknowledged case openings answered with the same case")
    landed = sum(1 for w in opened if w.landed)
    unanswered = sum(1 for w in opened if not w.landed)
    with httpx.Client(base_url=base, timeout=30.0) as http:
        listed = _pages(http, f"{CASES}/", headers["anna"])
        report.cases_listed = len(listed)
        refs = [c["reference_code"] for c in listed]
        if len(set(refs)) != len(refs):
            problems.append("a case is listed twice")
        for ref in set(acked_refs) - set(refs):
            problems.append(f"acknowledged case {ref} is not listed")
        if not landed <= len(set(refs)) <= landed + unanswered:
            problems.append(
                f"{len(set(refs))} cases listed, but {landed} openings landed "
                f"and {unanswered} were unanswered"
            )
        inbox = {r["id"]: r for r in _pages(http, f"{REFERRALS}/", headers["bea"], box="inbox")}
        recorded: set[str] = set()
        for ref in refs:
            page = http.get(f"{CASES}/{ref}", headers=headers["anna"])
            if page.status_code != 200:
                problems.append(f"listed case {ref} answers {page.status_code}")
                continue
            case = page.json()
            written = [w for w in writes if w.case == ref]
            problems.extend(_check_case(ref, case, written))
            for referral in case["referrals"]:
                recorded.add(referral["id"])
                problems.extend(_check_referral(http, headers["bea"], referral, inbox, written))
        for rid in set(inbox) - recorded:
            problems.append(f"referral {rid} is in the recipient's inbox but no case records it")


def _exactly(what: str, found: int, writes: list[Write]) -> list[str]:
    """``found`` copies of the write(s) ``writes``: one if one landed, else at most one."""
    if not writes:
        return [f"{what}: {found} found, none written"] if found else []
    must = any(w.landed for w in writes)
    if (must and found != 1) or found > 1:
        outcome = ", ".join(w.outcome for w in writes)
        return [f"{what} ({outcome}): found {found} times"]
    return []


def _check_case(ref: str, case: dict[str, Any], written: list[Write]) -> list[str]:
    problems: list[str] = []
    notes = [w for w in written if w.kind == "note"]
    for w in notes:
        found = sum(1 for e in case["entries"] if e["text"] == w.marker)
        problems += _exactly(f"note on {ref}", found, [w])
    if len(case["entries"]) > len(notes):
        problems.append(f"case {ref}: {len(case['entries'])} entries, {len(notes)} notes written")
    problems += _exactly(
        f"consent on {ref}", len(case["consents"]), [w for w in written if w.kind == "consent"]
    )
    referrals = [w for w in written if w.kind == "referral"]
    problems += _exactly(f"referral from {ref}", len(case["referrals"]), referrals)
    for referral in case["referrals"]:
        if referral["reason"] != (referrals[0].marker if referrals else None):
            problems.append(f"case {ref} records a referral with another reason")
    return problems


def _check_referral(
    http: httpx.Client,
    bea: dict[str, str],
    referral: dict[str, Any],
    inbox: dict[str, Any],
    written: list[Write],
) -> list[str]:
    rid = referral["id"]
    problems: list[str] = []
    seen = http.get(f"{REFERRALS}/{rid}", headers=bea)
    if seen.status_code != 200:
        return [f"referral {rid} recorded by its case answers {seen.status_code} to its recipient"]
    status = seen.json()["status"]
    if status != referral["status"]:
        problems.append(
            f"referral {rid}: the case says {referral['status']}, the recipient {status}"
        )
    if rid not in inbox or inbox[rid]["status"] != status:
        problems.append(f"referral {rid} ({status}) is not in the recipient's inbox as such")
    acks = [w for w in written if w.kind == "acknowledge"]
    if any(w.landed for w in acks) and status != "acknowledged":
        problems.append(f"referral {rid}: acknowledgement acknowledged, status {status}")
    if not acks and status != "sent":
        problems.append(f"referral {rid}: nobody acknowledged it, status {status}")
    return problems
