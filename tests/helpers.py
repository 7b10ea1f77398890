"""What many test modules do the same way: write a file, run a command to its end.

- `write(directory, name, content)`: a document (or any text) in a file of `directory`.
- `replace(path, content)`: the file replaced whole, as an editor or a deployment does.
- `run_command(command, ...)`: a subprocess run to the end, its output kept as text.
- `run_flagkit(*args)`: the installed `flagkit` console script, as a user types it.
- `run_python(code, *args)`: `python -c code` in a fresh interpreter of this venv.
- `ChangeWaiter`: an `on_change` callback that records every swap and lets a test await one.
- `wait_until(condition, timeout)`: for a condition no event announces.
- `blocked_in(thread, function)`: whether a thread waits inside a flagkit function.
- `flagkit_warnings(caplog)`: what the `flagkit` logger warned of.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import pytest

from flagkit.announcer import LOGGER_NAME
from tests.conftest import REPO

__all__ = [
    "FLAGKIT",
    "ChangeWaiter",
    "blocked_in",
    "flagkit_warnings",
    "replace",
    "run_command",
    "run_flagkit",
    "run_python",
    "wait_until",
    "write",
]

FLAGKIT = Path(sys.executable).with_name("flagkit")
"""The console script `pip install -e .` made: what `make run` starts."""


def write(directory: Path, name: str, content: object) -> Path:
    """`content` in `directory/name`, as UTF-8: a str as it is, anything else as JSON."""
    path = directory / name
    text = content if isinstance(content, str) else json.dumps(content)
    path.write_text(text, encoding="utf-8")
    return path


def replace(path: Path, content: object) -> None:
    """`path` replaced whole with `content` (a str as it is, anything else as JSON), as an
    editor or a deployment does: a reader never sees half of it."""
    scratch = path.with_suffix(".new")
    scratch.write_text(content if isinstance(content, str) else json.dumps(content), "utf-8")
    scratch.replace(path)


def run_command(
    command: Sequence[str | Path],
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    input: str | None = None,
    timeout: float = 60,
) -> subprocess.CompletedProcess[str]:
    """`command` run to the end (never raising on its exit status), stdout and stderr as text.

    `env` replaces this process's environment when given.
    """
    return subprocess.run(
        [str(part) for part in command],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=None if env is None else dict(env),
        cwd=cwd,
        input=input,
        timeout=timeout,
        check=False,
    )


def run_flagkit(
    *args: str | Path, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """The installed `flagkit` console script with `args`, run to the end."""
    assert FLAGKIT.exists(), "the flagkit console script is not installed in this venv"
    return run_command([FLAGKIT, *args], env=env)


def run_python(
    code: str,
    *args: str | Path,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = REPO,
    input: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """`python -c code args...` in a fresh interpreter of this venv, from the repository."""
    return run_command([sys.executable, "-c", code, *args], env=env, cwd=cwd, input=input)


class ChangeWaiter:
    """An `on_change` callback that remembers every swap and lets a test await one."""

    def __init__(self) -> None:
        self.calls: list[tuple[str | None, str | None, frozenset[str]]] = []
        self.times: list[float] = []
        self._cond = threading.Condition()
        self.changed = threading.Event()

    def __call__(self, old: str | None, new: str | None, keys: frozenset[str]) -> None:
        with self._cond:
            self.calls.append((old, new, keys))
            self.times.append(time.monotonic())
            self.changed.set()
            self._cond.notify_all()

    def wait_for_version(self, version: str, timeout: float) -> bool:
        """Block until a swap to `version` happened (now or earlier); False on timeout."""
        with self._cond:
            return self._cond.wait_for(
                lambda: any(new == version for _, new, _ in self.calls), timeout
            )


def wait_until(condition: Callable[[], bool], timeout: float, interval: float = 0.005) -> bool:
    """Poll `condition` until it holds or `timeout` seconds pass; whether it held."""
    deadline = time.monotonic() + timeout
    while True:
        if condition():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def flagkit_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The messages of the warnings the `flagkit` logger emitted during the test."""
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == LOGGER_NAME and record.levelno == logging.WARNING
    ]


def blocked_in(thread: threading.Thread, function: str) -> bool:
    """Whether `thread`'s innermost Python frame is flagkit's `function` (waiting on a lock)."""
    frame = sys._current_frames().get(thread.ident or -1)
    return (
        frame is not None
        and frame.f_code.co_name == function
        and "flagkit" in frame.f_code.co_filename
    )
