"""Requests/s and latency of OFREP evaluations over HTTP, against a bare route of the same app.

    .venv/bin/python bench/service_load.py [--seconds 10] [--connections 32] [--rounds 5]
    .venv/bin/python bench/service_load.py --quick          # 2 s phases, 1 round: for tests
    .venv/bin/python bench/service_load.py --profile        # then cProfile both routes

One uvicorn worker (bench/service_server.py) serves `service.app:create_app(...)` on
127.0.0.1 from a flag file, plus `POST /bench/bare`, a route added only there that
answers a constant OFREP-shaped body through the same middleware and server. This
process opens N keep-alive HTTP/1.1 connections and, on each, sends the next
pre-built request as soon as the last answer is in: `POST
/ofrep/v1/evaluate/flags/flag25` (a 25 % rollout of the 50-flag document
bench/hot_path.py builds) with `{"context": {"targetingKey": ..., "tier": ...}}` over
10,000 tenants, or the same bytes to the bare route. The client is a raw asyncio
Protocol that parses only the status line and Content-Length, so it takes little
CPU from the server; with two or more CPUs the server and this process are pinned
to different ones.

During flagkit phases the flag file is rewritten (atomically) every second with a
new rollout percentage, and the distinct `metadata.version` values in the answers
show the swaps were served. Phases alternate flagkit / bare over the rounds, so the
machine's noise hits both; medians are quoted, and the ratio is what to read. The
server's CPU time per answered request (from /proc) is quoted too: it moves less
with the machine's load than requests/s do. Non-200 answers, lost connections and
timeouts are errors: any error, or swaps not seen, exits 1.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import platform
import pstats
import re
import shlex
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from types import FrameType

import httpx
import uvicorn

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from hot_path import FLAG_COUNT, TARGET, TENANT_COUNT, build_document  # noqa: E402

ROOT = BENCH.parent
LAUNCHER = BENCH / "service_server.py"
OFREP_PATH = f"/ofrep/v1/evaluate/flags/{TARGET}"
BARE_PATH = "/bench/bare"
TARGETS = {"flagkit": OFREP_PATH, "bare": BARE_PATH}
API_KEY = "bench-key-0123456789"
RATIO_TARGET = 0.8
DRAIN_TIMEOUT = 5.0
"""Seconds a connection may take to answer its last request once a phase stops."""


# -- the flag document, rewritten every second -----------------------------------------------


def document(swap: int) -> dict[str, object]:
    """bench/hot_path.py's 50 flags; swap `n` gives the target flag a new rollout percentage."""
    doc = build_document()
    target = dict(doc[TARGET])  # type: ignore[call-overload]
    target["percentage"] = 20 + swap % 11
    target["description"] = f"benchmark flag, swap {swap}"  # Every swap a new content hash.
    doc[TARGET] = target
    return doc


def write_atomically(path: Path, doc: dict[str, object]) -> None:
    scratch = path.with_suffix(".tmp")
    scratch.write_text(json.dumps(doc))
    os.replace(scratch, path)


class Swapper:
    """Rewrites the flag file every `every` seconds while `run()` is awaited."""

    def __init__(self, path: Path, every: float) -> None:
        self.path = path
        self.every = every
        self.swaps = 0

    async def run(self) -> None:
        start = time.perf_counter()
        ticks = 0
        while True:
            ticks += 1
            await asyncio.sleep(start + ticks * self.every - time.perf_counter())
            self.swaps += 1
            write_atomically(self.path, document(self.swaps))


# -- the load generator ------------------------------------------------------------------------


def build_requests(path: str, port: int, api_key: str | None) -> list[bytes]:
    """One ready-to-send HTTP/1.1 request per tenant; one in ten is an enterprise tenant."""
    auth = b"" if api_key is None else f"Authorization: Bearer {api_key}\r\n".encode()
    requests = []
    for i in range(TENANT_COUNT):
        tier = "enterprise" if i % 10 == 9 else "free"
        body = json.dumps({"context": {"targetingKey": f"tenant-{i}", "tier": tier}}).encode()
        head = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Content-Type: application/json\r\nAccept: application/json\r\n"
        ).encode()
        requests.append(head + auth + b"Content-Length: %d\r\n\r\n" % len(body) + body)
    return requests


VERSION = re.compile(rb'"version":\s*"([^"]*)"')
"""The served document's version in an OFREP answer's metadata."""


