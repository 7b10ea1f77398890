"""The service over real HTTP: plain JSON routes, health, readiness, metrics, API keys,
body limits, `flagkit serve` itself, and document swaps while requests are in flight."""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import shutil
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from openfeature import api
from openfeature.contrib.provider.ofrep import OFREPProvider
from openfeature.evaluation_context import EvaluationContext
from prometheus_client.parser import text_string_to_metric_families

from flagkit import DocumentError
from flagkit.client import Flags
from service.app import create_app
from service.settings import Settings
from tests.conftest import EXAMPLES
from tests.helpers import replace
from tests.service_server import (
    CliServer,
    LiveServer,
    live,
    memory_flags,
    serve_app,
    serve_cli,
    wait_ready,
)

VERSION = "v1"
DOC: dict[str, Any] = {
    "featureA": {
        "enabled": True,
        "description": "New checkout flow",
        "tenants": ["acme"],
        "tiers": ["enterprise"],
        "temperature": 0.7,
    },
    "rollout": {"enabled": True, "percentage": 50},
    "bigSeats": {
        "enabled": True,
        "rules": [{"id": "seats", "when": [{"attribute": "seats", "equals": 10}], "serve": True}],
        "tenants": [],
    },
    "checkoutTheme": {
        "enabled": True,
        "variants": {"classic": {"layout": "single-page"}, "fresh": {"layout": "stepper"}},
        "defaultVariant": "classic",
        "offVariant": "classic",
        "rules": [
            {"id": "eu", "when": [{"attribute": "region", "equals": "eu-west-1"}], "serve": "fresh"}
        ],
    },
}


@pytest.fixture(scope="module")
def flags() -> Iterator[Flags]:
    with Flags.from_dict(DOC, version=VERSION) as made:
        yield made


@pytest.fixture(scope="module")
def server(flags: Flags) -> Iterator[LiveServer]:
    with live(flags, max_context_attributes=3, max_context_string=32) as served:
        yield served


@pytest.fixture
def http(server: LiveServer) -> Iterator[httpx.Client]:
    with server.client() as client:
        yield client


# -- plain JSON -----------------------------------------------------------------------------


def test_one_flag_for_one_tenant(http: httpx.Client, flags: Flags) -> None:
    response = http.get("/v1/flags/featureA", params={"tenant": "acme"})

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {
        "flag": "featureA",
        "value": True,
        "enabled": True,
        "variant": "on",
        "reason": "TARGETING_MATCH",
        "rule": "tenants",
        "errorCode": None,
        "errorMessage": None,
        "attributes": {"temperature": 0.7},
        "version": VERSION,
    }
    assert response.json() == flags.evaluate("featureA", "acme").as_dict()


@pytest.mark.parametrize(
    ("flag", "params", "value", "rule"),
    [
        ("featureA", {"tenant": "wayne", "tier": "enterprise"}, True, "tiers"),
        ("featureA", {"tenant": "wayne", "tier": "free"}, False, "default"),
        # attr VALUE is JSON when it parses: 10 is the number the rule asks for...
        ("bigSeats", {"tenant": "wayne", "attr": "seats=10"}, True, "seats"),
        # ...and a string otherwise, which the rule does not match.
        ("bigSeats", {"tenant": "wayne", "attr": "seats=ten"}, False, "default"),
        ("bigSeats", {"tenant": "wayne", "attr": 'seats="10"'}, False, "default"),
        (
            "checkoutTheme",
            {"tenant": "wayne", "attr": "region=eu-west-1"},
            {"layout": "stepper"},
            "eu",
        ),
    ],
)
def test_one_flag_with_tier_and_attributes(
    http: httpx.Client, flag: str, params: dict[str, str], value: object, rule: str
) -> None:
    response = http.get(f"/v1/flags/{flag}", params=params)

    assert response.status_code == 200
    assert (response.json()["value"], response.json()["rule"]) == (value, rule)


def test_repeated_attrs_all_count(http: httpx.Client) -> None:
    response = http.get(
        "/v1/flags/checkoutTheme",
        params=[("tenant", "wayne"), ("attr", "seats=3"), ("attr", "region=eu-west-1")],
    )

    assert response.json()["variant"] == "fresh"


