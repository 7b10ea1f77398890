"""`GET /v1/usage` over a real uvicorn: evaluations per flag, variant and reason since the
service started, the flags nobody evaluated and those that served one answer to everyone;
behind the API keys like `/v1/status`."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from flagkit import Flags
from tests.service_server import live

DOCUMENT = {
    "listed": {"enabled": True, "tenants": ["acme"]},
    "everyone": {"enabled": True},
    "forgotten": {"enabled": True, "tiers": ["gold"]},
}
KEY = "usage-test-key"


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with (
        live(flags=Flags.from_dict(DOCUMENT), api_keys=(KEY,)) as server,
        server.client(headers={"Authorization": f"Bearer {KEY}"}) as client,
    ):
        yield client


def test_usage_counts_every_served_answer_and_names_the_clean_up_candidates(
    http: httpx.Client,
) -> None:
    for tenant in ("acme", "globex", "initech"):
        http.post("/ofrep/v1/evaluate/flags/listed", json={"context": {"targetingKey": tenant}})
    http.post("/ofrep/v1/evaluate/flags", json={"context": {"targetingKey": "acme"}})
    http.post("/ofrep/v1/evaluate/flags/nope", json={"context": {"targetingKey": "acme"}})
    # The bulk route evaluates every flag, `forgotten` included: a period without it is
    # what `unused` needs, so this test reads usage before and after.
    body = http.get("/v1/usage").json()
    assert isinstance(body["since"], float)
    assert body["flags"] == [
        {
            "flag": "listed",
            "evaluations": 4,
            "answers": [
                {"variant": "off", "reason": "DEFAULT", "count": 2},
                {"variant": "on", "reason": "TARGETING_MATCH", "count": 2},
            ],
        },
        {
            "flag": "everyone",
            "evaluations": 1,
            "answers": [{"variant": "on", "reason": "STATIC", "count": 1}],
        },
        {
            "flag": "forgotten",
            "evaluations": 1,
            "answers": [{"variant": "off", "reason": "DEFAULT", "count": 1}],
        },
    ]
    assert body["unused"] == []
    assert body["singleAnswer"] == ["everyone", "forgotten"]


def test_a_flag_never_evaluated_is_unused(http: httpx.Client) -> None:
    http.post("/ofrep/v1/evaluate/flags/listed", json={"context": {"targetingKey": "acme"}})
    body = http.get("/v1/usage").json()
    assert body["unused"] == ["everyone", "forgotten"]
    assert body["singleAnswer"] == ["listed"]


def test_usage_needs_a_key(http: httpx.Client) -> None:
    response = httpx.get(f"{http.base_url}/v1/usage")
    assert response.status_code == 401
