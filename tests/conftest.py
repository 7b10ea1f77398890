"""Shared pytest set-up: hypothesis profiles and paths to the repository's data."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from hypothesis import HealthCheck, settings

if TYPE_CHECKING:
    from mypy_boto3_appconfig import AppConfigClient

    from tests.appconfig_endpoint import AppConfigEndpoint
    from tests.appconfig_fixtures import Harness

REPO = Path(__file__).resolve().parent.parent
SCHEMAS = REPO / "schemas"
EXAMPLES = REPO / "examples"
TEST_DATA = Path(__file__).resolve().parent / "data"

# "ci" runs more examples and never depends on the clock; "dev" is quick.
settings.register_profile(
    "ci", max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", max_examples=60, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


# -- the loopback AppConfig, for the source and refresh tests --------------------------------


@pytest.fixture
def endpoint() -> Iterator[AppConfigEndpoint]:
    """A fast loopback AppConfig (1 s advertised polls), closed after the test."""
    from tests.appconfig_fixtures import fast_endpoint

    with fast_endpoint() as served:
        yield served


@pytest.fixture
def harness(endpoint: AppConfigEndpoint, monkeypatch: pytest.MonkeyPatch) -> Iterator[Harness]:
    """Makes boto3 clients and Flags for `endpoint`, and closes them all after the test."""
    from tests.appconfig_fixtures import harness_for

    with harness_for(endpoint, monkeypatch) as made:
        yield made


# -- AWS without AWS, for the flagkit.publish tests ----------------------------------------


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials and region; nothing read from this machine's AWS set-up."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def moto_client(aws_env: None) -> Iterator[AppConfigClient]:
    """An in-process moto AppConfig control plane (moto and boto3 imported on first use)."""
    import boto3
    from moto import mock_aws

    with mock_aws():
        client = boto3.client("appconfig", region_name="us-east-1")
        yield client
        client.close()