def test_every_flag_for_one_tenant(http: httpx.Client, flags: Flags) -> None:
    response = http.get(
        "/v1/tenants/wayne/flags", params={"tier": "enterprise", "attr": "region=eu-west-1"}
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["tenant"], body["tier"], body["version"]) == ("wayne", "enterprise", VERSION)
    assert list(body["flags"]) == list(flags.keys)
    tenant = {"id": "wayne", "tier": "enterprise", "region": "eu-west-1"}
    for key, answer in body["flags"].items():
        assert answer == flags.evaluate(key, tenant).as_dict()
    assert body["flags"]["featureA"]["rule"] == "tiers"
    assert body["flags"]["checkoutTheme"]["variant"] == "fresh"


def test_missing_flag_is_404_with_the_evaluation(http: httpx.Client) -> None:
    response = http.get("/v1/flags/noSuchFlag", params={"tenant": "acme"})

    assert response.status_code == 404
    assert response.json()["errorCode"] == "FLAG_NOT_FOUND"
    assert response.json()["reason"] == "ERROR"
    assert response.json()["flag"] == "noSuchFlag"


def test_a_flag_that_needs_a_tenant_without_one_is_400(http: httpx.Client) -> None:
    response = http.get("/v1/flags/rollout")

    assert response.status_code == 400
    assert response.json()["errorCode"] == "TARGETING_KEY_MISSING"
    assert response.json()["value"] is None


KV = "must look like KEY=VALUE"
TOO_LONG = "33 characters is longer than the limit of 32"


@pytest.mark.parametrize(
    ("path", "params", "details"),
    [
        pytest.param(
            "/v1/flags/featureA", {"tenant": "acme", "attr": "region"}, f"attr 'region' {KV}"
        ),
        pytest.param("/v1/flags/featureA", {"tenant": "acme", "attr": "=eu"}, f"attr '=eu' {KV}"),
        pytest.param("/v1/tenants/acme/flags", {"attr": "region"}, f"attr 'region' {KV}"),
        pytest.param(
            "/v1/flags/featureA", {"tenant": "a" * 33}, f"context.targetingKey: {TOO_LONG}"
        ),
        pytest.param("/v1/tenants/" + "a" * 33 + "/flags", {}, f"context.targetingKey: {TOO_LONG}"),
        pytest.param(
            "/v1/flags/featureA", {"tenant": "acme", "tier": "t" * 33}, f"context.tier: {TOO_LONG}"
        ),
        pytest.param(
            "/v1/flags/featureA",
            {"tenant": "acme", "attr": json.dumps(["x" * 33]).join(["tags=", ""])},
            f"context.tags[0]: {TOO_LONG}",
        ),
        pytest.param(  # too deeply nested to parse as JSON: a string, and too long a one
            "/v1/flags/featureA",
            {"tenant": "acme", "attr": "deep=" + "[" * 1500 + "]" * 1500},
            "context.deep: 3000 characters is longer than the limit of 32",
        ),
        pytest.param(
            "/v1/flags/featureA",
            [("tenant", "acme"), ("attr", "a=1"), ("attr", "b=2"), ("attr", "c=3")],
            "context: 4 attributes is more than the limit of 3",
        ),
    ],
)
def test_bad_attributes_are_400_invalid_context(
    http: httpx.Client, path: str, params: Any, details: str
) -> None:
    response = http.get(path, params=params)

    assert response.status_code == 400
    assert response.json() == {"errorCode": "INVALID_CONTEXT", "errorDetails": details}


# -- health, readiness, metrics -------------------------------------------------------------


def test_healthz(http: httpx.Client) -> None:
    response = http.get("/healthz")

    assert (response.status_code, response.json()) == (200, {"status": "ok"})


def test_readyz_when_ready(http: httpx.Client) -> None:
    response = http.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {
        "status": "ready",
        "version": VERSION,
        "staleFor": 0.0,
        "rejected": False,
        "overrides": {"active": False, "count": 0},
    }


def test_status_when_ready(http: httpx.Client) -> None:
    response = http.get("/v1/status")  # no keys, on loopback: answered

    assert response.status_code == 200
    assert response.json() == {
        "status": "ready",
        "version": VERSION,
        "source": "memory",
        "origin": "memory",
        "staleFor": 0.0,
        "lastError": None,
        "rejected": None,
        "overrides": {"active": False, "count": 0, "origin": None, "error": None},
    }


