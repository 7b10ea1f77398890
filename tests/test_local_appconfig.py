"""The local AppConfig's control plane and Data API share one store: what a deployment
hands out, and to which clients, is what its strategy says at that moment.

Real boto3 clients over loopback; the endpoint's clock is the test's.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import boto3
import pytest

from flagkit.local_appconfig import AppConfigApiError, LocalAppConfig

if TYPE_CHECKING:
    from mypy_boto3_appconfig import AppConfigClient
    from mypy_boto3_appconfigdata import AppConfigDataClient

V1 = {"bulkExport": {"enabled": False}}
V2 = {"bulkExport": {"enabled": True}}
SESSIONS = 40
DUMMY = {"region_name": "us-east-1", "aws_access_key_id": "t", "aws_secret_access_key": "t"}


@pytest.fixture
def clock() -> list[float]:
    return [1000.0]


@pytest.fixture
def local(clock: list[float]) -> Iterator[LocalAppConfig]:
    with LocalAppConfig(
        clock=lambda: clock[0], poll_interval=1, honour_required_minimum=False
    ) as served:
        yield served


@pytest.fixture
def clients(local: LocalAppConfig) -> Iterator[tuple[AppConfigClient, AppConfigDataClient]]:
    control = boto3.client("appconfig", endpoint_url=local.url, **DUMMY)  # type: ignore[call-overload]
    data = boto3.client("appconfigdata", endpoint_url=local.url, **DUMMY)  # type: ignore[call-overload]
    yield control, data
    control.close()
    data.close()


class Session:
    """One configuration session: what it was handed last."""

    def __init__(self, data: AppConfigDataClient) -> None:
        self._data = data
        self._token = data.start_configuration_session(
            ApplicationIdentifier="shop",
            EnvironmentIdentifier="prod",
            ConfigurationProfileIdentifier="flags",
        )["InitialConfigurationToken"]
        self.document: Any = None

    def poll(self) -> Any:
        answer = self._data.get_latest_configuration(ConfigurationToken=self._token)
        self._token = answer["NextPollConfigurationToken"]
        body = answer["Configuration"].read()
        if body:
            self.document = json.loads(body)
        return self.document


def test_a_gradual_deployment_reaches_a_share_of_the_sessions_then_all_then_none(
    local: LocalAppConfig,
    clock: list[float],
    clients: tuple[AppConfigClient, AppConfigDataClient],
) -> None:
    control, data = clients
    local.deploy("shop", "prod", "flags", V1)
    app, env, profile = local.resource_ids("shop", "prod", "flags")
    sessions = [Session(data) for _ in range(SESSIONS)]
    assert [session.poll() for session in sessions] == [V1] * SESSIONS

    created = control.create_hosted_configuration_version(
        ApplicationId=app,
        ConfigurationProfileId=profile,
        Content=json.dumps(V2).encode(),
        ContentType="application/json",
    )
    created["Content"].read()
    started = control.start_deployment(
        ApplicationId=app,
        EnvironmentId=env,
        ConfigurationProfileId=profile,
        ConfigurationVersion=str(created["VersionNumber"]),
        DeploymentStrategyId="AppConfig.Linear50PercentEvery30Seconds",  # 50%, then 100%
    )
    assert (started["State"], started["PercentageComplete"]) == ("DEPLOYING", 0.0)
    assert [session.poll() for session in sessions] == [V1] * SESSIONS

    clock[0] += 1
    halfway = [session.poll() for session in sessions]
    assert 0 < halfway.count(V2) < SESSIONS  # positions are random: some of 40, not all
    assert halfway.count(V1) + halfway.count(V2) == SESSIONS

    clock[0] += 30
    assert [session.poll() for session in sessions] == [V2] * SESSIONS

    stopped = control.stop_deployment(
        ApplicationId=app, EnvironmentId=env, DeploymentNumber=started["DeploymentNumber"]
    )
    assert stopped["State"] == "ROLLED_BACK"
    assert [session.poll() for session in sessions] == [V1] * SESSIONS


def test_a_deployment_in_progress_holds_a_direct_deploy_back(
    local: LocalAppConfig, clients: tuple[AppConfigClient, AppConfigDataClient]
) -> None:
    control, _ = clients
    local.deploy("shop", "prod", "flags", V1)
    app, env, profile = local.resource_ids("shop", "prod", "flags")
    control.start_deployment(
        ApplicationId=app,
        EnvironmentId=env,
        ConfigurationProfileId=profile,
        ConfigurationVersion="1",
        DeploymentStrategyId="AppConfig.AllAtOnce",
    )
    with pytest.raises(AppConfigApiError) as refused:
        local.deploy("shop", "prod", "flags", V2)
    assert (refused.value.code, refused.value.message) == (
        "ConflictException",
        "Deployment 2 is in progress for environment env0002",
    )
    versions = control.list_hosted_configuration_versions(
        ApplicationId=app, ConfigurationProfileId=profile
    )["Items"]
    assert [item["VersionNumber"] for item in versions] == [1]  # none made for nothing
