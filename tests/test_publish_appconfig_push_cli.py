"""The `flagkit push` command, against a loopback stub of AppConfig's control plane.

The stub (tests/appconfig_control_stub.py) implements what moto lacks: the list calls,
deployments and the LatestVersionNumber lock; the last test holds it to moto's answers
where both implement an operation.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import pytest

from flagkit.publish import FEATURE_FLAGS_TYPE, appconfig_definition
from tests.appconfig_control_stub import AppConfigControlStub
from tests.control_cli import flagkit_cli, on_terminal
from tests.helpers import run_flagkit, write
from tests.publish_data import BOOL_NEW, BOOL_OLD, NOT_UNICODE, TENANTS_FILE

if TYPE_CHECKING:
    from mypy_boto3_appconfig import AppConfigClient


@pytest.fixture
def control() -> Iterator[AppConfigControlStub]:
    with AppConfigControlStub() as served:
        yield served


def push_cli(control: AppConfigControlStub, *args: str | Path) -> subprocess.CompletedProcess[str]:
    return flagkit_cli(control, "push", *args)


def test_cli_push_creates_and_deploys_a_first_version(
    tmp_path: Path, control: AppConfigControlStub
) -> None:
    app = control.add_application("shop")
    env = control.add_environment(app, "prod")
    profile = control.add_profile(app, "flags")
    source = write(tmp_path, "flags.json", BOOL_NEW)
    result = push_cli(
        control, source, "--application", "shop", "--environment", "prod", "--profile", "flags",
        "--yes",
    )  # fmt: skip
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
        "--yes",
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
        control, source, "--application", "shop", "--environment", "prod", "--profile", "flags",
        "--yes",
    )  # fmt: skip
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


# -- push is careful: nothing to deploy, confirmation -------------------------------------------


def deployed_profile(
    control: AppConfigControlStub, kind: str, stored: bytes
) -> tuple[str, str, str]:
    """Application 'shop', environment 'prod', profile 'flags' of `kind`, with `stored` as
    version 1 deployed (COMPLETE); their ids."""
    app = control.add_application("shop")
    env = control.add_environment(app, "prod")
    profile = control.add_profile(app, "flags", kind)
    control.add_version(app, profile, stored)
    control.add_deployment(app, env, profile, 1)
    return app, env, profile


TARGET = ("--application", "shop", "--environment", "prod", "--profile", "flags")


def console_saved(document: dict[str, Any]) -> str:
    """The definition of `document` as the console saves it: timestamped, compact, sorted."""
    definition = appconfig_definition(document)
    for part in ("flags", "values"):
        for entry in definition[part].values():
            entry |= {"_createdAt": "2024-05-01T10:00:00Z", "_updatedAt": "2024-05-02T09:30:00Z"}
    return json.dumps(definition, sort_keys=True)


@pytest.mark.parametrize(
    ("kind", "stored"),
    [
        (FEATURE_FLAGS_TYPE, console_saved(BOOL_OLD)),
        ("AWS.Freeform", '{"featureA":{"tenants":["acme"],"enabled":true}}'),
    ],
    ids=["feature-flags", "freeform"],
)
def test_cli_push_of_the_deployed_document_deploys_nothing_unless_forced(
    tmp_path: Path, control: AppConfigControlStub, kind: str, stored: str
) -> None:
    app, env, _ = deployed_profile(control, kind, stored.encode())
    source = write(tmp_path, "flags.json", BOOL_OLD)
    result = push_cli(control, source, *TARGET)  # no --yes: nothing to confirm
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.splitlines()[1:] == [
        "compared with: deployed version 1",
        "summary: no flag differs; no tenants given, so which tenants are affected is unknown",
        f"nothing to deploy: {source} equals deployed version 1 (pass --force to deploy it again)",
    ]
    assert [r.method for r in control.requests] == ["GET"] * len(control.requests)

    forced = push_cli(control, source, *TARGET, "--force", "--yes")
    assert forced.returncode == 0, forced.stderr
    assert forced.stdout.splitlines()[-2:] == [
        "created: hosted configuration version 2 of profile 'flags'",
        "deployed: deployment 2 of version 2 to environment 'prod' with AppConfig.AllAtOnce "
        "(state DEPLOYING)",
    ]
    assert [d["ConfigurationVersion"] for d in control.deployments(app, env)] == ["1", "2"]


def test_cli_push_of_the_deployed_document_warns_of_no_gradual_strategy(
    tmp_path: Path, control: AppConfigControlStub
) -> None:
    """Nothing is deployed, so there is no gradual deployment to warn about."""
    deployed_profile(control, "AWS.Freeform", json.dumps(BOOL_OLD).encode())
    source = write(tmp_path, "flags.json", BOOL_OLD)
    gradual = "AppConfig.Linear50PercentEvery30Seconds"
    result = push_cli(control, source, *TARGET, "--strategy", gradual)
    assert (result.returncode, result.stderr) == (0, "")
    assert not [line for line in result.stdout.splitlines() if line.startswith("warning:")]
    assert result.stdout.splitlines()[-1].startswith("nothing to deploy: ")


def test_cli_push_compares_a_feature_flag_profile_in_its_own_form(
    tmp_path: Path, control: AppConfigControlStub
) -> None:
    """A definition whose attribute constraints differ (looser, as an older flagkit or the
    console wrote them) is not the deployed one, though both read as the same document."""
    definition = appconfig_definition(BOOL_OLD)
    del definition["flags"]["featureA"]["attributes"]["percentage"]["constraints"]
    app, env, _ = deployed_profile(control, FEATURE_FLAGS_TYPE, json.dumps(definition).encode())
    source = write(tmp_path, "flags.json", BOOL_OLD)
    result = push_cli(control, source, *TARGET, "--yes")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[2:] == [
        "summary: no flag differs; no tenants given, so which tenants are affected is unknown",
        "created: hosted configuration version 2 of profile 'flags'",
        "deployed: deployment 2 of version 2 to environment 'prod' with AppConfig.AllAtOnce "
        "(state DEPLOYING)",
    ]
    assert [d["ConfigurationVersion"] for d in control.deployments(app, env)] == ["1", "2"]


def test_cli_push_without_a_terminal_or_yes_refuses_after_showing_the_impact(
    tmp_path: Path, control: AppConfigControlStub
) -> None:
    app, _, profile = deployed_profile(control, "AWS.Freeform", json.dumps(BOOL_OLD).encode())
    source = write(tmp_path, "flags.json", BOOL_NEW)
    result = push_cli(control, source, *TARGET)
    assert result.returncode == 2
    assert result.stdout.splitlines()[1:] == [
        "compared with: deployed version 1",
        "featureA: changed: percentage, tenants",
        "summary: 1 flag differs (0 added, 0 removed, 1 changed); no tenants given, so which "
        "tenants are affected is unknown",
    ]
    assert result.stderr == (
        "flagkit push: error: not changing anything without a confirmation: stdin is not a "
        "terminal, so there is no one to ask; pass --yes to go ahead without asking, or "
        "--dry-run to see the impact only\n"
    )
    assert [r.method for r in control.requests] == ["GET"] * len(control.requests)
    assert len(control.versions(app, profile)) == 1


@pytest.mark.parametrize(
    ("answer", "status", "ending", "versions"),
    [
        ("y", 0, "deployed: deployment 2 of version 2 to environment 'prod' with "
         "AppConfig.AllAtOnce (state DEPLOYING)", [1, 2]),
        ("yes", 0, "deployed: deployment 2 of version 2 to environment 'prod' with "
         "AppConfig.AllAtOnce (state DEPLOYING)", [1, 2]),
        ("sure", 1, "cancelled: nothing created or deployed", [1]),
    ],
)  # fmt: skip
def test_cli_push_on_a_terminal_asks_before_deploying(
    tmp_path: Path,
    control: AppConfigControlStub,
    answer: str,
    status: int,
    ending: str,
    versions: list[int],
) -> None:
    app, env, profile = deployed_profile(control, "AWS.Freeform", json.dumps(BOOL_OLD).encode())
    source = write(tmp_path, "flags.json", BOOL_NEW)
    terminal = on_terminal(control, answer, "push", source, *TARGET)
    assert terminal.before_answer.splitlines()[-1] == (
        "Deploy version 2 to prod with AppConfig.AllAtOnce? [y/N] "
    )
    assert "featureA: changed: percentage, tenants" in terminal.before_answer
    assert terminal.after_answer.splitlines()[-1] == ending
    assert terminal.returncode == status
    assert [number for number, _, _ in control.versions(app, profile)] == versions
    assert len(control.deployments(app, env)) == len(versions)


def test_cli_push_while_a_deployment_is_in_progress_creates_nothing(
    tmp_path: Path, control: AppConfigControlStub
) -> None:
    app, env, profile = deployed_profile(control, "AWS.Freeform", json.dumps(BOOL_OLD).encode())
    control.add_version(app, profile, json.dumps({"other": {"enabled": True}}).encode())
    control.add_deployment(app, env, profile, 2, state="DEPLOYING")
    source = write(tmp_path, "flags.json", BOOL_NEW)
    result = push_cli(control, source, *TARGET, "--yes")
    assert result.returncode == 1
    assert result.stdout.splitlines()[1] == "compared with: deployed version 2"
    assert result.stderr == (
        "flagkit push: error: deployment 2 to environment 'prod' is DEPLOYING (20% of clients); "
        "AppConfig takes one deployment per environment at a time, so nothing was created or "
        "deployed: wait for it to end, or stop it, then re-run flagkit push\n"
    )
    assert [number for number, _, _ in control.versions(app, profile)] == [1, 2]
