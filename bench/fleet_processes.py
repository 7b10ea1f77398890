"""The processes of bench/fleet.py: start them staggered, collect what they report, stop them.

Each member is bench/fleet_member.py in its own interpreter; a thread per member reads
its stdout lines (`ready`, `version`, `attempt`: see that module) into `Member.events`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterable
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import IO

BENCH = Path(__file__).resolve().parent
MEMBER = BENCH / "fleet_member.py"


@dataclass(frozen=True)
class Event:
    """One line a member printed: `kind` (ready, version, attempt), when, and its value."""

    kind: str
    time: float
    value: str


class Member:
    """One process of the fleet and the events it has reported so far."""

    def __init__(self, index: int, command: list[str], env: dict[str, str], log: IO[bytes]):
        self.index = index
        self.events: list[Event] = []
        self.ready = threading.Event()
        self._lock = threading.Lock()
        self.process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            env=env,
            text=True,
            bufsize=1,
        )
        self._reader = threading.Thread(target=self._read, name=f"fleet-{index}", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            kind, at, value = [*line.split(maxsplit=2), "", ""][:3]
            with self._lock:
                self.events.append(Event(kind, float(at), value.strip()))
            if kind == "ready":
                self.ready.set()

    def snapshot(self) -> list[Event]:
        """The events so far, oldest first."""
        with self._lock:
            return list(self.events)

    def first(self, kind: str, value: str | None = None, after: float = 0.0) -> Event | None:
        """The first event of `kind` (with `value`) at or after `after`."""
        for event in self.snapshot():
            if event.kind == kind and event.time >= after and value in (None, event.value):
                return event
        return None

    def rss_mb(self) -> float:
        """Resident memory of the process, MiB (Linux /proc); 0 once it has exited."""
        try:
            status = Path(f"/proc/{self.process.pid}/status").read_text()
        except OSError:
            return 0.0
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def stop(self) -> None:
        """Close its stdin (it closes its Flags and exits); kill it if it lingers."""
        with suppress(OSError):
            assert self.process.stdin is not None
            self.process.stdin.close()

    def join(self, timeout: float) -> None:
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._reader.join(5)


def member_command(api: str, interval: float, agent_url: str) -> list[str]:
    command = [sys.executable, str(MEMBER), api, "--interval", f"{interval:g}"]
    return [*command, "--url", agent_url] if api == "agent" else command


def member_env(endpoint_url: str) -> dict[str, str]:
    """The environment of a member: boto3's Data API calls go to the local AppConfig."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    env.update(
        AWS_ENDPOINT_URL_APPCONFIGDATA=endpoint_url,
        AWS_REGION="us-east-1",
        AWS_ACCESS_KEY_ID="local",
        AWS_SECRET_ACCESS_KEY="local",  # noqa: S106 - the local AppConfig checks none
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        PYTHONUNBUFFERED="1",
    )
    return env


def start_fleet(
    count: int,
    command: list[str],
    env: dict[str, str],
    log: IO[bytes],
    *,
    at_once: int,
    timeout: float = 120.0,
) -> list[Member]:
    """Start `count` members, at most `at_once` of them starting (not yet ready) at a time:
    an interpreter importing boto3 takes most of a CPU for about a second."""
    members: list[Member] = []
    deadline = time.monotonic() + timeout * max(1, count // max(at_once, 1))
    while len(members) < count:
        starting = [m for m in members if not m.ready.is_set()]
        if len(starting) >= at_once:
            wait_for_any(starting, deadline)
            continue
        members.append(Member(len(members), command, env, log))
    for member in members:
        if not member.ready.wait(max(0.0, deadline - time.monotonic())):
            stop_fleet(members)
            raise RuntimeError(f"fleet member {member.index} did not get ready")
    return members


def wait_for_any(members: Iterable[Member], deadline: float) -> None:
    """Return when one of `members` is ready (or has exited); RuntimeError past `deadline`."""
    while time.monotonic() < deadline:
        for member in members:
            if member.ready.wait(0.01):
                return
            code = member.process.poll()
            if code is not None:
                raise RuntimeError(f"fleet member {member.index} exited with {code}")
    raise RuntimeError("fleet members did not get ready in time")


def stop_fleet(members: list[Member]) -> None:
    for member in members:
        member.stop()
    for member in members:
        member.join(10)
