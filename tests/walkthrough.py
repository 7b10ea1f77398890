"""Running a walkthrough in the docs as the reader would: marked blocks, in order.

A step is an HTML comment `<!-- walkthrough: TERMINAL ACTION [ARGUMENT] -->` right before
a fenced block. TERMINAL names the terminal the reader types in; ACTION is one of:

- `start`: a console block whose `$ export ...` lines set the terminal's environment and
  whose one other `$` command keeps running; the lines after it are what it prints first.
- `run`: each `$` command runs to its end; the lines after it are all it prints (stdout,
  then stderr); it exits with 0, or with N for `exit=N`.
- `shows`: the lines the terminal's running command prints next.
- `edit FILE`: a diff block; its `-` lines, in FILE, become its `+` lines.
- `stop`: a console block that starts with `^C`: Ctrl-C to the running command, then the
  lines it prints before it exits with 0.

A command line ending in ` \\` goes on on the next line. `flagkit` is the console script
of this venv, `python` this interpreter.
"""

from __future__ import annotations

import os
import queue
import re
import shlex
import signal
import subprocess
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from tests.helpers import FLAGKIT

__all__ = ["Command", "Step", "Terminal", "commands", "steps"]

_STEP = re.compile(
    r"<!-- walkthrough: (?P<terminal>\w+) (?P<action>start|run|shows|edit|stop)"
    r"(?: (?P<argument>\S+))? -->\n\n?```(?P<language>\w*)\n(?P<body>.*?)```",
    re.S,
)
_MARKER = "<!-- walkthrough:"
AWAIT_SECONDS = 30.0
"""How long a line the walkthrough shows may take to appear."""


@dataclass(frozen=True)
class Step:
    """One marked block."""

    terminal: str
    action: str
    argument: str | None
    body: str


@dataclass(frozen=True)
class Command:
    """A `$` command of a console block and the lines shown after it."""

    line: str
    output: tuple[str, ...]


def steps(markdown: str) -> list[Step]:
    """The marked blocks of `markdown`, in order; every marker must be one."""
    found = [
        Step(m["terminal"], m["action"], m["argument"], m["body"]) for m in _STEP.finditer(markdown)
    ]
    assert len(found) == markdown.count(_MARKER), "a walkthrough marker is not before a block"
    return found


def commands(body: str) -> list[Command]:
    """The `$` commands of a console block, continuation lines joined."""
    found: list[Command] = []
    line: str | None = None
    output: list[str] = []
    continued = False
    for text in body.splitlines():
        if continued:
            assert line is not None
            line += " " + text.strip()
        elif text.startswith("$ "):
            if line is not None:
                found.append(Command(line, tuple(output)))
            line, output = text[2:], []
        else:
            output.append(text)
        continued = text.endswith(" \\")
        if continued:
            assert line is not None
            line = line.removesuffix(" \\").rstrip()
    if line is not None:
        found.append(Command(line, tuple(output)))
    return found


class Terminal:
    """A terminal of the walkthrough: its environment and its one running command."""

    def __init__(self, cwd: Path, env: Mapping[str, str], extra: Mapping[str, list[str]]):
        """`extra`: arguments added to a command whose first two words are the key."""
        self._cwd = cwd
        self._env = dict(env)
        self._extra = extra
        self._process: subprocess.Popen[str] | None = None
        self._reader: threading.Thread | None = None
        self._lines: queue.Queue[str | None] = queue.Queue()

    def do(self, step: Step) -> None:
        """Carry `step` out, asserting what it says the reader sees."""
        if step.action == "edit":
            assert step.argument is not None
            self._edit(self._cwd / step.argument, step.body)
        elif step.action == "shows":
            self._expect(step.body.splitlines())
        elif step.action == "stop":
            self._stop(step.body.splitlines())
        else:
            for command in commands(step.body):
                if step.action == "run" or shlex.split(command.line)[0] == "export":
                    status = int((step.argument or "exit=0").removeprefix("exit="))
                    self._run(command, status)
                else:
                    self._start(command)

    @property
    def running(self) -> bool:
        """Whether a command still runs in this terminal."""
        return self._process is not None and self._process.poll() is None

    def kill(self) -> None:
        """End the running command, if any (after a failed step), and its output reader."""
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait()
        if self._reader is not None:
            self._reader.join(timeout=AWAIT_SECONDS)

    def _argv(self, line: str) -> list[str]:
        argv = shlex.split(line)
        argv += self._extra.get(" ".join(argv[:2]), [])
        executable = {"flagkit": str(FLAGKIT), "python": sys.executable}
        return [executable.get(argv[0], argv[0]), *argv[1:]]

    def _run(self, command: Command, status: int) -> None:
        argv = shlex.split(command.line)
        if argv[0] == "export":
            self._env.update(word.split("=", 1) for word in argv[1:])  # type: ignore[misc]
            assert command.output == ()
            return
        done = subprocess.run(
            self._argv(command.line),
            cwd=self._cwd,
            env=self._env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        shown = done.stdout.splitlines() + done.stderr.splitlines()
        assert (done.returncode, shown) == (status, list(command.output)), command.line

    def _start(self, command: Command) -> None:
        assert not self.running, "a terminal runs one command at a time"
        self._process = subprocess.Popen(
            self._argv(command.line),
            cwd=self._cwd,
            env=self._env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
        )
        self._reader = threading.Thread(target=self._read, args=(self._process,), daemon=True)
        self._reader.start()
        self._expect(list(command.output))

    def _read(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        with process.stdout:
            for line in process.stdout:
                self._lines.put(line.rstrip("\n"))
        self._lines.put(None)  # the end of its output

    def _expect(self, lines: list[str]) -> None:
        for expected in lines:
            try:
                seen = self._lines.get(timeout=AWAIT_SECONDS)
            except queue.Empty:
                raise AssertionError(f"waited {AWAIT_SECONDS} s for {expected!r}") from None
            assert seen == expected

    def _stop(self, lines: list[str]) -> None:
        assert lines[:1] == ["^C"]
        assert self._process is not None
        assert self.running
        self._process.send_signal(signal.SIGINT)
        self._expect(lines[1:])
        assert self._process.wait(timeout=AWAIT_SECONDS) == 0
        assert self._lines.get(timeout=AWAIT_SECONDS) is None, "it printed more than shown"

    @staticmethod
    def _edit(path: Path, diff: str) -> None:
        lines = diff.splitlines()
        old = "\n".join(line[1:] for line in lines if line.startswith("-"))
        new = "\n".join(line[1:] for line in lines if line.startswith("+"))
        text = path.read_text(encoding="utf-8")
        assert text.count(old) == 1, f"{path.name} does not hold the lines to edit once"
        path.write_text(text.replace(old, new), encoding="utf-8")


def quiet_environment(home: Path) -> dict[str, str]:
    """A terminal's environment before the walkthrough sets anything: no AWS credentials,
    configuration, endpoints or proxies from this machine."""
    keep = {name: os.environ[name] for name in ("PATH", "LANG") if name in os.environ}
    return keep | {
        "HOME": str(home),
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
        "NO_PROXY": "127.0.0.1",
    }