class LogEvent(logging.Handler):
    """Sets `seen` when a record whose message contains `text` is logged."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text
        self.seen = threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if self.text in record.getMessage():
            self.seen.set()


@pytest.fixture
def load_failed() -> Iterator[threading.Event]:
    """Set when the service logs that it cannot load its flags (and will retry)."""
    handler = LogEvent("cannot load flags, retrying")
    logger = logging.getLogger("flagkit.service")
    logger.addHandler(handler)
    try:
        yield handler.seen
    finally:
        logger.removeHandler(handler)


def test_readyz_is_503_while_loading_then_200(tmp_path: Path, load_failed: threading.Event) -> None:
    path = tmp_path / "flags.json"  # does not exist yet
    app = create_app(Settings(source=str(path), poll_interval=60))
    with serve_app(app) as server, server.client() as http:
        assert load_failed.wait(10)

        loading = http.get("/readyz")
        assert (loading.status_code, loading.json()) == (503, {"status": "loading"})
        status = http.get("/v1/status").json()
        assert f"cannot read flag document '{path}': No such file" in status["lastError"]
        assert http.get("/healthz").status_code == 200
        evaluation = http.post("/ofrep/v1/evaluate/flags/featureA", json={"context": {}})
        assert evaluation.status_code == 503
        assert evaluation.json()["errorCode"] == "GENERAL"
        assert evaluation.json()["errorDetails"].startswith("no flag document is loaded yet: ")
        assert http.get("/v1/flags/featureA").status_code == 503
        assert metric(http, "flagkit_document_loaded") == 1.0 - 1.0
        assert not [s for s in samples(http) if s[0] == "flagkit_document_info"]

        path.write_text(json.dumps(DOC))
        assert app.state.loader.wait(10)  # the next retry, 1 s after the first failure

        ready = http.get("/readyz")
        assert ready.status_code == 200
        assert ready.json()["status"] == "ready"
        assert ready.json()["version"].startswith("hash:")
        status = http.get("/v1/status").json()
        assert (status["source"], status["lastError"]) == (f"file:{path}", None)
        assert metric(http, "flagkit_document_loaded") == 1.0
        answer = http.post(
            "/ofrep/v1/evaluate/flags/featureA", json={"context": {"targetingKey": "acme"}}
        )
        assert answer.json()["value"] is True


def flagkit_threads() -> list[str]:
    return [thread.name for thread in threading.enumerate() if thread.name.startswith("flagkit-")]


def test_the_loaded_flags_are_closed_at_shutdown(tmp_path: Path) -> None:
    path = tmp_path / "flags.json"
    path.write_text(json.dumps(DOC))
    before = flagkit_threads()
    app = create_app(Settings(source=str(path), poll_interval=60))
    with serve_app(app) as server:
        assert app.state.loader.wait(10)
        assert wait_ready(server).status_code == 200
        assert len(flagkit_threads()) == len(before) + 1  # the file's refresh thread

    assert flagkit_threads() == before
    assert app.state.loader.flags.refresh() is False  # closed: it fetches nothing


def test_stopping_while_loading_does_not_wait_for_the_next_retry(
    tmp_path: Path, load_failed: threading.Event, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("service.state.FIRST_RETRY", 60.0)
    before = flagkit_threads()
    app = create_app(Settings(source=str(tmp_path / "missing.json")))
    with serve_app(app) as server, server.client() as http:
        assert load_failed.wait(10)
        assert http.get("/readyz").status_code == 503
        stopping = time.monotonic()

    assert time.monotonic() - stopping < 10  # not the 60 s retry delay
    assert flagkit_threads() == before
    assert app.state.loader.flags is None


Sample = tuple[str, dict[str, str], float]


def samples(http: httpx.Client) -> list[Sample]:
    response = http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    return [
        (sample.name, sample.labels, sample.value)
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    ]


def metric(http: httpx.Client, name: str, **labels: str) -> float:
    """The one sample called `name` with exactly `labels`."""
    found = [
        value for n, sample_labels, value in samples(http) if (n, sample_labels) == (name, labels)
    ]
    assert len(found) == 1, f"{name}{labels}: {found}"
    return found[0]


def test_metrics() -> None:
    flags, _ = memory_flags(DOC, VERSION)
    with flags, live(flags) as server, server.client() as http:
        acme = {"context": {"targetingKey": "acme"}}
        for _ in range(3):
            http.post("/ofrep/v1/evaluate/flags/featureA", json=acme)
        http.post("/ofrep/v1/evaluate/flags/nope", json=acme)
        http.post("/ofrep/v1/evaluate/flags/other-nope", json=acme)
        http.get("/v1/flags/nope3", params={"tenant": "acme"})
        http.get("/v1/flags/featureA", params={"tenant": "acme"})
        http.get("/no/such/route")

        found = samples(http)

        def value(name: str, **labels: str) -> float:
            values = [v for n, sample_labels, v in found if (n, sample_labels) == (name, labels)]
            assert len(values) == 1, f"{name}{labels}: {values}"
            return values[0]

        evaluations = "flagkit_evaluations_total"
        assert value(evaluations, flag="featureA", variant="on", reason="TARGETING_MATCH") == 4
        assert value(evaluations, flag="_unknown", variant="", reason="ERROR") == 3
        # Keys from requests never become labels: the label set stays bounded.
        flag_labels = {labels["flag"] for n, labels, _ in found if n == evaluations}
        assert flag_labels == {"featureA", "_unknown"}

        duration = "flagkit_http_request_duration_seconds_count"
        single = "/ofrep/v1/evaluate/flags/{key}"
        assert value(duration, route=single, method="POST") == 5
        assert value(duration, route="/v1/flags/{key}", method="GET") == 2
        assert value(duration, route="unmatched", method="GET") == 1
        buckets = [
            (labels["le"], v)
            for n, labels, v in found
            if n == "flagkit_http_request_duration_seconds_bucket" and labels["route"] == single
        ]
        assert buckets[-1] == ("+Inf", 5)
        assert [v for _, v in buckets] == sorted(v for _, v in buckets)
        routes = {labels["route"] for n, labels, _ in found if n == duration}
        assert not any("nope" in route or "featureA" in route for route in routes)
        requests = "flagkit_http_requests_total"
        assert value(requests, route=single, method="POST", status="200") == 3
        assert value(requests, route=single, method="POST", status="404") == 2
        assert value(requests, route="unmatched", method="GET", status="404") == 1

        assert value("flagkit_document_loaded") == 1
        info = "flagkit_document_info"
        assert value(info, version=VERSION, source="memory", origin="memory") == 1
        since = value("flagkit_seconds_since_last_good_load")
        assert since == pytest.approx(time.time() - flags.status.confirmed_at, abs=5)
        assert value("flagkit_reloads_total", result="success") == 1  # the start-up load
        assert value("flagkit_reloads_total", result="failure") == 0
        assert value("flagkit_refresh_consecutive_failures") == 0
        assert value("flagkit_document_loaded_timestamp_seconds") == pytest.approx(
            flags.status.loaded_at
        )


def test_a_bad_new_document_keeps_the_old_one_served() -> None:
    flags, source = memory_flags(DOC, VERSION)
    with flags, live(flags) as server, server.client() as http:
        source.update({"featureA": {"enabled": "yes"}}, version="bad")
        with pytest.raises(DocumentError):
            flags.refresh()

        ready = http.get("/v1/status")
        assert ready.status_code == 200
        assert ready.json()["version"] == VERSION
        assert ready.json()["status"] == "ready"
        assert "featureA.enabled" in ready.json()["lastError"]
        assert ready.json()["staleFor"] > 0
        answer = http.get("/v1/flags/featureA", params={"tenant": "acme"})
        assert (answer.json()["value"], answer.json()["version"]) == (True, VERSION)
        assert metric(http, "flagkit_refresh_consecutive_failures") == 1
        assert metric(http, "flagkit_reloads_total", result="failure") == 1
        assert metric(http, "flagkit_seconds_since_last_good_load") > 0
        assert (
            metric(http, "flagkit_document_info", version=VERSION, source="memory", origin="memory")
            == 1
        )

        source.update(DOC, version="v2")
        assert flags.refresh()
        recovered = http.get("/v1/status").json()
        assert (recovered["version"], recovered["lastError"], recovered["staleFor"]) == (
            "v2",
            None,
            0,
        )
        assert metric(http, "flagkit_refresh_consecutive_failures") == 0


def test_readyz_and_the_metrics_report_a_rejection_until_it_is_resolved() -> None:
    """A rejected document stays in `/readyz` (a boolean), `/v1/status` (its problems) and
    `flagkit_document_rejected` (labelled with its version: one series at a time) until a
    good one replaces it."""
    flags, source = memory_flags(DOC, VERSION)
    with flags, live(flags) as server, server.client() as http:
        assert http.get("/readyz").json()["rejected"] is False
        assert http.get("/v1/status").json()["rejected"] is None
        assert metric(http, "flagkit_document_rejected", version="") == 0

        source.update({"featureA": {"enabled": "yes"}}, version="bad")
        with pytest.raises(DocumentError):
            flags.refresh()
        ready = http.get("/readyz")
        assert ready.status_code == 200  # the last good document still serves
        assert (ready.json()["status"], ready.json()["rejected"]) == ("ready", True)
        body = http.get("/v1/status").json()
        assert (body["status"], body["version"]) == ("ready", VERSION)
        assert body["rejected"] == {
            "version": "bad",
            "problems": ["featureA.enabled: \"yes\" is not of type 'boolean'"],
        }
        assert metric(http, "flagkit_document_rejected", version="bad") == 1
        assert [name for name, _, _ in samples(http)].count("flagkit_document_rejected") == 1

        source.update(DOC, version="v2")
        assert flags.refresh() is True
        assert http.get("/readyz").json()["rejected"] is False
        body = http.get("/v1/status").json()
        assert (body["version"], body["rejected"], body["lastError"]) == ("v2", None, None)
        assert metric(http, "flagkit_document_rejected", version="") == 0


# -- a document swap while requests are in flight -------------------------------------------

SWAP_A: dict[str, Any] = {
    "color": {
        "enabled": True,
        "variants": {"red": "red", "blue": "blue"},
        "defaultVariant": "red",
    },
    "flip": {"enabled": True},
    "onlyInA": {"enabled": True},
}
SWAP_B: dict[str, Any] = {
    "color": {
        "enabled": True,
        "variants": {"red": "red", "blue": "blue"},
        "defaultVariant": "blue",
    },
    "flip": {"enabled": False},
    "onlyInB": {"enabled": True},
}
EXPECTED = {
    "A": {"color": "red", "flip": True, "onlyInA": True},
    "B": {"color": "blue", "flip": False, "onlyInB": True},
}


def check_consistent(kind: str, response: httpx.Response) -> str:
    """The version that answered; fails unless every value is that version's."""
    assert response.status_code == 200, response.text
    body = response.json()
    if kind == "single":
        version = body["metadata"]["version"]
        assert body["value"] == EXPECTED[version]["color"]
    elif kind == "bulk":
        version = body["metadata"]["version"]
        values = {entry["key"]: entry["value"] for entry in body["flags"]}
        assert values == EXPECTED[version]
        assert {entry["metadata"]["version"] for entry in body["flags"]} == {version}
    else:
        version = body["version"]
        values = {key: answer["value"] for key, answer in body["flags"].items()}
        assert values == EXPECTED[version]
        assert {answer["version"] for answer in body["flags"].values()} == {version}
    return str(version)


