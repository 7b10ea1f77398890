"""The `flagkit push` command, against a loopback stub of AppConfig's control plane.

The stub (tests/appconfig_control_stub.py) implements what moto lacks: the list calls,
deployments and the LatestVersionNumber lock; the last test holds it to moto's answers
where both implement an operation.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import boto3
import pytest

from flagkit.publish import FEATURE_FLAGS_TYPE, appconfig_definition
from tests.appconfig_control_stub import AppConfigControlStub
from tests.helpers import run_flagkit, write
from tests.publish_data import BOOL_NEW, BOOL_OLD, NOT_UNICODE, TENANTS_FILE

if TYPE_CHECKING:
    from mypy_boto3_appconfig import AppConfigClient


@pytest.fixture
def control() -> Iterator[AppConfigControlStub]:
    with AppConfigControlStub() as served:
        yield served


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


def push_cli(control: AppConfigControlStub, *args: str | Path) -> subprocess.CompletedProcess[str]:
    return run_flagkit(
        "push", *args, "--endpoint-url", control.url, "--region", "us-east-1", env=cli_env()
    )


def test_cli_push_creates_and_deploys_a_first_version(
    tmp_path: Path, control: AppConfigControlStub
) -> None:
    app = control.add_application("shop")
    env = control.add_environment(app, "prod")
    profile = control.add_profile(app, "flags")
    source = write(tmp_path, "flags.json", BOOL_NEW)
    result = push_cli(
        control, source, "--application", "shop", "--environment", "prod", "--profile", "flags"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"target: application 'shop' ({app}), environment 'prod' ({env}), profile 'flags' "
        f"({profile}, AWS.Freeform)",
        "compared with: nothing (the profile has no version yet)",
        "featureA: added",
        "summary: 1 flag differs (1 added, 0 removed, 0 changed); no tenants given, so which "
        "tenants are affected is unknown",
        "created: hosted configuration version 1 of profile 'flags'",
        "deployed: deployment 1 of version 1 to environment 'prod' with AppConfig.AllAtOnce "
        "(state DEPLOYING)",
    ]
    ((number, content, content_type),) = control.versions(app, profile)
    assert (number, json.loads(content), content_type) == (1, BOOL_NEW, "application/json")
    (created,) = [r for r in control.requests if r.method == "POST" and "hosted" in r.path]
    assert "Latest-Version-Number" not in created.headers


def test_cli_push_to_a_feature_flag_profile_diffs_against_the_deployed_version(
    tmp_path: Path, control: AppConfigControlStub
) -> None:
    app = control.add_application("shop")
    env = control.add_environment(app, "prod")
    profile = control.add_profile(app, "flags", FEATURE_FLAGS_TYPE)
    control.add_version(app, profile, json.dumps(appconfig_definition(BOOL_OLD)).encode())
    control.add_deployment(app, env, profile, 1)
    control.add_version(app, profile, json.dumps(appconfig_definition(BOOL_OLD)).encode())
    canary = control.add_strategy("canary")
    source = write(tmp_path, "flags.json", BOOL_NEW)
    tenants = write(tmp_path, "tenants.txt", TENANTS_FILE)
    result = push_cli(
        control,
        source,
        "--application",
        app,
        "--environment",
        "prod",
        "--profile",
        "flags",
        "--strategy",
        "canary",
        "--tenants",
        tenants,
        "--description",
        "globex joins",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[1:] == [
        "compared with: deployed version 1 (the latest version is 2)",
        "featureA: +1 tenant (changed: percentage, tenants)",
        "  + globex",
        "summary: 1 flag differs (0 added, 0 removed, 1 changed); "
        "a different answer for 1 of 4 tenants",
        "created: hosted configuration version 3 of profile 'flags'",
        f"deployed: deployment 2 of version 3 to environment 'prod' with canary ({canary}) "
        "(state DEPLOYING)",
    ]
    (created,) = [r for r in control.requests if r.method == "POST" and "hosted" in r.path]
    assert created.headers["Latest-Version-Number"] == "2"
    assert json.loads(created.body) == appconfig_definition(BOOL_NEW)
    assert control.deployments(app, env)[-1]["Description"] == "globex joins"


def test_cli_push_dry_run_creates_nothing(tmp_path: Path, control: AppConfigControlStub) -> None:
    app = control.add_application("shop")
    control.add_environment(app, "prod")
    profile = control.add_profile(app, "flags")
    control.add_version(app, profile, json.dumps(BOOL_OLD).encode())
    source = write(tmp_path, "flags.json", BOOL_NEW)
    result = push_cli(
        control, source, "--application", "shop", "--environment", "prod", "--profile", "flags",
        "--dry-run",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == (
        "dry run: nothing created; push would create a hosted configuration version after "
        "version 1 and deploy it to environment 'prod' with AppConfig.AllAtOnce"
    )
    assert [r.method for r in control.requests] == ["GET"] * len(control.requests)
    assert len(control.versions(app, profile)) == 1


def test_cli_push_that_loses_a_race_exits_1_and_says_to_rerun(
    tmp_path: Path, control: AppConfigControlStub
) -> None:
    app = control.add_application("shop")
    env = control.add_environment(app, "prod")
    profile = control.add_profile(app, "flags")
    control.add_version(app, profile, json.dumps(BOOL_OLD).encode())
    control.before_create = lambda a, p: control.add_version(a, p, b'{"other": {"enabled": true}}')
    source = write(tmp_path, "flags.json", BOOL_NEW)
    result = push_cli(
        control, source, "--application", "shop", "--environment", "prod", "--profile", "flags"
    )
    assert result.returncode == 1
    assert result.stderr == (
        f"flagkit push: error: another hosted configuration version of profile 'flags' "
        f"({profile}) was created since this push read the latest one (version 1), so nothing "
        "was created or deployed; re-run flagkit push to review the impact against the new "
        "version (AppConfig: LatestVersionNumber 1 does not match the latest version 2)\n"
    )
    assert [number for number, _, _ in control.versions(app, profile)] == [1, 2]
    assert control.deployments(app, env) == []


def test_cli_push_refuses_an_invalid_document_before_calling_appconfig(
    tmp_path: Path, control: AppConfigControlStub
) -> None:
    bad = write(tmp_path, "bad.json", {"a": {"enabled": "yes"}})
    result = push_cli(control, bad, "--application", "s", "--environment", "e", "--profile", "p")
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == f"{bad}: error: a.enabled: \"yes\" is not of type 'boolean'\n"
    assert control.requests == []


def test_cli_refuses_an_escaped_lone_surrogate_instead_of_crashing(
    tmp_path: Path, control: AppConfigControlStub
) -> None:
    """`validate` takes `"\\ud800"` (only a salt must be hashable); publishing cannot."""
    source = write(tmp_path, "flags.json", '{"a": {"enabled": true, "tiers": ["\\ud800"]}}')
    expected = f"{source}: error: a.tiers[0]: {NOT_UNICODE}\n"
    definition = run_flagkit("appconfig-definition", source, "--output", tmp_path / "out.json")
    assert (definition.returncode, definition.stdout, definition.stderr) == (1, "", expected)
    assert not (tmp_path / "out.json").exists()
    pushed = push_cli(control, source, "--application", "s", "--environment", "e", "--profile", "p")
    assert (pushed.returncode, pushed.stdout, pushed.stderr) == (1, "", expected)
    assert control.requests == []


def test_cli_push_names_what_exists_when_a_name_is_wrong(
    tmp_path: Path, control: AppConfigControlStub
) -> None:
    app = control.add_application("shop")
    env = control.add_environment(app, "prod")
    source = write(tmp_path, "flags.json", BOOL_NEW)
    result = push_cli(
        control, source, "--application", "shop", "--environment", "staging", "--profile", "f"
    )
    assert result.returncode == 1
    assert result.stderr == (
        f"flagkit push: error: no environment 'staging' in application 'shop' ({app}); expected "
        f"the name or id of one of: prod ({env})\n"
    )


def test_the_loopback_stub_answers_like_moto_where_both_implement_appconfig(
    moto_client: AppConfigClient, control: AppConfigControlStub
) -> None:
    """The operations both implement give the same answers (ids aside), through real boto3."""
    stub_client = boto3.client("appconfig", region_name="us-east-1", endpoint_url=control.url)
    try:
        answers = []
        for client in (moto_client, stub_client):
            app = control.add_application("shop") if client is stub_client else None
            if app is None:
                app = client.create_application(Name="shop")["Id"]
            if client is stub_client:
                profile = control.add_profile(app, "flags", FEATURE_FLAGS_TYPE)
            else:
                profile = client.create_configuration_profile(
                    ApplicationId=app, Name="flags", LocationUri="hosted", Type=FEATURE_FLAGS_TYPE
                )["Id"]
            listed = client.list_configuration_profiles(ApplicationId=app)["Items"]
            created = client.create_hosted_configuration_version(
                ApplicationId=app,
                ConfigurationProfileId=profile,
                Content=b'{"version": "1"}',
                ContentType="application/json",
                Description="first",
            )
            with created["Content"] as echoed:
                created_body = echoed.read()
            got = client.get_hosted_configuration_version(
                ApplicationId=app, ConfigurationProfileId=profile, VersionNumber=1
            )
            with got["Content"] as stored:
                got_body = stored.read()
            answers.append(
                (
                    [(p["Name"], p["LocationUri"], p["Type"]) for p in listed],
                    created["VersionNumber"],
                    created_body,
                    got["VersionNumber"],
                    got["ContentType"],
                    got["Description"],
                    got_body,
                )
            )
        assert answers[0] == answers[1]
    finally:
        stub_client.close()
