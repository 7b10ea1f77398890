"""Running `flagkit push` and `flagkit rollback` against the loopback control-plane stub.

- `cli_env()`: the console script's environment: fake credentials, nothing from this machine.
- `flagkit_cli(control, *args)`: the console script, its stdin a pipe at its end (no terminal).
- `on_terminal(control, answer, *args)`: the console script on a pseudo-terminal; the
  answer is typed once the confirmation question appears.
"""

from __future__ import annotations

import os
import pty
import select
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from tests.appconfig_control_stub import AppConfigControlStub
from tests.helpers import FLAGKIT, run_command

__all__ = ["Terminal", "cli_env", "flagkit_cli", "on_terminal"]

PROMPT_END = b"[y/N] "


def cli_env() -> dict[str, str]:
    """The console script's environment: fake credentials, nothing from this machine."""
    keep = {name: os.environ[name] for name in ("PATH", "HOME", "LANG") if name in os.environ}
    return keep | {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_MAX_ATTEMPTS": "1",
        "NO_PROXY": "127.0.0.1",
    }


def _endpoint(control: AppConfigControlStub) -> tuple[str, ...]:
    return ("--endpoint-url", control.url, "--region", "us-east-1")


def flagkit_cli(
    control: AppConfigControlStub, *args: str | Path
) -> subprocess.CompletedProcess[str]:
    """The console script against the stub, its stdin a pipe (not a terminal) at its end."""
    return run_command([FLAGKIT, *args, *_endpoint(control)], env=cli_env(), input="")


@dataclass(frozen=True)
class Terminal:
    """What a console script run on a pseudo-terminal showed, and how it ended."""

    before_answer: str
    after_answer: str
    returncode: int


def _read(fd: int, deadline: float, until: bytes | None) -> bytes:
    """Bytes from `fd` until `until` appears (None: until the other end closes)."""
    seen = b""
    while until is None or until not in seen:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"the terminal showed only {seen!r}")
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # EIO: the process closed its end of the terminal
            chunk = b""
        if not chunk:
            if until is None:
                return seen
            raise AssertionError(f"the terminal closed after {seen!r}")
        seen += chunk
    return seen


def on_terminal(control: AppConfigControlStub, answer: str, *args: str | Path) -> Terminal:
    """The console script with stdin, stdout and stderr on a pseudo-terminal; `answer` is
    typed (with Enter) when the `[y/N]` question appears. Output lines end in "\\n"."""
    main, child = pty.openpty()
    process = subprocess.Popen(
        [str(part) for part in (FLAGKIT, *args, *_endpoint(control))],
        stdin=child,
        stdout=child,
        stderr=child,
        env=cli_env(),
    )
    os.close(child)
    try:
        deadline = time.monotonic() + 60
        before = _read(main, deadline, PROMPT_END)
        os.write(main, answer.encode() + b"\n")
        after = _read(main, deadline, None)
        returncode = process.wait(timeout=60)
    finally:
        os.close(main)
        if process.poll() is None:
            process.kill()
            process.wait()
    return Terminal(
        before.decode().replace("\r\n", "\n"), after.decode().replace("\r\n", "\n"), returncode
    )