def test_document_swaps_while_requests_are_in_flight() -> None:
    flags, source = memory_flags(SWAP_A, "A")
    answered = threading.Condition()
    count = 0
    done = False
    swaps = 0

    def swap() -> None:
        """Swap documents after every few answers, until the askers are done."""
        nonlocal swaps
        while True:
            with answered:
                target = count + 4
                answered.wait_for(lambda: done or count >= target)  # noqa: B023 - called here
                if done:
                    return
            document, version = (SWAP_B, "B") if flags.version == "A" else (SWAP_A, "A")
            source.update(document, version=version)
            assert flags.refresh()
            swaps += 1

    def ask(server: LiveServer, worker: int) -> list[str]:
        nonlocal count
        seen = []
        with server.client() as http:
            for number in range(60):
                kind = ("single", "bulk", "plain")[number % 3]
                tenant = f"t{worker}-{number}"
                if kind == "single":
                    body = {"context": {"targetingKey": tenant}}
                    response = http.post("/ofrep/v1/evaluate/flags/color", json=body)
                elif kind == "bulk":
                    body = {"context": {"targetingKey": tenant}}
                    response = http.post("/ofrep/v1/evaluate/flags", json=body)
                else:
                    response = http.get(f"/v1/tenants/{tenant}/flags")
                seen.append(check_consistent(kind, response))
                with answered:
                    count += 1
                    answered.notify_all()
        return seen

    with flags, live(flags) as server:
        swapper = threading.Thread(target=swap, name="swapper")
        swapper.start()
        try:
            with ThreadPoolExecutor(8) as pool:
                asked = pool.map(functools.partial(ask, server), range(8))
                answers = [version for seen in asked for version in seen]
        finally:
            with answered:
                done = True
                answered.notify_all()
            swapper.join()

    assert len(answers) == 8 * 60
    assert answers.count("A") > 50
    assert answers.count("B") > 50
    assert swaps >= 50


