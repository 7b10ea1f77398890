"""`flagkit push --wait` and `flagkit rollback`, against the loopback control-plane stub.

The stub's clock is frozen and moves only when the command asks GetDeployment
(`advance_on_get_deployment`), so a 2-minute deployment with a 1-minute bake is followed
poll by poll, and the progress lines are exactly predictable.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from flagkit.local_appconfig.deployments import Deployment
from tests.appconfig_control_stub import AppConfigControlStub
from tests.control_cli import flagkit_cli, on_terminal
from tests.helpers import write
from tests.publish_data import BOOL_NEW, BOOL_OLD

TARGET = ("--application", "shop", "--environment", "prod", "--profile", "flags")
FAST = ("--poll-interval", "0.01")
V3 = {"featureA": {"enabled": False}}


@pytest.fixture
def control() -> Iterator[AppConfigControlStub]:
    with AppConfigControlStub(clock=lambda: 0.0, advance_on_get_deployment=30) as served:
        yield served


def shop(control: AppConfigControlStub, *documents: object) -> tuple[str, str, str]:
    """'shop'/'prod'/'flags' (freeform) with one version per document, each deployed in turn
    (COMPLETE); their ids."""
    app = control.add_application("shop")
    env = control.add_environment(app, "prod")
    profile = control.add_profile(app, "flags")
    for document in documents:
        version = control.add_version(app, profile, json.dumps(document).encode())
        control.add_deployment(app, env, profile, version)
    return app, env, profile


def versions_deployed(control: AppConfigControlStub, app: str, env: str) -> list[tuple[str, str]]:
    return [(d["ConfigurationVersion"], d["State"]) for d in control.deployments(app, env)]


def test_push_wait_follows_a_gradual_deployment_to_complete(
    tmp_path: Path, control: AppConfigControlStub
) -> None:
    app, env, _ = shop(control, BOOL_OLD)
    control.add_strategy("linear-2m", duration=2, growth=50, bake=1)
    source = write(tmp_path, "flags.json", BOOL_NEW)
    result = flagkit_cli(
        control, "push", source, *TARGET, "--strategy", "linear-2m", "--yes", "--wait", *FAST
    )
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.splitlines()[4:] == [
        "warning: linear-2m (dst0004) deploys gradually (50% of clients per step (linear) over "
        "2 minutes, then a 1-minute bake): until it completes, processes that have the new "
        "version and processes that do not answer differently, so one tenant can get both "
        "answers; to expose a flag gradually, deploy with AppConfig.AllAtOnce and raise the "
        "flag's percentage (see docs/deploying.md)",
        "created: hosted configuration version 2 of profile 'flags'",
        "deployed: deployment 2 of version 2 to environment 'prod' with linear-2m (dst0004) "
        "(state DEPLOYING)",
        "deployment 2: DEPLOYING, 50% of clients",  # 30 s in
        "deployment 2: DEPLOYING, 100% of clients",  # 60 s
        "deployment 2: BAKING, 100% of clients",  # 120 s
        "deployment 2: COMPLETE, 100% of clients",  # 180 s
        "complete: version 2 is deployed to 'prod'",
    ]
    assert versions_deployed(control, app, env) == [("1", "COMPLETE"), ("2", "COMPLETE")]


def test_push_wait_exits_1_when_an_alarm_rolls_the_deployment_back(
    tmp_path: Path, control: AppConfigControlStub
) -> None:
    app, env, _ = shop(control, BOOL_OLD)
    polls: list[int] = []

    def alarm_on_second_poll(deployment: Deployment) -> None:
        polls.append(deployment.number)
        if len(polls) == 2:
            control.roll_back(deployment, "CLOUDWATCH_ALARM")

    control.on_get_deployment = alarm_on_second_poll
    source = write(tmp_path, "flags.json", BOOL_NEW)
    result = flagkit_cli(control, "push", source, *TARGET, "--yes", "--wait", *FAST)
    assert result.returncode == 1
    assert result.stdout.splitlines()[-2:] == [
        "deployment 2: BAKING, 100% of clients",
        "deployment 2: ROLLED_BACK, 0% of clients",
    ]
    assert result.stderr == (
        "flagkit push: error: deployment 2 ended ROLLED_BACK (Deployment rolled back "
        "(cloudwatch_alarm)): version 2 is not deployed to 'prod'\n"
    )
    assert versions_deployed(control, app, env)[-1] == ("2", "ROLLED_BACK")


def test_push_wait_gives_up_after_the_timeout_and_says_the_deployment_goes_on(
    tmp_path: Path, control: AppConfigControlStub
) -> None:
    control.advance_on_get_deployment = 0  # the deployment never moves on
    shop(control, BOOL_OLD)
    source = write(tmp_path, "flags.json", BOOL_NEW)
    result = flagkit_cli(
        control, "push", source, *TARGET, "--yes", "--wait", "--timeout", "0.3", *FAST
    )
    assert result.returncode == 1
    assert result.stdout.splitlines()[-1] == "deployment 2: DEPLOYING, 0% of clients"
    assert result.stderr == (
        "flagkit push: error: deployment 2 is still DEPLOYING (0% of clients) after 0.3 s; it "
        "goes on: follow it in the AppConfig console, or stop it with flagkit rollback\n"
    )


def test_rollback_stops_a_deployment_in_progress(
    tmp_path: Path, control: AppConfigControlStub
) -> None:
    app, env, profile = shop(control, BOOL_OLD)
    control.add_version(app, profile, json.dumps(BOOL_NEW).encode())
    control.add_deployment(app, env, profile, 2, state="DEPLOYING")
    tenants = write(tmp_path, "tenants.txt", "acme\nglobex\n")
    result = flagkit_cli(control, "rollback", *TARGET, "--yes", "--wait", "--tenants", tenants)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.splitlines()[1:] == [
        "in progress: deployment 2 of version 2 (DEPLOYING, 0% of clients)",
        "rollback: stop it; clients go back to version 1",
        "featureA: -1 tenant (changed: percentage, tenants)",
        "  - globex",
        "summary: 1 flag differs (0 added, 0 removed, 1 changed); a different answer for 1 of "
        "2 tenants",
        "stopped: deployment 2 to environment 'prod' (state ROLLED_BACK)",
        "deployment 2: ROLLED_BACK, 0% of clients",
        "rolled back: 'prod' serves what it served before",
    ]
    assert versions_deployed(control, app, env) == [("1", "COMPLETE"), ("2", "ROLLED_BACK")]
    (stop,) = [r for r in control.requests if r.method == "DELETE"]
    assert (stop.path, stop.headers["Allow-Revert"]) == (
        f"/applications/{app}/environments/{env}/deployments/2",
        "true",
    )


def test_rollback_redeploys_the_version_deployed_before(
    tmp_path: Path, control: AppConfigControlStub
) -> None:
    app, env, _ = shop(control, BOOL_OLD, BOOL_NEW, BOOL_NEW, V3)  # 1, 2, 3 (= 2), 4
    result = flagkit_cli(control, "rollback", *TARGET, "--yes", "--wait", *FAST)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.splitlines()[1:] == [
        "deployed: version 4 (deployment 4)",
        "rollback: deploy version 3 again (the version deployed before it)",
        "featureA: changed: enabled, percentage, tenants",
        "summary: 1 flag differs (0 added, 0 removed, 1 changed); no tenants given, so which "
        "tenants are affected is unknown",
        "deployed: deployment 5 of version 3 to environment 'prod' with AppConfig.AllAtOnce "
        "(state DEPLOYING)",
        "deployment 5: BAKING, 100% of clients",
        "deployment 5: COMPLETE, 100% of clients",
        "complete: version 3 is deployed to 'prod'",
    ]
    assert versions_deployed(control, app, env)[-1] == ("3", "COMPLETE")
    assert control.deployments(app, env)[-1]["Description"] == (
        "flagkit rollback from version 4 to 3"
    )

    again = flagkit_cli(control, "rollback", *TARGET, "--yes")  # undoes the rollback
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines()[-1] == (
        "deployed: deployment 6 of version 4 to environment 'prod' with AppConfig.AllAtOnce "
        "(state DEPLOYING)"
    )


def test_rollback_skips_deployments_that_were_rolled_back_or_of_the_same_version(
    control: AppConfigControlStub,
) -> None:
    app, env, profile = shop(control, BOOL_OLD, BOOL_NEW)  # versions 1, 2
    control.add_version(app, profile, json.dumps(V3).encode())
    control.add_deployment(app, env, profile, 3, state="ROLLED_BACK")
    control.add_deployment(app, env, profile, 2)  # 2 again: what prod serves
    result = flagkit_cli(control, "rollback", *TARGET, "--yes")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[1:3] == [
        "deployed: version 2 (deployment 4)",
        "rollback: deploy version 1 again (the version deployed before it)",
    ]
    assert versions_deployed(control, app, env)[-1] == ("1", "DEPLOYING")


@pytest.mark.parametrize(
    ("deployed", "message"),
    [
        ([], "nothing to roll back: no deployment of profile 'flags' (cfg0003) in environment "
         "'prod' (env0002) is in progress or complete"),
        ([1, 1], "nothing to roll back to: no deployment of profile 'flags' (cfg0003) in "
         "environment 'prod' (env0002) is in progress, and no complete deployment before "
         "deployment 2 deployed another version than 1"),
    ],
    ids=["never-deployed", "one-version"],
)  # fmt: skip
def test_rollback_with_nothing_to_go_back_to_says_so_and_changes_nothing(
    control: AppConfigControlStub, deployed: list[int], message: str
) -> None:
    app, env, profile = shop(control)
    control.add_version(app, profile, json.dumps(BOOL_OLD).encode())
    for version in deployed:
        control.add_deployment(app, env, profile, version)
    result = flagkit_cli(control, "rollback", *TARGET, "--yes")
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == f"flagkit rollback: error: {message}\n"
    assert {r.method for r in control.requests} == {"GET"}


def test_rollback_without_a_terminal_or_yes_refuses(control: AppConfigControlStub) -> None:
    app, env, _ = shop(control, BOOL_OLD, BOOL_NEW)
    result = flagkit_cli(control, "rollback", *TARGET)
    assert result.returncode == 2
    assert result.stderr == (
        "flagkit rollback: error: not changing anything without a confirmation: stdin is not a "
        "terminal, so there is no one to ask; pass --yes to go ahead without asking\n"
    )
    assert len(control.deployments(app, env)) == 2


@pytest.mark.parametrize(("answer", "status"), [("y", 0), ("n", 1)])
def test_rollback_on_a_terminal_asks_first(
    control: AppConfigControlStub, answer: str, status: int
) -> None:
    app, env, profile = shop(control, BOOL_OLD)
    control.add_version(app, profile, json.dumps(BOOL_NEW).encode())
    control.add_deployment(app, env, profile, 2, state="DEPLOYING")
    terminal = on_terminal(control, answer, "rollback", *TARGET)
    assert terminal.before_answer.splitlines()[-1] == (
        "Stop deployment 2 of version 2 to prod? [y/N] "
    )
    assert terminal.returncode == status
    state = "ROLLED_BACK" if answer == "y" else "DEPLOYING"
    assert versions_deployed(control, app, env)[-1] == ("2", state)
