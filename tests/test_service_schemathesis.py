"""The service's `/openapi.json` against its behaviour: schemathesis over a real uvicorn server.

Every operation of the live schema gets generated requests (valid and invalid ones),
sent with an API key, and schemathesis's default checks: no 5xx, every status code,
content type, header and body as documented, invalid data rejected, valid data
accepted, and auth that is not ignored.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import AuthContext, Case, HookContext, Response
from schemathesis.core.failures import Failure
from schemathesis.openapi.checks import RejectedPositiveData

from flagkit.client import Flags
from service.app import create_app
from service.settings import Settings
from tests.service_server import LiveServer, serve_app

KEY = "schemathesis-key-51c2"
DOC: dict[str, Any] = {
    "featureA": {
        "enabled": True,
        "tenants": ["acme"],
        "tiers": ["enterprise"],
        "percentage": 25,
        "temperature": 0.7,
        "limits": {"max": 3},
    },
    "killed": {"enabled": False},
    "everyone": {"enabled": True},
    "theme": {
        "enabled": True,
        "variants": {"dark": "dark", "light": {"layout": "stepper"}, "ratio": 0.5, "n": 3},
        "defaultVariant": "dark",
        "rules": [{"when": [{"attribute": "region", "equals": "eu"}], "serve": "light"}],
    },
    "darkLaunch": {"enabled": False, "variants": {"a": "x"}, "defaultVariant": "a"},
}


# One app: its schema is read at collection (schemathesis makes one test per operation from
# it), and it is the app the live server runs. `schemathesis.pytest.from_fixture` would read
# it from the server instead, but its lazy loader sets `Function._nodeid`, which pytest 9 no
# longer has; `test_the_schema_is_the_one_served` holds the two equal instead.
FLAGS = Flags.from_dict(DOC, version="v1")
APP = create_app(Settings(api_keys=frozenset({KEY})), flags=FLAGS)
schema = schemathesis.openapi.from_dict(APP.openapi())


@schema.auth()
class ApiKey:
    """The service's key as a Bearer token: schemathesis then also checks that requests
    without it, or with an invalid one in either header, are refused."""

    def get(self, case: Case[Any], context: AuthContext) -> str:
        return KEY

    def set(self, case: Case[Any], data: str, context: AuthContext) -> None:
        case.headers["Authorization"] = f"Bearer {data}"


FLAG_KEYS = [*DOC, "noSuchFlag"]


@schema.hook
def map_path_parameters(
    context: HookContext, path_parameters: dict[str, Any] | None
) -> dict[str, Any] | None:
    """Most generated flag keys name a flag of the document (random ones are all 404)."""
    if path_parameters is None:  # an operation without path parameters
        return None
    key = path_parameters.get("key")
    if isinstance(key, str) and key and not key.startswith("_"):
        path_parameters["key"] = FLAG_KEYS[len(key) % len(FLAG_KEYS)] if len(key) % 4 else key
    return path_parameters


@schema.hook
def filter_failure(
    context: HookContext, failure: Failure, case: Case[Any], response: Response
) -> bool:
    """Keep every failure but one kind: a valid request rejected with TARGETING_KEY_MISSING.

    Whether a context needs a `targetingKey` depends on the flag (a static flag needs
    none), so the schema cannot require one; OFREP answers 400 TARGETING_KEY_MISSING
    when the flag needs one and the context has none. That is an evaluation outcome,
    not a rejected request, so `positive_data_acceptance` does not apply to it.
    """
    if isinstance(failure, RejectedPositiveData) and response.status_code == 400:
        return bool(response.json().get("errorCode") != "TARGETING_KEY_MISSING")
    return True


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    with serve_app(APP) as served:
        yield served


def test_the_schema_is_the_one_served(server: LiveServer) -> None:
    with server.client() as http:
        served = http.get("/openapi.json")

    assert served.status_code == 200
    assert served.json() == APP.openapi()
    assert set(served.json()["paths"]) >= {
        "/ofrep/v1/evaluate/flags/{key}",
        "/ofrep/v1/evaluate/flags",
        "/v1/flags/{key}",
        "/v1/tenants/{tenant}/flags",
        "/healthz",
        "/readyz",
        "/metrics",
    }


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_the_service_behaves_as_its_openapi_document_says(
    case: Case[Any], server: LiveServer
) -> None:
    response = case.call_and_validate(base_url=server.base_url)
    # A case that carries the key (ApiKey sets it; some generated cases blank it) is let
    # through the guard, and whatever answers, it is never a server error.
    if case.headers is not None and case.headers.get("Authorization") == f"Bearer {KEY}":
        assert response.status_code != 401, response.text
    assert response.status_code < 500, response.text
