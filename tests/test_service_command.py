"""`flagkit serve` and `python -m service` (`service.command`), run as processes.

The same options, checks and exit statuses either way; only the prefix of the errors
names the command typed. Without the service extra both say which extra to install.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence

import pytest

from tests.conftest import EXAMPLES, REPO
from tests.helpers import FLAGKIT, run_command
from tests.service_server import PYTHON_M_SERVICE, SERVE, cli_environment, serve_cli

WITHOUT_MODULES = REPO / "tests" / "without_modules.py"
COMMANDS = pytest.mark.parametrize(
    ("command", "prog"),
    [(SERVE, "flagkit serve"), (PYTHON_M_SERVICE, "python -m service")],
    ids=["flagkit-serve", "python-m-service"],
)


def run(
    command: Sequence[str], env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`command` run to the end, with no FLAGKIT_* setting but `env`'s."""
    return run_command(command, env=cli_environment(env or {}), timeout=30)


@COMMANDS
@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (
            ["--source", str(EXAMPLES / "flags.json"), "--host", "0.0.0.0"],  # noqa: S104 - refused
            {},
            "error: refusing to listen on 0.0.0.0 without API keys; set "
            "FLAGKIT_API_KEYS (or FLAGKIT_API_KEYS_FILE), or pass --allow-unauthenticated\n",
        ),
        (
            [],
            {},
            "error: no source: give --source or set FLAGKIT_SOURCE (a file path, "
            "appconfig://APPLICATION/ENVIRONMENT/PROFILE or agent://APPLICATION/ENVIRONMENT/PROFILE)\n",
        ),
        (
            ["--source", "appconfig://shop/prod"],
            {},
            "error: source 'appconfig://shop/prod' must look like "
            "appconfig://APPLICATION/ENVIRONMENT/PROFILE\n",
        ),
        (
            ["--source", str(EXAMPLES / "flags.json")],
            {"FLAGKIT_MAX_BODY_BYTES": "64k"},
            "error: FLAGKIT_MAX_BODY_BYTES must be an integer, got '64k'\n",
        ),
    ],
    ids=["public-host-without-keys", "no-source", "bad-source", "bad-setting"],
)
def test_serve_refuses_bad_usage_before_listening(
    command: Sequence[str], prog: str, args: list[str], env: dict[str, str], message: str
) -> None:
    finished = run([*command, "--port", "0", *args], env)

    assert finished.returncode == 2
    assert finished.stderr == f"{prog}: {message}"  # nothing else: no server was started
    assert finished.stdout == ""


def test_python_m_service_takes_the_options_of_flagkit_serve() -> None:
    serve_help = run([*SERVE, "--help"])
    module_help = run([*PYTHON_M_SERVICE, "--help"])

    assert (serve_help.returncode, module_help.returncode) == (0, 0)
    options = serve_help.stdout.split("\noptions:\n", 1)[1]
    assert "--allow-unauthenticated" in options
    assert module_help.stdout.split("\noptions:\n", 1)[1] == options
    assert module_help.stdout.startswith("usage: python -m service [-h] [--source SOURCE]")


def test_python_m_service_serves_the_example() -> None:
    with (
        serve_cli("--source", str(EXAMPLES / "flags.json"), command=PYTHON_M_SERVICE) as server,
        server.client() as client,
    ):
        acme = client.get("/v1/flags/bulkExport", params={"tenant": "acme"}).json()
        umbrella = client.get("/v1/flags/bulkExport", params={"tenant": "umbrella"}).json()
    assert (acme["value"], acme["rule"]) == (True, "static")
    assert (umbrella["value"], umbrella["rule"]) == (False, "excludedTenants")


# -- without the service extra ---------------------------------------------------------------


def without(refused: str, *command: str) -> subprocess.CompletedProcess[str]:
    """`command` in a fresh interpreter where the `refused` modules cannot be imported."""
    return run([sys.executable, "-P", str(WITHOUT_MODULES), refused, *command])


@pytest.mark.parametrize(
    ("refused", "missing"),
    [("fastapi,uvicorn", "uvicorn"), ("uvicorn", "uvicorn"), ("fastapi", "fastapi")],
)
@pytest.mark.parametrize(
    ("command", "prog"),
    [(["flagkit", "serve"], "flagkit serve"), (["-m", "service"], "python -m service")],
    ids=["flagkit-serve", "python-m-service"],
)
def test_without_the_extra_serve_says_which_to_install(
    command: list[str], prog: str, refused: str, missing: str
) -> None:
    finished = without(refused, *command, "--source", str(EXAMPLES / "flags.json"), "--port", "0")

    assert finished.returncode == 2
    assert finished.stderr == (
        f"{prog}: error: {missing} is not installed; install the service extra: "
        "pip install 'flagkit-engine[service]'\n"
    )
    assert finished.stdout == ""


def test_without_the_extra_the_other_commands_work() -> None:
    listed = without("fastapi,uvicorn", "flagkit", "--help")
    validated = without("fastapi,uvicorn", "flagkit", "validate", str(EXAMPLES / "flags.json"))

    assert listed.returncode == 0, listed.stderr
    assert "serve flags over HTTP" in listed.stdout  # the entry point loads without the extra
    assert validated.returncode == 0, validated.stderr
    assert validated.stdout.startswith(f"{EXAMPLES / 'flags.json'}: ok, 6 flags (hash:")
    assert (listed.stderr, validated.stderr) == ("", "")


def test_the_console_script_is_the_one_the_tests_run() -> None:
    """`without_modules.py flagkit` runs the console script's entry point: the same program."""
    direct = run([str(FLAGKIT), "serve", "--port", "x"])
    wrapped = without("nothing", "flagkit", "serve", "--port", "x")
    assert direct.returncode == wrapped.returncode == 2
    assert direct.stderr == wrapped.stderr
    assert direct.stderr.endswith("flagkit serve: error: argument --port: invalid int value: 'x'\n")
