"""A fleet on one AppConfig: 50 processes polling the local AppConfig, a deployment, an outage.

    .venv/bin/python bench/fleet.py [--processes 50] [--interval 5] [--outage 60]
        [--api appconfig --api agent] [--plot docs/fleet.png]

Starts the local AppConfig (`flagkit.local_appconfig.LocalAppConfig`, on loopback, telling
every client to poll every `--interval` seconds) and, for each API, `--processes`
interpreters (bench/fleet_member.py), started a few at a time: `appconfig` processes use
`Flags.from_appconfig` through boto3 (`AWS_ENDPOINT_URL_APPCONFIGDATA`), `agent` ones
`Flags.from_agent` against the same port's Agent path. Then, measured:

1. the request rate the endpoint sees over four intervals (goal: processes / interval,
   within 10 %);
2. a new version is deployed: the time until every process serves it (each reports its
   `on_change`; goal: within one interval plus a second);
3. the endpoint answers every request with 500 for `--outage` seconds, then serves again:
   how many processes retry in the same second (a retry: an attempt after a failed one),
   and how long until every process has polled successfully again (goal: no second in
   which more than a fifth of the fleet retries at once, after the endpoint comes back).

Prints a table and writes a plot (matplotlib: `make bench-fleet` installs it) of the
processes serving the new version over time and of the requests per second at the
endpoint. Exits 1 when a goal is missed.
"""

from __future__ import annotations

import argparse
import itertools
import math
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from fleet_member import APPLICATION, ENVIRONMENT, PROFILE  # noqa: E402
from fleet_processes import (  # noqa: E402
    Member,
    member_command,
    member_env,
    start_fleet,
    stop_fleet,
)
from service_load import document  # noqa: E402

from flagkit.local_appconfig import LocalAppConfig  # noqa: E402

RATE_TOLERANCE = 0.10
RETRY_SHARE = 0.2
LABELS = {"appconfig": "Data API (Flags.from_appconfig)", "agent": "Agent API (Flags.from_agent)"}


@dataclass(frozen=True)
class Settings:
    processes: int
    interval: int
    outage: float
    at_once: int
    settle: float


@dataclass(frozen=True)
class ApiResult:
    """What one API's run measured; times are seconds since the deployment."""

    api: str
    processes: int
    interval: int
    startup: float
    fleet_rss_mb: float
    rate: float
    converged: list[float]
    """When each process served the new version (missing: never, within the wait)."""
    down: float
    up: float
    retries_per_second: dict[int, int]
    """Processes that retried in each second since the outage began."""
    recovered: float | None
    """When the last process had polled successfully after the endpoint came back."""
    requests: list[float] = field(repr=False)
    """Every request the endpoint answered."""

    @property
    def label(self) -> str:
        return LABELS[self.api]

    @property
    def expected_rate(self) -> float:
        return self.processes / self.interval

    @property
    def all_converged(self) -> float | None:
        return max(self.converged) if len(self.converged) == self.processes else None

    @property
    def busiest_outage_second(self) -> int:
        return max(self.retries_per_second.values(), default=0)

    @property
    def busiest_recovery_second(self) -> int:
        back = math.floor(self.up - self.down)
        return max((n for s, n in self.retries_per_second.items() if s >= back), default=0)

    def goals(self) -> list[tuple[str, bool]]:
        """(description, held) of each goal."""
        converged = self.all_converged
        most = int(self.processes * RETRY_SHARE)
        return [
            (
                f"requests/s {self.rate:.2f} vs {self.expected_rate:.2f} within "
                f"{RATE_TOLERANCE:.0%}",
                abs(self.rate - self.expected_rate) <= RATE_TOLERANCE * self.expected_rate,
            ),
            (
                f"all serving the new version within {self.interval + 1} s",
                converged is not None and converged <= self.interval + 1,
            ),
            (
                f"at most {most} processes retrying in any second after the endpoint came back",
                self.recovered is not None and self.busiest_recovery_second <= most,
            ),
        ]


