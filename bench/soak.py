"""Soak: a new flag document every second under evaluation load; RSS, threads and fds stay flat.

    .venv/bin/python bench/soak.py [--minutes 10] [--connections 2] [--sample 60]

One uvicorn worker serves the flagkit service (`service.app:create_app`, what `flagkit
serve` runs; started by bench/service_server.py, as `make bench-service` does) from a
flag file that this process rewrites every second with a new rollout percentage (the
server re-reads it every 0.25 s). Meanwhile `--connections` keep-alive connections send
OFREP evaluations (`POST /ofrep/v1/evaluate/flags/flag25`, 10,000 tenants) back to back.
After a warm-up, the server's resident memory (VmRSS), thread count and open file
descriptors are read from /proc every `--sample` seconds, and compared at the start and
the end. Goal: flat: RSS within 5 % (and 4 MiB) of the start, as many threads and fds
as at the start (one more of each is tolerated: a connection or a timer in flight). Any
non-200 answer, lost connection, swap not served, or growth beyond that exits 1.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from service_load import (  # noqa: E402
    OFREP_PATH,
    Connection,
    LoadSettings,
    Phase,
    Server,
    Swapper,
    build_requests,
    document,
    serve,
    write_atomically,
)

RSS_GROWTH = 0.05
RSS_SLACK_MB = 4.0
"""RSS may grow by RSS_GROWTH of the start or this many MiB, whichever is larger."""
COUNT_SLACK = 1
"""Threads or fds the end may have beyond the start (a connection or a timer in flight)."""


@dataclass(frozen=True)
class Sample:
    """The server process at one moment, and the load answered so far."""

    elapsed: float
    rss_mb: float
    threads: int
    fds: int
    answered: int
    versions: int
    swaps: int


def process_figures(pid: int) -> tuple[float, int, int]:
    """(VmRSS in MiB, threads, open file descriptors) of process `pid` (Linux /proc)."""
    status = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    rss_kb = int(status["VmRSS"].split()[0])
    threads = int(status["Threads"])
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    return rss_kb / 1024, threads, fds


class CountingPhase(Phase):
    """A phase that counts every answer instead of keeping each latency (hours of them)."""

    def __init__(self, requests: list[bytes]) -> None:
        super().__init__(requests)
        self.answered_count = 0

    def answered(self, head: bytes, body: bytes, latency: float) -> None:
        super().answered(head, body, latency)
        self.answered_count += 1
        self.latencies.clear()


def sample(server: Server, phase: CountingPhase, swapper: Swapper, start: float) -> Sample:
    rss, threads, fds = process_figures(server.pid)
    return Sample(
        time.monotonic() - start,
        rss,
        threads,
        fds,
        phase.answered_count,
        len(phase.versions),
        swapper.swaps,
    )


def sample_line(label: str, s: Sample, previous: Sample | None) -> str:
    span = s.elapsed - (previous.elapsed if previous else 0.0)
    rate = (s.answered - (previous.answered if previous else 0)) / span if span > 0 else 0.0
    return (
        f"{label:>7} {s.elapsed:8.0f} {s.rss_mb:8.1f} {s.threads:7d} {s.fds:5d} "
        f"{rate:9.0f} {s.answered:10d} {s.swaps:6d} {s.versions:8d}"
    )


HEADER = (
    f"{'':>7} {'elapsed':>8} {'RSS MiB':>8} {'threads':>7} {'fds':>5} "
    f"{'req/s':>9} {'answered':>10} {'swaps':>6} {'versions':>8}"
)


async def soak(server: Server, swapper: Swapper, args: argparse.Namespace) -> list[Sample]:
    """Load and swaps for the warm-up and then `args.minutes`; the samples taken after warm-up."""
    requests = build_requests(OFREP_PATH, server.port, None)
    phase = CountingPhase(requests)
    phase.recording = True
    loop = asyncio.get_running_loop()
    swapping = asyncio.create_task(swapper.run())
    stride = len(requests) // args.connections
    connections = []
    start = time.monotonic()
    try:
        for i in range(args.connections):
            _, protocol = await loop.create_connection(
                partial(Connection, phase, i * stride), "127.0.0.1", server.port
            )
            connections.append(protocol)
        await asyncio.sleep(args.warmup)
        samples = [sample(server, phase, swapper, start)]
        print(HEADER)
        print(sample_line("start", samples[0], None), flush=True)
        end = samples[0].elapsed + args.minutes * 60
        while samples[-1].elapsed < end - 0.5:
            await asyncio.sleep(min(args.sample, end - samples[-1].elapsed))
            samples.append(sample(server, phase, swapper, start))
            label = "end" if samples[-1].elapsed >= end - 0.5 else ""
            print(sample_line(label, samples[-1], samples[-2]), flush=True)
            if server.process.poll() is not None or phase.errors:
                break
    finally:
        phase.stopping = True
        swapping.cancel()
        for connection in connections:
            if connection.transport is not None:
                connection.transport.abort()
    if phase.errors:
        print("errors:")
        for why, count in phase.errors.most_common():
            print(f"  {count:6d}  {why}")
    return samples


def verdicts(samples: list[Sample], minutes: float) -> Iterator[tuple[str, bool]]:
    """(line, held) for each goal."""
    first, last = samples[0], samples[-1]
    allowed = max(first.rss_mb * RSS_GROWTH, RSS_SLACK_MB)
    grew = last.rss_mb - first.rss_mb
    yield (
        f"RSS {first.rss_mb:.1f} -> {last.rss_mb:.1f} MiB ({grew:+.1f} MiB; "
        f"goal: at most +{allowed:.1f})",
        grew <= allowed,
    )
    yield (
        f"threads {first.threads} -> {last.threads} (goal: at most +{COUNT_SLACK})",
        last.threads <= first.threads + COUNT_SLACK,
    )
    yield (
        f"file descriptors {first.fds} -> {last.fds} (goal: at most +{COUNT_SLACK})",
        last.fds <= first.fds + COUNT_SLACK,
    )
    ran = (last.elapsed - first.elapsed) / 60
    yield (f"ran {ran:.1f} of {minutes:g} minutes under load", ran >= minutes - 0.05)
    served = last.versions - first.versions
    swaps = last.swaps - first.swaps
    yield (
        f"document swaps: {swaps} written, {served} new versions answered "
        "(goal: at least 90 % of them)",
        served >= 0.9 * swaps,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="minutes measured (10)")
    parser.add_argument("--warmup", type=float, default=30.0, help="seconds before start (30)")
    parser.add_argument("--connections", type=int, default=2, help="load connections (2)")
    parser.add_argument("--sample", type=float, default=60.0, help="seconds between samples")
    args = parser.parse_args()
    settings = LoadSettings(
        seconds=args.minutes * 60,
        warmup=args.warmup,
        connections=args.connections,
        rounds=1,
        poll_interval=0.25,
        swap_every=1.0,
        api_key=None,
        pin=False,
    )
    print(
        f"soak: {args.minutes:g} min after {args.warmup:g} s of warm-up; a new document "
        f"every second, {args.connections} connection(s) of OFREP evaluations; "
        f"{os.cpu_count()} CPU(s)",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="flagkit-soak-") as scratch_dir:
        scratch = Path(scratch_dir)
        source = scratch / "flags.json"
        write_atomically(source, document(0))
        with serve(scratch, source, settings, cpu=None, profile=False) as server:
            samples = asyncio.run(soak(server, Swapper(source, 1.0), args))
    if len(samples) < 2:
        print("no end sample: the run stopped early")
        return 1
    held = True
    for line, ok in verdicts(samples, args.minutes):
        print(f"{line}: {'ok' if ok else 'MISSED'}")
        held = held and ok
    return 0 if held else 1


if __name__ == "__main__":
    sys.exit(main())
