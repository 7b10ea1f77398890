"""`flagkit appconfig-local`: the installed console script, serving on a free loopback port.

What it serves is read through the Agent path (plain HTTP) and the control plane (a real
boto3 client); its output is awaited line by line, never slept for.
"""

from __future__ import annotations

import json
import queue
import signal
import subprocess
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import pytest

from tests.conftest import EXAMPLES
from tests.control_cli import cli_env
from tests.helpers import FLAGKIT, run_flagkit, write

if TYPE_CHECKING:
    from mypy_boto3_appconfig import AppConfigClient

TARGET = "shop/prod/flags"
GOOD = json.loads((EXAMPLES / "flags.json").read_text(encoding="utf-8"))
BAD = {**GOOD, "bulkExport": {**GOOD["bulkExport"], "percentage": 250}}
"""The invalid document docs/local-appconfig.md shows."""


class Served:
    """A running `flagkit appconfig-local`, its output (stdout and stderr) line by line."""

    def __init__(self, *args: str | Path, cwd: Path) -> None:
        self.process = subprocess.Popen(
            [str(FLAGKIT), "appconfig-local", *map(str, args), "--port", "0"],
            cwd=cwd,
            env=cli_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.url = ""

    def _read(self) -> None:
        assert self.process.stdout is not None
        with self.process.stdout:
            for line in self.process.stdout:
                self._lines.put(line.rstrip("\n"))
        self._lines.put(None)

    def next_lines(self, count: int) -> list[str]:
        """The next `count` lines it prints (waiting for each up to 30 s)."""
        return [str(self._lines.get(timeout=30)) for _ in range(count)]

    def started(self, deployments: int) -> list[str]:
        """The lines of `deployments` deployments (or reports), once serving; sets `url`."""
        lines = self.next_lines(deployments + 4)
        self.url = lines[deployments].split(" on ")[1].split(";")[0]
        assert lines[deployments + 3] == "serving until Ctrl-C"
        return lines[:deployments]

    def agent(self, application: str = "shop") -> tuple[int, str, Any]:
        """(status, Configuration-Version, document) of the Agent path of shop/prod/flags."""
        url = f"{self.url}/applications/{application}/environments/prod/configurations/flags"
        try:
            with urllib.request.urlopen(url, timeout=10) as answer:  # noqa: S310 - loopback
                return answer.status, answer.headers["Configuration-Version"], json.load(answer)
        except urllib.error.HTTPError as error:
            with error:
                return error.code, "", error.read().decode()

    def stop(self, sig: signal.Signals = signal.SIGINT) -> list[str]:
        """Stop it with `sig`; the lines it printed until it exited (with 0)."""
        self.process.send_signal(sig)
        assert self.process.wait(timeout=30) == 0
        self._reader.join(timeout=30)
        rest = []
        while (line := self._lines.get(timeout=1)) is not None:
            rest.append(line)
        return rest

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self._reader.join(timeout=30)


def control_client(url: str) -> AppConfigClient:
    """A real boto3 `appconfig` client for the local AppConfig at `url`."""
    return boto3.client(
        "appconfig",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",  # noqa: S106 - dummy; the local AppConfig checks none
    )


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Any]:
    started: list[Served] = []

    def start(*args: str | Path) -> Served:
        started.append(Served(*args, cwd=tmp_path))
        return started[-1]

    yield start
    for served in started:
        served.kill()


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "example.com"])  # noqa: S104
def test_it_refuses_a_host_that_is_not_loopback(host: str) -> None:
    refused = run_flagkit("appconfig-local", "--host", host, "--port", "0")
    assert (refused.returncode, refused.stdout) == (2, "")
    assert refused.stderr == (
        f"flagkit appconfig-local: error: {host!r} is not a loopback address; the local "
        "AppConfig checks no credentials, so it listens on this machine only: use 127.0.0.1 "
        "(or ::1, or localhost)\n"
    )


def test_it_refuses_a_file_without_its_target() -> None:
    refused = run_flagkit("appconfig-local", "flags.json")
    assert refused.returncode == 2
    assert refused.stderr.endswith(
        "flagkit appconfig-local: error: argument APP/ENV/PROFILE=FILE: expected "
        "APP/ENV/PROFILE=FILE, got 'flags.json'\n"
    )