# -- 413 ------------------------------------------------------------------------------------

LIMIT = 1024


def body_of(size: int) -> bytes:
    """A valid OFREP body of exactly `size` bytes."""
    head, tail = b'{"context": {"targetingKey": "acme", "pad": "', b'"}}'
    return head + b"x" * (size - len(head) - len(tail)) + tail


@pytest.fixture(scope="module")
def small_server(flags: Flags) -> Iterator[LiveServer]:
    with live(flags, max_body_bytes=LIMIT, max_context_string=LIMIT) as served:
        yield served


def chunks(body: bytes, size: int = 300) -> Iterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
@pytest.mark.parametrize("path", ["/ofrep/v1/evaluate/flags/featureA", "/ofrep/v1/evaluate/flags"])
def test_a_body_over_the_cap_is_413(small_server: LiveServer, chunked: bool, path: str) -> None:
    with small_server.client() as http:

        def send(body: bytes) -> httpx.Response:
            request = http.build_request(
                "POST",
                path,
                content=chunks(body) if chunked else body,
                headers={"Content-Type": "application/json"},
            )
            assert ("transfer-encoding" in request.headers) is chunked
            return http.send(request)

        at_limit = send(body_of(LIMIT))
        assert at_limit.status_code == 200, at_limit.text

        over = send(body_of(LIMIT + 1))
        assert over.status_code == 413
        assert over.json() == {
            "errorCode": "GENERAL",
            "errorDetails": f"request body is larger than the limit of {LIMIT} bytes",
        }
        assert over.headers["connection"] == "close"

        much_over = send(body_of(20 * LIMIT))
        assert much_over.status_code == 413

        # The service still answers, on a new connection.
        after = http.post(path, json={"context": {"targetingKey": "acme"}})
        assert after.status_code == 200


