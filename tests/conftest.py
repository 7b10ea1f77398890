"""Shared pytest set-up: hypothesis profiles and paths to the repository's data."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from hypothesis import HealthCheck, settings

if TYPE_CHECKING:
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