class Phase:
    """What the connections of one phase share: the requests, and what has been measured."""

    def __init__(self, requests: list[bytes]) -> None:
        self.requests = requests
        self.recording = False
        self.stopping = False
        self.latencies: list[float] = []
        self.errors: Counter[str] = Counter()
        self.versions: set[bytes] = set()

    def answered(self, head: bytes, body: bytes, latency: float) -> None:
        if not head.startswith(b"HTTP/1.1 200 "):
            self.errors[head.split(b"\r\n", 1)[0].decode("latin-1")] += 1
            return
        if self.recording:
            self.latencies.append(latency)
            version = VERSION.search(body)
            if version is not None:
                self.versions.add(version[1])


class Connection(asyncio.Protocol):
    """One keep-alive connection: a request, its answer, the next request, until stopped."""

    def __init__(self, phase: Phase, first: int) -> None:
        self.phase = phase
        self.next = first
        self.buffer = b""
        self.sent_at = 0.0
        self.in_flight = False
        self.transport: asyncio.Transport | None = None
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.send()

    def send(self) -> None:
        assert self.transport is not None
        if self.phase.stopping:
            self.finish()
            return
        requests = self.phase.requests
        request = requests[self.next]
        self.next = (self.next + 1) % len(requests)
        self.in_flight = True
        self.sent_at = time.perf_counter()
        self.transport.write(request)

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer + data if self.buffer else data
        end = buffer.find(b"\r\n\r\n")
        if end < 0:
            self.buffer = buffer
            return
        head = buffer[:end].lower()
        at = head.find(b"\r\ncontent-length:")
        if at < 0:
            self.fail("answer without Content-Length")
            return
        stop = head.find(b"\r\n", at + 2)
        length = int(head[at + 17 : stop if stop >= 0 else len(head)])
        total = end + 4 + length
        if len(buffer) < total:
            self.buffer = buffer
            return
        latency = time.perf_counter() - self.sent_at
        self.in_flight = False
        self.buffer = buffer[total:]
        if self.buffer:
            self.fail("bytes after the answer")
            return
        self.phase.answered(buffer[:end], buffer[end + 4 : total], latency)
        self.send()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.in_flight or not self.phase.stopping:
            self.phase.errors[f"connection lost: {exc or 'closed by the server'}"] += 1
        self.finish()

    def fail(self, why: str) -> None:
        self.phase.errors[why] += 1
        self.in_flight = False
        self.finish()

    def finish(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()
        if not self.done.done():
            self.done.set_result(None)


@dataclass(frozen=True)
class LoadSettings:
    seconds: float
    warmup: float
    connections: int
    rounds: int
    poll_interval: float
    swap_every: float
    api_key: str | None
    pin: bool


@dataclass
class Result:
    target: str
    seconds: float
    latencies: list[float]
    errors: Counter[str]
    server_cpu: float
    client_cpu: float
    versions: int = 0
    swaps: int = 0

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds

    def percentile(self, p: int) -> float:
        if len(self.latencies) < 2:
            return float("nan")
        return statistics.quantiles(self.latencies, n=100)[p - 1] * 1000

    @property
    def server_us(self) -> float:
        """Server CPU per answered request, µs: the cost the route adds, noise mostly aside."""
        return self.server_cpu / max(len(self.latencies), 1) * 1e6


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process `pid`, all threads (Linux /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def run_phase(
    target: str,
    requests: list[bytes],
    port: int,
    server_pid: int,
    settings: LoadSettings,
    swapper: Swapper | None,
    profile: Path | None = None,
) -> Result:
    phase = Phase(requests)
    loop = asyncio.get_running_loop()
    swapping = None if swapper is None else asyncio.create_task(swapper.run())
    stride = len(requests) // settings.connections
    connections: list[Connection] = []
    try:
        for i in range(settings.connections):
            try:
                _, protocol = await loop.create_connection(
                    partial(Connection, phase, i * stride), "127.0.0.1", port
                )
            except OSError as exc:
                phase.errors[f"cannot connect: {exc}"] += 1
                continue
            connections.append(protocol)
        await asyncio.sleep(settings.warmup)
        if profile is not None:
            os.kill(server_pid, signal.SIGUSR1)
        swaps_before = 0 if swapper is None else swapper.swaps
        cpu_before, client_before = cpu_seconds(server_pid), time.process_time()
        start = time.perf_counter()
        phase.recording = True
        await asyncio.sleep(settings.seconds)
        phase.recording = False
        elapsed = time.perf_counter() - start
        cpu_after, client_after = cpu_seconds(server_pid), time.process_time()
        swaps = 0 if swapper is None else swapper.swaps - swaps_before
        if profile is not None:
            os.kill(server_pid, signal.SIGUSR2)
        phase.stopping = True
        pending = [c.done for c in connections]
        if pending:
            _, late = await asyncio.wait(pending, timeout=DRAIN_TIMEOUT)
            if late:
                phase.errors[f"no answer within {DRAIN_TIMEOUT:.0f} s"] += len(late)
    finally:
        if swapping is not None:
            swapping.cancel()
            with suppress(asyncio.CancelledError):
                await swapping
        for connection in connections:
            if connection.transport is not None:
                connection.transport.abort()
    return Result(
        target,
        elapsed,
        phase.latencies,
        phase.errors,
        cpu_after - cpu_before,
        client_after - client_before,
        len(phase.versions),
        swaps,
    )


# -- the server --------------------------------------------------------------------------------


@dataclass
class Server:
    """bench/service_server.py in a child process, and how to reach it."""

    process: subprocess.Popen[bytes]
    port: int
    log: Path
    profile: Path | None
    cpu: int | None

    @property
    def pid(self) -> int:
        return self.process.pid

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


def log_tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


@contextmanager
def serve(
    scratch: Path, source: Path, settings: LoadSettings, cpu: int | None, profile: bool
) -> Iterator[Server]:
    """Start the server, wait until it is ready, and stop it (SIGINT, then SIGKILL) at the end."""
    port_file, log = scratch / "port", scratch / "server.log"
    profile_path = scratch / "profile.pstats" if profile else None
    command = [sys.executable, str(LAUNCHER), "--source", str(source), "--port-file"]
    command += [str(port_file), "--poll-interval", str(settings.poll_interval), "--flag", TARGET]
    if settings.api_key is not None:
        command += ["--api-key", settings.api_key]
    if cpu is not None:
        command += ["--cpu", str(cpu)]
    if profile_path is not None:
        command += ["--profile", str(profile_path)]
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 60
        while not port_file.exists():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start:\n{log_tail(log)}")
            time.sleep(0.05)
        server = Server(process, int(port_file.read_text()), log, profile_path, cpu)
        while True:
            with suppress(httpx.HTTPError):
                if httpx.get(server.url("/readyz"), timeout=5).status_code == 200:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not get ready:\n{log_tail(log)}")
            time.sleep(0.05)
        yield server
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def check_targets(server: Server, api_key: str | None) -> dict[str, int]:
    """One request to each target: 200 with JSON, or RuntimeError. The answers' sizes."""
    headers = {} if api_key is None else {"Authorization": f"Bearer {api_key}"}
    sizes = {}
    body = {"context": {"targetingKey": "tenant-1", "tier": "free"}}
    for target, path in TARGETS.items():
        response = httpx.post(server.url(path), json=body, headers=headers, timeout=10)
        if response.status_code != 200 or "value" not in response.json():
            raise RuntimeError(f"{target} {path} answered {response.status_code}: {response.text}")
        sizes[target] = len(response.content)
    return sizes


# -- running and reporting ---------------------------------------------------------------------


COLUMNS = (
    f"{'':14} {'target':8} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'errors':>6} "
    f"{'srv CPU':>7} {'srv µs/req':>10} {'cli CPU':>7} {'versions':>9}"
)


def phase_line(label: str, result: Result) -> str:
    versions = f"{result.versions} ({result.swaps} sw)" if result.target == "flagkit" else ""
    return (
        f"{label:14} {result.target:8} {result.rate:7.0f} {result.percentile(50):7.2f} "
        f"{result.percentile(99):7.2f} {sum(result.errors.values()):6d} "
        f"{result.server_cpu / result.seconds:7.0%} {result.server_us:10.0f} "
        f"{result.client_cpu / result.seconds:7.0%} {versions:>9}"
    )


async def run_rounds(
    server: Server,
    settings: LoadSettings,
    requests: dict[str, list[bytes]],
    swapper: Swapper,
) -> list[Result]:
    results = []
    for round_ in range(settings.rounds):
        order = list(TARGETS) if round_ % 2 == 0 else list(reversed(TARGETS))
        for target in order:
            result = await run_phase(
                target,
                requests[target],
                server.port,
                server.pid,
                settings,
                swapper if target == "flagkit" else None,
            )
            results.append(result)
            print(phase_line(f"round {round_ + 1}", result), flush=True)
            if server.process.poll() is not None:
                result.errors[f"the server exited with {server.process.returncode}"] += 1
                print(f"the server exited:\n{log_tail(server.log)}", flush=True)
                return results
    return results


def median_of(results: list[Result], target: str) -> dict[str, float]:
    mine = [r for r in results if r.target == target]
    if not mine:
        keys = ("rate", "p50", "p99", "errors", "server_us", "server_cpu", "client_cpu")
        return dict.fromkeys(keys, 0.0)
    return {
        "rate": statistics.median(r.rate for r in mine),
        "p50": statistics.median(r.percentile(50) for r in mine),
        "p99": statistics.median(r.percentile(99) for r in mine),
        "errors": sum(sum(r.errors.values()) for r in mine),
        "server_us": statistics.median(r.server_us for r in mine),
        "server_cpu": statistics.median(r.server_cpu / r.seconds for r in mine),
        "client_cpu": statistics.median(r.client_cpu / r.seconds for r in mine),
    }


def needed_versions(settings: LoadSettings) -> int:
    """Distinct versions a flagkit phase must have served for its swaps to count as seen."""
    return max(2, int(settings.seconds / settings.swap_every) - 1)


def report(results: list[Result], settings: LoadSettings) -> bool:
    """Print the medians and verdicts; True when there were no errors and the swaps were seen."""
    medians = {target: median_of(results, target) for target in TARGETS}
    done = sum(r.target == "flagkit" for r in results)
    print(f"\nmedian of {done} round(s)")
    print(COLUMNS)
    for target, m in medians.items():
        print(
            f"{'median':14} {target:8} {m['rate']:7.0f} {m['p50']:7.2f} {m['p99']:7.2f} "
            f"{m['errors']:6.0f} {m['server_cpu']:7.0%} {m['server_us']:10.0f} "
            f"{m['client_cpu']:7.0%}"
        )
    of_medians = medians["flagkit"]["rate"] / (medians["bare"]["rate"] or float("nan"))
    # Each round's two phases ran back to back, so their ratio shares the machine's mood.
    rounds = [
        (a.rate / b.rate if a.target == "flagkit" else b.rate / a.rate)
        for a, b in zip(results[::2], results[1::2], strict=False)
        if b.rate and a.rate
    ]
    ratio = statistics.median(rounds) if rounds else float("nan")
    verdict = "ok" if ratio >= RATIO_TARGET else "MISSED"
    print(
        f"\nflagkit/bare throughput: {ratio:.2f}x (target >= {RATIO_TARGET}x: {verdict}), "
        f"the median of the rounds' ratios ({', '.join(f'{r:.2f}' for r in rounds)}); "
        f"the ratio of the medians is {of_medians:.2f}x"
    )
    flagkit_us, bare_us = medians["flagkit"]["server_us"], medians["bare"]["server_us"]
    print(
        f"server CPU per request: flagkit {flagkit_us:.0f} µs, bare {bare_us:.0f} µs: the "
        f"flagkit route costs {flagkit_us - bare_us:+.0f} µs "
        f"(bare/flagkit {bare_us / (flagkit_us or float('nan')):.2f}x)"
    )
    busiest = min(m["server_cpu"] for m in medians.values())
    if 0 < busiest < 0.9:
        print(
            f"note: the server used only {busiest:.0%} of a CPU: the machine was busy (or the "
            "client too slow), so req/s understate it; server CPU per request is steadier"
        )
    flagkit = [r for r in results if r.target == "flagkit"]
    need = needed_versions(settings)
    seen = ", ".join(f"{r.versions} ({r.swaps} swaps)" for r in flagkit)
    swaps_ok = bool(flagkit) and all(r.versions >= need for r in flagkit)
    print(
        f"document swaps: distinct metadata.version values answered per flagkit phase: {seen}; "
        f"need >= {need}: {'ok' if swaps_ok else 'MISSED'}"
    )
    errors: Counter[str] = Counter()
    for result in results:
        errors.update(result.errors)
    total = sum(errors.values())
    print(f"errors: {total} (target 0: {'ok' if total == 0 else 'MISSED'})")
    for why, count in errors.most_common():
        print(f"  {count:6d}  {why}")
    return total == 0 and swaps_ok


def where(key: tuple[str, int, str]) -> str:
    filename, line, name = key
    if filename == "~":
        return name
    parts = Path(filename).parts
    return f"{'/'.join(parts[-2:])}:{line}({name})"


def package(filename: str) -> str:
    """The distribution or top-level module a profiled function comes from."""
    if filename == "~":
        return "C built-ins (socket I/O, isinstance, ...)"
    parts = Path(filename).parts
    if "site-packages" in parts:
        return parts[parts.index("site-packages") + 1]
    if str(ROOT) in filename:
        return Path(filename).resolve().relative_to(ROOT).parts[0]
    for i, part in enumerate(parts[:-1]):
        if part.startswith("python3"):
            return f"stdlib {parts[i + 1].removesuffix('.py')}"
    return filename


@dataclass
class Profile:
    """One profiled phase: (calls, own µs, cumulative µs) per request, by function and package."""

    result: Result
    functions: dict[str, tuple[float, float, float]]
    packages: dict[str, float]

    @classmethod
    def read(cls, path: Path, result: Result) -> Profile:
        requests = max(len(result.latencies), 1)
        stats = pstats.Stats(str(path)).stats  # type: ignore[attr-defined]
        functions: dict[str, tuple[float, float, float]] = {}
        packages: dict[str, float] = {}
        for key, (_, calls, own, cumulative, _callers) in stats.items():
            mine = own / requests * 1e6
            functions[where(key)] = (calls / requests, mine, cumulative / requests * 1e6)
            name = package(key[0])
            packages[name] = packages.get(name, 0.0) + mine
        return cls(result, functions, packages)


async def run_profiles(
    server: Server,
    settings: LoadSettings,
    requests: dict[str, list[bytes]],
    swapper: Swapper,
) -> dict[str, Profile]:
    assert server.profile is not None
    profiles = {}
    for target in TARGETS:
        server.profile.unlink(missing_ok=True)
        result = await run_phase(
            target,
            requests[target],
            server.port,
            server.pid,
            settings,
            swapper if target == "flagkit" else None,
            profile=server.profile,
        )
        print(phase_line("profiled", result), flush=True)
        deadline = time.monotonic() + 30
        while not server.profile.exists():
            if time.monotonic() > deadline:
                raise RuntimeError(f"no profile written:\n{log_tail(server.log)}")
            await asyncio.sleep(0.1)
        profiles[target] = Profile.read(server.profile, result)
    return profiles


def print_profiles(profiles: dict[str, Profile], top: int) -> None:
    flagkit, bare = profiles["flagkit"], profiles["bare"]
    totals = {target: sum(p.packages.values()) for target, p in profiles.items()}
    print(
        "\ncProfile of the server's event-loop thread, µs per answered request (the profiler "
        "inflates Python calls: read the proportions): "
        f"flagkit {totals['flagkit']:.0f} µs, bare {totals['bare']:.0f} µs, "
        f"difference {totals['flagkit'] - totals['bare']:+.0f} µs"
    )
    print("\nown time by package, µs per request:")
    print(f"{'flagkit':>8} {'bare':>7} {'+µs':>7}  package")
    names = flagkit.packages.keys() | bare.packages.keys()
    for name in sorted(names, key=lambda n: bare.packages.get(n, 0) - flagkit.packages.get(n, 0)):
        mine, theirs = flagkit.packages.get(name, 0.0), bare.packages.get(name, 0.0)
        if max(mine, theirs) >= 1:
            print(f"{mine:8.1f} {theirs:7.1f} {mine - theirs:+7.1f}  {name}")
    zero = (0.0, 0.0, 0.0)
    diff = {
        name: (
            flagkit.functions.get(name, zero)[1] - bare.functions.get(name, zero)[1],
            flagkit.functions.get(name, zero)[2] - bare.functions.get(name, zero)[2],
            flagkit.functions.get(name, zero)[0],
            bare.functions.get(name, zero)[0],
        )
        for name in flagkit.functions.keys() | bare.functions.keys()
    }
    print(f"\nflagkit minus bare, top {top} functions by own time, µs per request:")
    print(f"{'+own µs':>7} {'+cum µs':>7} {'calls/req':>9} {'(bare)':>6}  function")
    for name, (mine, cumulative, calls, bare_calls) in sorted(
        diff.items(), key=lambda kv: -kv[1][0]
    )[:top]:
        print(f"{mine:+7.1f} {cumulative:+7.1f} {calls:9.2f} {bare_calls:6.2f}  {name}")


def http_implementation() -> str:
    """What uvicorn's `auto` picks here: httptools/uvloop when installed, else h11/asyncio."""
    http = "httptools" if importlib.util.find_spec("httptools") else "h11"
    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    return f"{http}, {loop} loop"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds per phase")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds first")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=5, help="flagkit and bare phases each")
    parser.add_argument("--quick", action="store_true", help="2 s phases, 0.5 s warm-up, 1 round")
    parser.add_argument("--poll-interval", type=float, default=0.5, help="flag file re-read, s")
    parser.add_argument("--swap-every", type=float, default=1.0, help="flag file rewrite, s")
    parser.add_argument("--no-api-key", action="store_true", help="send no key (loopback)")
    parser.add_argument("--no-pin", action="store_true", help="leave CPU placement to the OS")
    parser.add_argument(
        "--profile", action="store_true", help="then cProfile one phase of each target"
    )
    parser.add_argument("--top", type=int, default=20, help="functions listed by --profile")
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.warmup, args.rounds = 2.0, 0.5, 1
    if args.seconds <= 0 or args.connections < 1 or args.rounds < 1:
        parser.error("--seconds, --connections and --rounds must be positive")
    cpus = sorted(os.sched_getaffinity(0))
    settings = LoadSettings(
        seconds=args.seconds,
        warmup=args.warmup,
        connections=args.connections,
        rounds=args.rounds,
        poll_interval=args.poll_interval,
        swap_every=args.swap_every,
        api_key=None if args.no_api_key else API_KEY,
        pin=not args.no_pin and len(cpus) >= 2,
    )
    server_cpu, client_cpu = (cpus[0], cpus[1]) if settings.pin else (None, None)

    def stop(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)  # Unwinds through the finally blocks: server, files.

    signal.signal(signal.SIGTERM, stop)
    with tempfile.TemporaryDirectory(prefix="flagkit-load-") as scratch_dir:
        scratch = Path(scratch_dir)
        source = scratch / "flags.json"
        write_atomically(source, document(0))
        with serve(scratch, source, settings, server_cpu, args.profile) as server:
            if client_cpu is not None:
                os.sched_setaffinity(0, {client_cpu})
            sizes = check_targets(server, settings.api_key)
            requests = {
                target: build_requests(path, server.port, settings.api_key)
                for target, path in TARGETS.items()
            }
            placement = (
                f"server pinned to CPU {server_cpu}, client to CPU {client_cpu}"
                if settings.pin
                else "not pinned"
            )
            print("command: " + shlex.join([Path(sys.executable).name, *sys.argv]))
            print(
                f"flagkit: POST {OFREP_PATH} (25 % rollout, {FLAG_COUNT}-flag document, "
                f"{TENANT_COUNT:,} tenants, 1 in 10 enterprise), {sizes['flagkit']} B answers; "
                f"bare: POST {BARE_PATH} (same app, middleware and server), "
                f"{sizes['bare']} B answers"
            )
            print(
                f"load: {settings.connections} keep-alive HTTP/1.1 connections, closed loop, "
                f"{settings.warmup:g} s warm-up + {settings.seconds:g} s measured per phase, "
                f"{settings.rounds} round(s) alternating; API key: "
                f"{'Bearer' if settings.api_key else 'none (loopback)'}"
            )
            print(
                f"flag file rewritten every {settings.swap_every:g} s during flagkit phases, "
                f"re-read every {settings.poll_interval:g} s"
            )
            print(
                f"server: 1 uvicorn {uvicorn.__version__} worker ({http_implementation()}), "
                f"Python {platform.python_version()}; client: raw asyncio Protocol in this "
                f"process; {len(cpus)} CPUs, {placement}; loadavg "
                f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}"
            )
            print()
            print(COLUMNS)
            swapper = Swapper(source, settings.swap_every)
            results = asyncio.run(run_rounds(server, settings, requests, swapper))
            ok = report(results, settings)
            if args.profile:
                print()
                profiles = asyncio.run(run_profiles(server, settings, requests, swapper))
                print_profiles(profiles, args.top)
                ok = ok and not any(sum(p.result.errors.values()) for p in profiles.values())
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