# -- API keys, end to end through `flagkit serve` -------------------------------------------

ENV_KEY = "env-key-3b9f0c1e5d"
FILE_KEY = "file-key-8a2d7e4c61"
EVALUATION_ROUTES = [
    ("POST", "/ofrep/v1/evaluate/flags/featureA"),
    ("POST", "/ofrep/v1/evaluate/flags"),
    ("GET", "/v1/flags/featureA?tenant=acme"),
    ("GET", "/v1/tenants/acme/flags"),
]


@pytest.fixture(scope="module")
def keyed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CliServer]:
    """`flagkit serve` with one key from FLAGKIT_API_KEYS and one from FLAGKIT_API_KEYS_FILE."""
    directory = tmp_path_factory.mktemp("keyed")
    document = directory / "flags.json"
    document.write_text(json.dumps(DOC))
    keys = directory / "keys"
    keys.write_text(f"# the checkout service\n{FILE_KEY}\n")
    env = {"FLAGKIT_API_KEYS": f"{ENV_KEY},", "FLAGKIT_API_KEYS_FILE": str(keys)}
    with serve_cli("--source", str(document), "--access-log", env=env) as served:
        yield served


def call(client: httpx.Client, method: str, path: str) -> httpx.Response:
    if method == "POST":
        return client.post(path, json={"context": {"targetingKey": "acme"}})
    return client.get(path)


