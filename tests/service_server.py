"""Real servers for the service tests: uvicorn on a thread, and `flagkit serve` as a process.

Both listen on 127.0.0.1 only, on a port the kernel picks, and are stopped cleanly:

- `serve_app(app)` runs `create_app(...)` under a real `uvicorn.Server` on a thread of
  this process, so a test can hold the `Flags` it serves and swap documents with
  `flags.refresh()` while requests are in flight.
- `serve_cli(...)` starts `flagkit serve` (the installed console script, as `make run`
  does) with the environment it is given, and keeps everything it writes (its log on
  stderr, uvicorn's access log on stdout), so a test can check what the server logged.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from flagkit.client import Flags
from flagkit.sources.memory import MemorySource
from service.app import create_app
from service.settings import Settings
from tests.helpers import FLAGKIT

__all__ = [
    "PYTHON_M_SERVICE",
    "SERVE",
    "START_TIMEOUT",
    "CliServer",
    "LiveServer",
    "cli_environment",
    "live",
    "memory_flags",
    "serve_app",
    "serve_cli",
    "wait_ready",
]

START_TIMEOUT = 20.0
"""Seconds a server may take to start listening (a cold interpreter imports FastAPI)."""

SERVE = (str(FLAGKIT), "serve")
"""`flagkit serve`, as a user types it."""

PYTHON_M_SERVICE = (sys.executable, "-m", "service")
"""`python -m service`: the same command, run as the service package's main module."""


# -- in process -----------------------------------------------------------------------------


class _Server(uvicorn.Server):
    """A uvicorn server that says, with an event, when it listens (or gave up starting)."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.listening = threading.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        try:
            await super().startup(sockets)
        finally:
            self.listening.set()


@dataclass
class LiveServer:
    """A server listening on 127.0.0.1: its base URL and, for in-process ones, its app."""

    base_url: str
    app: FastAPI | None = None

    def client(self, **options: Any) -> httpx.Client:
        """An httpx client for this server; close it (use it in a `with`)."""
        return httpx.Client(base_url=self.base_url, timeout=10.0, **options)


@contextmanager
def serve_app(app: FastAPI) -> Iterator[LiveServer]:
    """Serve `app` with uvicorn on a thread, on a free loopback port, until the block ends."""
    # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets that say they are TCP,
    # and without it every response waits ~40 ms for a delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        lifespan="on",
        log_config=None,  # Leave this process's logging as pytest set it up.
        access_log=False,
        timeout_graceful_shutdown=5,
    )
    server = _Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="uvicorn", daemon=True
    )
    thread.start()
    try:
        if not server.listening.wait(START_TIMEOUT) or not server.started:
            raise RuntimeError("uvicorn did not start; see the captured log")
        yield LiveServer(f"http://127.0.0.1:{port}", app)
    finally:
        server.should_exit = True
        thread.join(START_TIMEOUT)
        sock.close()
        if thread.is_alive():
            raise RuntimeError("uvicorn did not stop")


def memory_flags(document: Mapping[str, Any], version: str) -> tuple[Flags, MemorySource]:
    """`Flags` on a `MemorySource` the test can `update()`, then swap in with `refresh()`."""
    source = MemorySource(document, version=version)
    return Flags(source), source


@contextmanager
def live(
    flags: Flags | None = None, settings: Settings | None = None, **options: Any
) -> Iterator[LiveServer]:
    """`create_app(settings or Settings(**options), flags=flags)` served on a thread."""
    app = create_app(Settings(**options) if settings is None else settings, flags=flags)
    with serve_app(app) as server:
        yield server


def wait_ready(server: LiveServer, timeout: float = START_TIMEOUT) -> httpx.Response:
    """Ask `/readyz` until it says 200 (the file source loads at once); its last answer."""
    deadline = time.monotonic() + timeout
    pause = 0.01
    with server.client() as client:
        while True:
            try:
                response = client.get("/readyz")
            except httpx.ConnectError:  # --workers N: bound by the parent, not yet listening
                if time.monotonic() > deadline:
                    raise
            else:
                if response.status_code == 200 or time.monotonic() > deadline:
                    return response
            threading.Event().wait(pause)  # Nothing to await: the process is another one.
            pause = min(pause * 2, 0.2)


# -- `flagkit serve` as a process -----------------------------------------------------------

_LISTENING = re.compile(r"Uvicorn running on http://127\.0\.0\.1:(\d+)")


@dataclass
class CliServer(LiveServer):
    """A `flagkit serve` process; `log()` is everything it wrote (stderr and stdout) so far."""

    _lines: list[str] = field(default_factory=list)
    _changed: threading.Condition = field(default_factory=threading.Condition)

    def log(self) -> str:
        with self._changed:
            return "".join(self._lines)

    def wait_for_log(self, text: str, timeout: float = 10.0, *, times: int = 1) -> str:
        """The log once `text` is in it `times` times (the process writes it before
        answering, but the reader thread may not have read it yet); fails after `timeout`."""
        with self._changed:
            found = self._changed.wait_for(
                lambda: "".join(self._lines).count(text) >= times, timeout
            )
            log = "".join(self._lines)
        assert found, f"{text!r} never appeared in the log:\n{log}"
        return log


def cli_environment(extra: Mapping[str, str]) -> dict[str, str]:
    """This process's environment without any FLAGKIT_* setting, plus `extra`."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("FLAGKIT_")}
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


@contextmanager
def serve_cli(
    *args: str, env: Mapping[str, str] | None = None, command: Sequence[str] = SERVE
) -> Iterator[CliServer]:
    """`flagkit serve --port 0 ARGS...` with `env` added; waits until it listens and is ready.

    `command` replaces `flagkit serve` (`PYTHON_M_SERVICE`: `python -m service`).

    uvicorn binds the port the kernel picks and prints it; that line is awaited, not
    guessed. The process gets SIGTERM when the block ends and must shut down cleanly
    (uvicorn re-raises the signal once it has, so the status is -SIGTERM).
    """
    process = subprocess.Popen(
        [*command, "--port", "0", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,  # uvicorn's access log goes to stdout, the rest to stderr:
        stderr=subprocess.STDOUT,  # one pipe, so the log keeps the order they were written in
        text=True,
        env=cli_environment(env or {}),
    )
    assert process.stdout is not None
    server = CliServer("")
    port: list[int] = []
    listening = threading.Event()

    def read_log() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            with server._changed:
                server._lines.append(line)
                server._changed.notify_all()
            found = _LISTENING.search(line)
            if found and not port:
                port.append(int(found.group(1)))
                listening.set()
        listening.set()  # The process ended: stop waiting.

    reader = threading.Thread(target=read_log, name="serve-cli-log", daemon=True)
    reader.start()
    try:
        if not listening.wait(START_TIMEOUT) or not port:
            raise RuntimeError(f"flagkit serve did not start:\n{server.log()}")
        server.base_url = f"http://127.0.0.1:{port[0]}"
        ready = wait_ready(server)
        assert ready.status_code == 200, ready.text
        yield server
    finally:
        process.terminate()
        try:
            status = process.wait(START_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise
        finally:
            reader.join(START_TIMEOUT)
            process.stdout.close()
    log = server.log()
    if status not in (0, -signal.SIGTERM) or "Application shutdown complete." not in log:
        pytest.fail(f"flagkit serve exited with {status}:\n{log}")
