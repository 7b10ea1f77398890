"""The HTTP service and the clock: a launch window or a condition on `now` opening or closing
changes the answers, and so the bulk ETag; a client revalidating after the boundary gets the
new answers, never a 304. A real uvicorn on loopback serves `Flags` with an injected clock."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from flagkit import Flags
from tests.service_server import live

LAUNCH = 1_798_102_800.0  # 2026-12-24T09:00:00Z
BULK = "/ofrep/v1/evaluate/flags"
CONTEXT = {"context": {"targetingKey": "acme", "ip": "10.1.2.3"}}
DOCUMENT = {
    "launch": {"enabled": True, "activeFrom": "2026-12-24T09:00:00Z"},
    "office": {
        "enabled": True,
        "rules": [
            {"when": [{"attribute": "now", "before": "2026-12-24T10:00:00Z"}], "serve": True}
        ],
    },
    "steady": {"enabled": True, "tenants": ["acme"]},
}


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(LAUNCH - 1)


@pytest.fixture
def http(clock: Clock) -> Iterator[httpx.Client]:
    flags = Flags.from_dict(DOCUMENT, clock=clock)
    with live(flags=flags) as server, server.client() as client:
        yield client


def values(response: httpx.Response) -> dict[str, object]:
    return {flag["key"]: flag["value"] for flag in response.json()["flags"]}


def test_the_etag_changes_when_a_launch_window_opens(http: httpx.Client, clock: Clock) -> None:
    before = http.post(BULK, json=CONTEXT)
    assert values(before) == {"launch": False, "office": True, "steady": True}
    etag = before.headers["ETag"]
    assert http.post(BULK, json=CONTEXT, headers={"If-None-Match": etag}).status_code == 304

    clock.now = LAUNCH
    after = http.post(BULK, json=CONTEXT, headers={"If-None-Match": etag})
    assert after.status_code == 200
    assert values(after) == {"launch": True, "office": True, "steady": True}
    assert after.headers["ETag"] != etag


def test_the_etag_changes_when_a_condition_on_now_stops_holding(
    http: httpx.Client, clock: Clock
) -> None:
    clock.now = LAUNCH
    etag = http.post(BULK, json=CONTEXT).headers["ETag"]
    clock.now = LAUNCH + 3599
    assert http.post(BULK, json=CONTEXT, headers={"If-None-Match": etag}).status_code == 304
    clock.now = LAUNCH + 3600
    after = http.post(BULK, json=CONTEXT, headers={"If-None-Match": etag})
    assert after.status_code == 200
    assert values(after)["office"] is False


def test_a_client_cannot_move_the_clock_with_a_now_attribute(
    http: httpx.Client, clock: Clock
) -> None:
    context = {"context": {"targetingKey": "acme", "now": "2030-01-01T00:00:00Z"}}
    response = http.post(BULK, json=context)
    assert values(response)["launch"] is False
    single = http.post(f"{BULK}/launch", json=context).json()
    assert (single["value"], single["reason"]) == (False, "DISABLED")