@pytest.mark.parametrize(("method", "path"), EVALUATION_ROUTES)
@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong-key"},
        {"X-API-Key": "wrong-key"},
        {"Authorization": f"Basic {ENV_KEY}"},
        {"Authorization": f"Bearer {ENV_KEY}x"},
        {"X-API-Key": ENV_KEY[:-1]},
    ],
    ids=["none", "wrong-bearer", "wrong-x-api-key", "basic", "longer", "prefix"],
)
def test_evaluation_routes_need_a_valid_key(
    keyed: CliServer, method: str, path: str, headers: dict[str, str]
) -> None:
    with keyed.client(headers=headers) as client:
        response = call(client, method, path)

    assert response.status_code == 401
    assert response.json() == {
        "errorCode": "GENERAL",
        "errorDetails": "a valid API key is required: send 'Authorization: Bearer KEY' "
        "or 'X-API-Key: KEY'",
    }
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(("method", "path"), EVALUATION_ROUTES)
@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": f"Bearer {ENV_KEY}"},
        {"Authorization": f"bearer {ENV_KEY}"},
        {"X-API-Key": ENV_KEY},
        {"Authorization": f"Bearer {FILE_KEY}"},
        {"X-API-Key": FILE_KEY},
    ],
    ids=["bearer", "bearer-lowercase", "x-api-key", "file-bearer", "file-x-api-key"],
)
def test_evaluation_routes_answer_a_valid_key(
    keyed: CliServer, method: str, path: str, headers: dict[str, str]
) -> None:
    with keyed.client(headers=headers) as client:
        response = call(client, method, path)

    assert response.status_code == 200, response.text
    assert ENV_KEY not in response.text
    assert FILE_KEY not in response.text


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/openapi.json"])
def test_operations_routes_need_no_key(keyed: CliServer, path: str) -> None:
    with keyed.client() as client:
        response = client.get(path)

    assert response.status_code == 200
    assert ENV_KEY not in response.text
    assert FILE_KEY not in response.text


def test_keys_never_reach_the_log(keyed: CliServer) -> None:
    with keyed.client() as client:
        for key in (ENV_KEY, FILE_KEY, "wrong-key-e6f1"):
            for headers in ({"Authorization": f"Bearer {key}"}, {"X-API-Key": key}):
                for method, path in EVALUATION_ROUTES:
                    client.request(method, path, headers=headers, json={"context": {"tier": "x"}})
        client.get("/readyz", headers={"X-API-Key": ENV_KEY})

    log = keyed.wait_for_log('"GET /readyz HTTP/1.1" 200')
    assert '"POST /ofrep/v1/evaluate/flags/featureA HTTP/1.1" 401' in log  # the access log is on
    assert '"GET /v1/tenants/acme/flags HTTP/1.1" 200' in log
    for secret in (ENV_KEY, FILE_KEY, "wrong-key-e6f1"):
        assert secret not in log


# -- `flagkit serve` as `make run` starts it ------------------------------------------------


@pytest.fixture(scope="module")
def make_run() -> Iterator[CliServer]:
    """`flagkit serve --source examples/flags.json --host 127.0.0.1`, as `make run` starts it."""
    document = EXAMPLES / "flags.json"
    with serve_cli("--source", str(document), "--host", "127.0.0.1") as served:
        yield served


def test_the_readme_request_gets_the_readme_answer(make_run: CliServer) -> None:
    with make_run.client() as client:
        response = client.post(
            "/ofrep/v1/evaluate/flags/featureA",
            json={"context": {"targetingKey": "acme", "tier": "enterprise"}},
        )

    assert response.status_code == 200
    assert response.text == (
        '{"key": "featureA", "value": true, "reason": "TARGETING_MATCH", "variant": "on", '
        '"metadata": {"temperature": 0.7, "version": "hash:5fd8936ceea8dbaf", "rule": "tenants"}}'
    )