def wait_until(done: Callable[[], object], timeout: float, step: float = 0.1) -> bool:
    """Poll `done()` until it is true or `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            return False
        time.sleep(step)
    return True


def retries_by_second(members: list[Member], since: float) -> dict[int, int]:
    """Per second since `since`, how many processes made an attempt right after a failed one."""
    seconds: Counter[int] = Counter()
    for member in members:
        attempts = [e for e in member.snapshot() if e.kind == "attempt"]
        retried = {
            math.floor(now.time - since)
            for before, now in itertools.pairwise(attempts)
            if before.value == "fail" and now.time >= since
        }
        seconds.update(retried)
    return dict(sorted(seconds.items()))


def all_recovered(members: list[Member], up: float) -> float | None:
    """When the last process had a successful poll after `up`; None if one has not yet."""
    firsts = [member.first("attempt", "ok", after=up) for member in members]
    if any(event is None for event in firsts):
        return None
    return max(event.time for event in firsts if event is not None)


def run_api(api: str, settings: Settings, local: LocalAppConfig, log_dir: Path) -> ApiResult:
    """One fleet on one API, through steady polling, a deployment and an outage."""
    profile_version = local.deploy(APPLICATION, ENVIRONMENT, PROFILE, document(0))
    command = member_command(api, settings.interval, local.url)
    started = time.monotonic()
    with (log_dir / f"{api}.log").open("wb") as log:
        members = start_fleet(
            settings.processes, command, member_env(local.url), log, at_once=settings.at_once
        )
        try:
            startup = time.monotonic() - started
            print(
                f"{api}: {settings.processes} processes serving after {startup:.1f} s", flush=True
            )
            time.sleep(settings.settle)
            fleet_rss = sum(member.rss_mb() for member in members)
            window = 4 * settings.interval
            begin = time.monotonic()
            time.sleep(window)
            seen = [r.time for r in local.requests if begin <= r.time < begin + window]
            rate = len(seen) / window
            print(f"{api}: {rate:.2f} requests/s at the endpoint", flush=True)

            new = str(local.deploy(APPLICATION, ENVIRONMENT, PROFILE, document(profile_version)))
            deployed = time.monotonic()
            wait_until(
                lambda: all(m.first("version", new) for m in members), settings.interval + 10
            )
            converged = [
                event.time - deployed
                for event in (m.first("version", new) for m in members)
                if event is not None
            ]
            print(f"{api}: {len(converged)} processes serving version {new}", flush=True)

            time.sleep(settings.interval * 2)
            down = time.monotonic()
            local.set_fault("internal")
            time.sleep(settings.outage)
            local.clear_faults()
            up = time.monotonic()
            wait_until(lambda: all_recovered(members, up) is not None, 70)
            recovered = all_recovered(members, up)
            time.sleep(settings.interval)
            retries = retries_by_second(members, down)
            requests = [r.time - deployed for r in local.requests if r.time >= begin]
        finally:
            stop_fleet(members)
    return ApiResult(
        api,
        settings.processes,
        settings.interval,
        startup,
        fleet_rss,
        rate,
        sorted(converged),
        down - deployed,
        up - deployed,
        retries,
        None if recovered is None else recovered - up,
        requests,
    )


def table(results: list[ApiResult], settings: Settings) -> str:
    """The figures of every API, one column each, and the goals."""
    most = int(settings.processes * RETRY_SHARE)

    def cell(value: float | None, digits: int = 1) -> str:
        return "never" if value is None else f"{value:.{digits}f}"

    rows: list[tuple[str, list[str], str]] = [
        ("processes", [str(r.processes) for r in results], ""),
        ("poll interval, s", [str(r.interval) for r in results], ""),
        ("start-up of the fleet, s", [cell(r.startup) for r in results], ""),
        ("RSS of the fleet, MiB", [cell(r.fleet_rss_mb, 0) for r in results], ""),
        (
            "requests/s at the endpoint",
            [cell(r.rate, 2) for r in results],
            f"{settings.processes / settings.interval:.2f} ± {RATE_TOLERANCE:.0%}",
        ),
        (
            "half the fleet on the new version, s",
            [cell(r.converged[len(r.converged) // 2] if r.converged else None) for r in results],
            "",
        ),
        (
            "all on the new version, s",
            [cell(r.all_converged) for r in results],
            f"<= {settings.interval + 1}",
        ),
        (
            f"most retrying in one second, {settings.outage:g} s outage",
            [str(r.busiest_outage_second) for r in results],
            "",
        ),
        (
            "most retrying in one second once back",
            [str(r.busiest_recovery_second) for r in results],
            f"<= {most}",
        ),
        ("all polled successfully again, s", [cell(r.recovered) for r in results], ""),
    ]
    width = max(len(r[0]) for r in rows)
    lines = [f"{'':{width}}  " + "  ".join(f"{r.api:>10}" for r in results) + "  goal"]
    for name, cells, goal in rows:
        lines.append(f"{name:{width}}  " + "  ".join(f"{c:>10}" for c in cells) + f"  {goal}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--processes", type=int, default=50)
    parser.add_argument("--interval", type=int, default=5, help="poll interval, seconds (5)")
    parser.add_argument("--outage", type=float, default=60.0, help="seconds down (60)")
    parser.add_argument("--at-once", type=int, default=2, help="processes starting at once")
    parser.add_argument("--api", action="append", choices=("appconfig", "agent"))
    parser.add_argument("--plot", type=Path, default=BENCH.parent / "docs" / "fleet.png")
    args = parser.parse_args()
    settings = Settings(args.processes, args.interval, args.outage, args.at_once, args.interval)
    apis = args.api or ["appconfig", "agent"]
    print(
        f"fleet: {settings.processes} processes per API ({', '.join(apis)}), poll interval "
        f"{settings.interval} s, outage {settings.outage:g} s; {os.cpu_count()} CPU(s)",
        flush=True,
    )
    results = []
    with tempfile.TemporaryDirectory(prefix="flagkit-fleet-") as scratch:
        for api in apis:
            # Every client is told to poll every `interval` seconds, whatever minimum it asked.
            with LocalAppConfig(
                poll_interval=settings.interval, honour_required_minimum=False
            ) as local:
                results.append(run_api(api, settings, local, Path(scratch)))
    print()
    print(table(results, settings))
    held = True
    for result in results:
        for goal, ok in result.goals():
            print(f"{result.api}: {goal}: {'ok' if ok else 'MISSED'}")
            held = held and ok
    from fleet_plot import draw

    draw(results, args.plot)
    print(f"plot: {args.plot}")
    return 0 if held else 1


if __name__ == "__main__":
    sys.exit(main())
