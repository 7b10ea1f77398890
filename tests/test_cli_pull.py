"""`flagkit pull`: the installed console script against the loopback AppConfig endpoint.

The Data API is read by a real boto3 client (`--endpoint-url`), the Agent path by
flagkit's own urllib code (`--agent URL`), both over HTTP on 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from flagkit.cli.appconfig import write_atomically
from tests.appconfig_endpoint import AppConfigEndpoint
from tests.appconfig_fixtures import APP, ENV, PROFILE
from tests.conftest import REPO
from tests.control_cli import cli_env
from tests.helpers import run_command, run_flagkit

V1: dict[str, Any] = {
    "_segments": {"beta": ["acme", "globex"]},
    "payments": {"enabled": True},
    "featureA": {"enabled": True, "requires": ["payments"], "segments": ["beta"], "percentage": 25},
}
INVALID: dict[str, Any] = {
    "payments": {"enabled": True},
    "featureA": {"enabled": True, "requires": ["paymnts"], "percentage": 12.345},
}
TARGET = f"{APP}/{ENV}/{PROFILE}"
VIA = {"data-api": "appconfig", "agent": "agent"}


def pull(
    endpoint: AppConfigEndpoint, via: str, *args: str | Path
) -> subprocess.CompletedProcess[str]:
    """`flagkit pull` through the endpoint's Data API or its Agent path."""
    if via == "agent":
        where: list[str | Path] = ["--agent", endpoint.url]
    else:
        where = ["--endpoint-url", endpoint.url, "--region", "us-east-1"]
    return run_flagkit("pull", *args, *where, env=cli_env())


def pretty(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


@pytest.mark.parametrize("via", VIA)
def test_pull_writes_the_deployed_document(
    endpoint: AppConfigEndpoint, tmp_path: Path, via: str
) -> None:
    endpoint.deploy(APP, ENV, PROFILE, {"payments": {"enabled": False}})
    endpoint.deploy(APP, ENV, PROFILE, V1)
    out = tmp_path / "deployed.json"
    result = pull(endpoint, via, TARGET, "--output", out)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == f"{VIA[via]}://{TARGET}: wrote {out} (2 flags, version 2)\n"
    assert out.read_text(encoding="utf-8") == pretty(V1)
    assert run_flagkit("validate", out).returncode == 0
    assert os.listdir(tmp_path) == ["deployed.json"]  # no temporary left


@pytest.mark.parametrize("via", VIA)
def test_pull_refuses_an_invalid_document_and_keeps_the_file(
    endpoint: AppConfigEndpoint, tmp_path: Path, via: str
) -> None:
    out = tmp_path / "flags.json"
    out.write_text(pretty(V1), encoding="utf-8")
    endpoint.deploy(APP, ENV, PROFILE, INVALID)
    result = pull(endpoint, via, TARGET, "--output", out)
    source = f"{VIA[via]}://{TARGET} (version 1)"
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.splitlines() == [
        f"{source}: error: featureA.percentage: 12.345 has more than two decimal places "
        "(steps of 0.01)",
        f'{source}: error: featureA.requires[0]: unknown flag "paymnts"',
        f"flagkit pull: error: the deployed document is not valid; {out} was not written",
    ]
    assert out.read_text(encoding="utf-8") == pretty(V1)
    assert sorted(os.listdir(tmp_path)) == ["flags.json"]


@pytest.mark.parametrize("via", VIA)
def test_pull_writes_the_retrieval_format_of_a_stored_feature_flag_document(
    endpoint: AppConfigEndpoint, tmp_path: Path, via: str
) -> None:
    stored = {
        "version": "1",
        "flags": {"checkout": {"name": "checkout", "description": "New checkout."}},
        "values": {"checkout": {"enabled": True, "tenants": ["acme"]}},
    }
    endpoint.deploy(APP, ENV, PROFILE, stored)
    out = tmp_path / "flags.json"
    assert pull(endpoint, via, TARGET, "-o", out).returncode == 0
    assert json.loads(out.read_text(encoding="utf-8")) == {
        "checkout": {"enabled": True, "description": "New checkout.", "tenants": ["acme"]}
    }


def test_pull_says_what_appconfig_does_not_know(
    endpoint: AppConfigEndpoint, tmp_path: Path
) -> None:
    endpoint.deploy(APP, ENV, PROFILE, V1)
    out = tmp_path / "flags.json"
    unknown = "ConfigurationProfile 'nope' could not be found."  # the endpoint's wording
    result = pull(endpoint, "agent", f"{APP}/{ENV}/nope", "--output", out)
    assert (result.returncode, result.stdout, result.stderr) == (
        1,
        "",
        f"flagkit pull: error: agent://{APP}/{ENV}/nope: the AppConfig Agent at {endpoint.url} "
        f"answered 404 Not Found: ResourceNotFoundException: {unknown}\n",
    )
    result = pull(endpoint, "data-api", f"{APP}/{ENV}/nope", "--output", out)
    assert (result.returncode, result.stdout, result.stderr) == (
        1,
        "",
        f"flagkit pull: error: appconfig://{APP}/{ENV}/nope: StartConfigurationSession failed: "
        f"ResourceNotFoundException: {unknown} (application '{APP}', environment '{ENV}', "
        "profile 'nope')\n",
    )
    assert not out.exists()


def test_pull_without_boto3_says_which_extra_to_install(tmp_path: Path) -> None:
    without = REPO / "tests" / "without_modules.py"
    command: list[str | Path] = [sys.executable, without, "boto3,botocore", "flagkit", "pull"]
    result = run_command([*command, TARGET, "-o", tmp_path / "f.json"], env=cli_env())
    assert (result.returncode, result.stdout, result.stderr) == (
        2,
        "",
        "flagkit pull: error: boto3 is not installed; install the aws extra: "
        "pip install 'flagkit-engine[aws]' (or read through the AppConfig Agent with --agent)\n",
    )


def test_pull_without_a_region_says_how_to_give_one(tmp_path: Path) -> None:
    env = cli_env()
    result = run_flagkit("pull", TARGET, "--output", tmp_path / "f.json", env=env)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (
        "flagkit pull: error: no AWS region for AppConfig: pass --region or set AWS_REGION\n"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["app/prod", "-o", "f.json"], "expected APPLICATION/ENVIRONMENT/PROFILE, got 'app/prod'"),
        (
            ["app//flags", "-o", "f.json"],
            "expected APPLICATION/ENVIRONMENT/PROFILE, got 'app//flags'",
        ),
        (
            [TARGET, "-o", "f.json", "--agent", "--region", "us-east-1"],
            "--endpoint-url and --region are for the Data API; --agent reads the agent",
        ),
    ],
)
def test_pull_usage_errors_exit_2(args: list[str], message: str) -> None:
    result = run_flagkit("pull", *args, env=cli_env())
    assert (result.returncode, result.stdout, result.stderr) == (
        2,
        "",
        f"flagkit pull: error: {message}\n",
    )


def test_write_atomically_keeps_the_mode_and_leaves_nothing_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "flags.json"
    target.write_text("old", encoding="utf-8")
    target.chmod(0o640)
    write_atomically(str(target), "new")
    assert (target.read_text(encoding="utf-8"), target.stat().st_mode & 0o777) == ("new", 0o640)
    with pytest.raises(IsADirectoryError):
        write_atomically(str(tmp_path), "x")  # a rename cannot replace a directory
    assert sorted(os.listdir(tmp_path)) == ["flags.json"]
