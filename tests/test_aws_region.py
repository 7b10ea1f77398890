"""`AWS_REGION` is honoured by every boto3 client flagkit makes (flagkit/aws_region.py).

botocore reads only `AWS_DEFAULT_REGION`; Lambda and ECS set `AWS_REGION`. The AppConfig
source's own client and `push`'s client are made with only `AWS_REGION` set, and talk to
the loopback endpoints signed for that region.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from flagkit.aws_region import client_region
from flagkit.errors import PublishError
from flagkit.publish import push
from flagkit.publish.appconfig_control import appconfig_client
from flagkit.sources.appconfig import AppConfigSource
from tests.appconfig_control_stub import AppConfigControlStub
from tests.appconfig_endpoint import AppConfigEndpoint
from tests.publish_data import BOOL_NEW

DOCUMENT = {"checkout": {"enabled": True, "tenants": ["acme"]}}


@pytest.fixture
def only_aws_region(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """What Lambda and ECS give a process: `AWS_REGION`, no `AWS_DEFAULT_REGION`."""
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.setenv("AWS_REGION", "eu-west-3")


@pytest.fixture
def endpoint() -> Iterator[AppConfigEndpoint]:
    with AppConfigEndpoint() as served:
        served.deploy("shop", "prod", "flags", DOCUMENT)
        yield served


def signing_regions(session: Any) -> list[str]:
    """The region of every request the session's clients sign, as the requests say it."""
    regions: list[str] = []

    def record(request: Any, **kwargs: Any) -> None:
        credential = request.headers["Authorization"].decode().split("Credential=")[1]
        regions.append(credential.split("/")[2])

    session.events.register("before-send", record)
    return regions


@pytest.mark.parametrize(
    ("explicit", "variables", "expected"),
    [
        (
            "ap-south-1",
            {"AWS_REGION": "eu-west-3", "AWS_DEFAULT_REGION": "us-east-1"},
            "ap-south-1",
        ),
        (None, {"AWS_REGION": "eu-west-3", "AWS_DEFAULT_REGION": "us-east-1"}, "eu-west-3"),
        (None, {"AWS_REGION": "", "AWS_DEFAULT_REGION": "us-east-1"}, "us-east-1"),
        (None, {}, None),
    ],
    ids=["explicit", "aws-region", "empty-is-unset", "boto3-decides"],
)
def test_the_region_is_explicit_then_aws_region_then_aws_default_region(
    aws_env: None,
    monkeypatch: pytest.MonkeyPatch,
    explicit: str | None,
    variables: dict[str, str],
    expected: str | None,
) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    assert client_region(explicit) == expected


def test_a_callers_session_keeps_its_region_and_aws_region_fills_in(only_aws_region: None) -> None:
    assert client_region(session=boto3.session.Session(region_name="us-west-2")) == "us-west-2"
    assert client_region(session=boto3.session.Session()) == "eu-west-3"


def test_the_appconfig_sources_own_client_uses_aws_region(
    only_aws_region: None, endpoint: AppConfigEndpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_APPCONFIGDATA", endpoint.url)
    source = AppConfigSource("shop", "prod", "flags", poll_interval=15)
    try:
        snapshot = source.fetch()  # before: NoRegionError, a SourceError that names no cure
    finally:
        source.close()
    assert snapshot is not None
    assert snapshot.version == "1"


def test_a_session_without_a_region_gets_aws_region(
    only_aws_region: None, endpoint: AppConfigEndpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_APPCONFIGDATA", endpoint.url)
    session = boto3.session.Session()
    signed = signing_regions(session)
    source = AppConfigSource("shop", "prod", "flags", poll_interval=15, session=session)
    try:
        assert source.fetch() is not None
    finally:
        source.close()
    assert signed == ["eu-west-3", "eu-west-3"]  # StartConfigurationSession, GetLatest...


def test_pushs_client_uses_aws_region(only_aws_region: None) -> None:
    with AppConfigControlStub() as control:
        app = control.add_application("shop")
        env = control.add_environment(app, "prod")
        control.add_profile(app, "flags")
        client = appconfig_client(control.url, None)
        try:
            assert client.meta.region_name == "eu-west-3"
            result = push(
                BOOL_NEW,
                application="shop",
                environment="prod",
                profile="flags",
                endpoint_url=control.url,
            )
        finally:
            client.close()
        assert result.version_number == 1
        assert [d["ConfigurationVersion"] for d in control.deployments(app, env)] == ["1"]
        (listed, *_) = control.requests
        assert "/eu-west-3/appconfig/" in listed.headers["Authorization"]


def test_without_any_region_push_names_every_way_to_give_one(
    aws_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    with pytest.raises(PublishError) as raised:
        push(BOOL_NEW, application="shop", environment="prod", profile="flags")
    assert str(raised.value) == (
        "no AWS region for AppConfig: pass --region (region=...), set AWS_REGION or "
        "AWS_DEFAULT_REGION, or give the AWS profile a region"
    )
