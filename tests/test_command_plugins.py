"""Commands added to `flagkit` through the `flagkit.commands` entry points, by a real plugin.

Each test installs a tiny distribution (a module and its `.dist-info`) in a directory on
PYTHONPATH and runs the `flagkit` console script, as a user with that plugin would.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.conftest import EXAMPLES
from tests.helpers import run_flagkit

HELLO = """
import sys


def add_hello(commands):
    hello = commands.add_parser("hello", help="greet someone")
    hello.add_argument("--name", default="world")
    hello.set_defaults(run=run)


def run(args, out):
    if not args.name:
        print("flagkit hello: error: --name is empty", file=sys.stderr)
        return 2
    print(f"hello, {args.name}", file=out)
    return 0
"""


def install_plugin(site: Path, entry_points: str) -> None:
    """A distribution `hello-plugin` in `site`, with `hello_plugin.py` and these entry points."""
    (site / "hello_plugin.py").write_text(HELLO)
    info = site / "hello_plugin-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: hello-plugin\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[flagkit.commands]\n{entry_points}\n")


def flagkit(site: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The `flagkit` console script, with the distributions in `site` installed."""
    return run_flagkit(*args, env={**os.environ, "PYTHONPATH": str(site)})


def test_a_plugin_command_runs_with_its_options_and_exit_status(tmp_path: Path) -> None:
    install_plugin(tmp_path, "hello = hello_plugin:add_hello")

    greeted = flagkit(tmp_path, "hello", "--name", "acme")
    refused = flagkit(tmp_path, "hello", "--name", "")
    unknown = flagkit(tmp_path, "goodbye")

    assert (greeted.returncode, greeted.stdout, greeted.stderr) == (0, "hello, acme\n", "")
    assert (refused.returncode, refused.stdout) == (2, "")
    assert refused.stderr == "flagkit hello: error: --name is empty\n"
    assert unknown.stderr.endswith(  # after flagkit's own commands, in name order
        "flagkit: error: argument COMMAND: invalid choice: 'goodbye' (choose from 'validate', "
        "'eval', 'schema', 'explain', 'diff', 'appconfig-definition', 'push', 'rollback', "
        "'pull', 'appconfig-local', 'hello', 'serve')\n"
    )


def test_a_broken_plugin_is_left_out_with_a_warning(tmp_path: Path) -> None:
    install_plugin(tmp_path, "broken = no_such_module:add")

    validated = flagkit(tmp_path, "validate", str(EXAMPLES / "flags.json"))
    unknown = flagkit(tmp_path, "broken")

    warning = (
        "flagkit: warning: command 'broken' (no_such_module:add) cannot be loaded: "
        "ModuleNotFoundError: No module named 'no_such_module'\n"
    )
    assert validated.returncode == 0
    assert validated.stdout.startswith(f"{EXAMPLES / 'flags.json'}: ok, 6 flags (hash:")
    assert validated.stderr == warning
    assert unknown.returncode == 2
    assert unknown.stderr.startswith(warning + "usage: flagkit [-h] COMMAND ...\n")
    assert unknown.stderr.endswith(
        "flagkit: error: argument COMMAND: invalid choice: 'broken' (choose from 'validate', "
        "'eval', 'schema', 'explain', 'diff', 'appconfig-definition', 'push', 'rollback', "
        "'pull', 'appconfig-local', 'serve')\n"
    )