def test_the_readme_openfeature_client(make_run: CliServer) -> None:
    provider = OFREPProvider(make_run.base_url)
    try:
        api.set_provider_and_wait(provider, domain="readme")
        client = api.get_client("readme")
        acme = EvaluationContext("acme", {"tier": "enterprise"})
        assert client.get_boolean_value("featureA", False, acme) is True
        theme = client.get_object_details(
            "checkoutTheme", {}, EvaluationContext("globex", {"region": "eu-west-1"})
        )
        assert theme.variant == "fresh"
        assert theme.value == {"primaryColor": "#059669", "layout": "stepper"}
    finally:
        api.clear_providers()
        provider.session.close()


def poll(client: httpx.Client, path: str, done: Any, timeout: float = 10.0) -> Any:
    """GET `path` until `done(body)`; the last body. The server is another process, re-reading
    its file on its own clock: there is no event to await, so this asks every 50 ms."""
    deadline = time.monotonic() + timeout
    while True:
        body = client.get(path).json()
        if done(body) or time.monotonic() > deadline:
            return body
        threading.Event().wait(0.05)


def test_file_edits_are_served_and_a_bad_edit_keeps_the_last_good_document(
    tmp_path: Path,
) -> None:
    path = tmp_path / "flags.json"
    shutil.copyfile(EXAMPLES / "flags.json", path)
    env = {"FLAGKIT_POLL_INTERVAL": "0.1"}
    with serve_cli("--source", str(path), env=env) as server, server.client() as client:
        first = client.get("/readyz").json()["version"]
        acme = "/v1/flags/bulkExport?tenant=acme"
        assert client.get(acme).json()["value"] is True

        document = json.loads(path.read_text())
        document["bulkExport"]["excludedTenants"].append("acme")
        replace(path, json.dumps(document))
        edited = poll(client, acme, lambda body: body["version"] != first)
        assert (edited["value"], edited["rule"]) == (False, "excludedTenants")
        second = edited["version"]

        replace(path, '{"bulkExport": {"enabled": "yes"}}')
        ready = poll(client, "/v1/status", lambda body: body["lastError"] is not None)
        assert ready["status"] == "ready"
        assert ready["version"] == second
        assert "bulkExport.enabled" in ready["lastError"]
        assert client.get(acme).json()["value"] is False  # still the last good document
        assert metric(client, "flagkit_refresh_consecutive_failures") >= 1
        stale = poll(client, "/v1/status", lambda body: body["staleFor"] > 0.1)
        assert stale["staleFor"] > 0.1
        assert metric(client, "flagkit_seconds_since_last_good_load") > 0.1

        replace(path, (EXAMPLES / "flags.json").read_text())
        recovered = poll(client, "/v1/status", lambda body: body["lastError"] is None)
        assert (recovered["version"], recovered["staleFor"]) == (first, 0.0)
        assert client.get(acme).json()["value"] is True
    log = server.log()
    assert "WARNING flagkit: rejected flag document version" in log  # the rejection was logged
    assert "bulkExport.enabled" not in log  # without its problems (tests/test_service_leaks.py)


# -- no keys, not on loopback ---------------------------------------------------------------


@pytest.mark.parametrize("allow", [False, True])
def test_without_keys_only_loopback_is_answered(flags: Flags, allow: bool) -> None:
    # The ASGI transport's server address is the URL's host: not a loopback address.
    app = create_app(Settings(allow_unauthenticated=allow), flags=flags)

    async def ask() -> tuple[httpx.Response, httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://flags.example") as http:
            response = await http.get("/v1/flags/featureA", params={"tenant": "acme"})
            return response, await http.get("/healthz")

    response, health = asyncio.run(ask())

    assert health.status_code == 200
    if allow:
        assert response.status_code == 200
    else:
        assert response.status_code == 403
        assert response.json()["errorDetails"].startswith("this service has no API keys")


def test_the_access_log_is_off_unless_asked_for() -> None:
    """Query strings carry tenant ids and attributes: `flagkit serve` logs none by default."""
    with serve_cli("--source", str(EXAMPLES / "flags.json")) as server, server.client() as client:
        client.get(
            "/v1/flags/featureA", params={"tenant": "acme", "attr": "email=bob@corp.example"}
        )
        client.get("/readyz")
        client.get("/healthz")
    assert "bob@corp.example" not in server.log()
    assert "GET /healthz" not in server.log()