def test_an_invalid_file_is_not_deployed_and_the_last_good_version_keeps_serving(
    tmp_path: Path, serve: Any
) -> None:
    flags = write(tmp_path, "flags.json", GOOD)
    served = serve(f"{TARGET}=flags.json")
    assert served.started(1) == ["flags.json: deployed to shop/prod/flags as version 1"]

    write(tmp_path, "flags.json", BAD)
    assert served.next_lines(2) == [
        "flags.json: error: bulkExport.percentage: 250 is greater than the maximum of 100",
        "flags.json: not deployed; shop/prod/flags keeps serving version 1",
    ]
    assert served.agent() == (200, "1", GOOD)

    flags.write_text(json.dumps(GOOD, indent=4), encoding="utf-8")  # fixed (and reformatted)
    assert served.next_lines(1) == ["flags.json: deployed to shop/prod/flags as version 2"]
    assert served.agent() == (200, "2", GOOD)
    assert served.stop() == ["stopped"]


def test_an_invalid_file_at_start_deploys_nothing(tmp_path: Path, serve: Any) -> None:
    write(tmp_path, "flags.json", BAD)
    served = serve(f"{TARGET}=flags.json")
    assert served.started(2) == [
        "flags.json: error: bulkExport.percentage: 250 is greater than the maximum of 100",
        "flags.json: not deployed; nothing is deployed to shop/prod/flags",
    ]
    assert served.agent() == (
        404,
        "",
        "ResourceNotFoundException: 'flags' is not deployed to 'prod'",
    )


def test_a_changed_file_is_redeployed_and_served(tmp_path: Path, serve: Any) -> None:
    write(tmp_path, "flags.json", GOOD)
    served = serve(f"{TARGET}=flags.json")
    served.started(1)
    changed = {**GOOD, "newCheckout": {"enabled": True}}
    write(tmp_path, "flags.json", changed)
    assert served.next_lines(1) == ["flags.json: deployed to shop/prod/flags as version 2"]
    assert served.agent() == (200, "2", changed)
    assert served.stop(signal.SIGTERM) == ["stopped"]


def test_a_change_waits_for_the_deployment_in_progress(tmp_path: Path, serve: Any) -> None:
    """A push baking (AllAtOnce: 10 strategy minutes, here 10 x 0.2 s) holds a file back."""
    write(tmp_path, "flags.json", GOOD)
    served = serve(f"{TARGET}=flags.json", "--minute", "0.2")
    served.started(1)
    control = control_client(served.url)
    try:
        started = control.start_deployment(
            ApplicationId="app0001",
            EnvironmentId="env0002",
            ConfigurationProfileId="cfg0003",
            ConfigurationVersion="1",
            DeploymentStrategyId="AppConfig.AllAtOnce",
        )
        write(tmp_path, "flags.json", {**GOOD, "newCheckout": {"enabled": True}})
        assert served.next_lines(2) == [
            "flags.json: waiting to deploy to shop/prod/flags: Deployment 2 is in progress "
            "for environment env0002",
            "flags.json: deployed to shop/prod/flags as version 2",
        ]
        finished = control.get_deployment(
            ApplicationId="app0001", EnvironmentId="env0002", DeploymentNumber=2
        )
    finally:
        control.close()
    assert (started["State"], finished["State"]) == ("DEPLOYING", "COMPLETE")
    assert served.agent()[:2] == (200, "2")


def test_a_feature_flag_profile_stores_the_definition_and_serves_the_document(
    tmp_path: Path, serve: Any
) -> None:
    document = {"payments": {"enabled": True, "description": "kill switch"}}
    write(tmp_path, "flags.json", document)
    served = serve(f"{TARGET}=flags.json", "--type", "feature-flags")
    served.started(1)
    control = control_client(served.url)
    try:
        (profile,) = control.list_configuration_profiles(ApplicationId="app0001")["Items"]
        stored = control.get_hosted_configuration_version(
            ApplicationId="app0001", ConfigurationProfileId="cfg0003", VersionNumber=1
        )["Content"].read()
    finally:
        control.close()
    assert profile["Type"] == "AWS.AppConfig.FeatureFlags"
    assert json.loads(stored)["values"] == {"payments": {"enabled": True}}
    assert served.agent() == (200, "1", document)
