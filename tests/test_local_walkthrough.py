"""docs/local-appconfig.md's five-minute walkthrough, run as the reader runs it.

Every marked command of the page runs for real, in order, in the terminal the page names:
`flagkit appconfig-local` and the example application in the background, their output
awaited line by line; `pull`, `diff`, `push` and `rollback` through the console script,
their whole output compared with the page's. The only change made to the page is the
port: a free one instead of 2772, which another program on this machine may hold.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from tests.appconfig_fixtures import free_port
from tests.conftest import EXAMPLES, REPO
from tests.walkthrough import Terminal, quiet_environment, steps

PAGE = REPO / "docs" / "local-appconfig.md"


def test_the_walkthrough_runs_as_the_page_shows(tmp_path: Path) -> None:
    port = free_port()
    page = PAGE.read_text(encoding="utf-8").replace("127.0.0.1:2772", f"127.0.0.1:{port}")
    shutil.copytree(EXAMPLES, tmp_path / "examples")
    extra = {"flagkit appconfig-local": ["--port", str(port)]}
    terminals: dict[str, Terminal] = {}
    walkthrough = steps(page)
    assert [(step.terminal, step.action) for step in walkthrough] == [
        ("server", "start"),
        ("app", "start"),
        ("pm", "run"),
        ("pm", "edit"),
        ("pm", "run"),
        ("pm", "run"),
        ("app", "shows"),
        ("pm", "run"),
        ("app", "shows"),
        ("app", "stop"),
        ("server", "stop"),
    ]
    began = time.monotonic()
    try:
        for step in walkthrough:
            terminal = terminals.setdefault(
                step.terminal, Terminal(tmp_path, quiet_environment(tmp_path), extra)
            )
            terminal.do(step)
    finally:
        for terminal in terminals.values():
            terminal.kill()
    assert not any(terminal.running for terminal in terminals.values())
    assert time.monotonic() - began < 45  # five minutes for a reader, seconds for a test
