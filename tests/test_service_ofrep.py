"""OFREP over a real uvicorn server: the OpenFeature SDK's OFREP provider, and the raw wire."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from openfeature import api
from openfeature.client import OpenFeatureClient
from openfeature.contrib.provider.ofrep import OFREPProvider
from openfeature.evaluation_context import EvaluationContext
from openfeature.exception import ErrorCode as SdkErrorCode
from openfeature.flag_evaluation import FlagEvaluationDetails
from openfeature.flag_evaluation import Reason as SdkReason

from flagkit.client import Flags
from tests.service_server import LiveServer, live, memory_flags

KEY = "ofrep-test-key-7f3a"
VERSION = "v1"
DOC: dict[str, Any] = {
    "featureA": {
        "enabled": True,
        "description": "New checkout flow",
        "tenants": ["acme"],
        "tiers": ["enterprise"],
        "temperature": 0.7,
        "owner": "checkout",
        "limits": {"max": 3},
    },
    "killed": {"enabled": False},
    "everyone": {"enabled": True},
    "rollout": {"enabled": True, "percentage": 30},
    "theme": {
        "enabled": True,
        "variants": {"dark": "dark", "light": "light"},
        "defaultVariant": "dark",
        "offVariant": "light",
        "tenants": ["acme"],
    },
    "maxItems": {
        "enabled": True,
        "variants": {"few": 10, "many": 100},
        "defaultVariant": "few",
        "offVariant": "few",
        "rules": [
            {"id": "eu", "when": [{"attribute": "region", "equals": "eu-west-1"}], "serve": "many"}
        ],
    },
    "ratio": {
        "enabled": True,
        "variants": {"low": 0.25, "high": 0.75},
        "defaultVariant": "low",
        "offVariant": "low",
        "tiers": ["pro"],
        "rules": [{"when": [{"attribute": "tier", "equals": "pro"}], "serve": "high"}],
    },
    "checkoutTheme": {
        "enabled": True,
        "variants": {
            "classic": {"layout": "single-page"},
            "fresh": {"layout": "stepper", "steps": ["cart", "pay"]},
        },
        "defaultVariant": "classic",
        "tenants": ["globex"],
        "rules": [
            {"id": "globex", "when": [{"attribute": "id", "equals": "globex"}], "serve": "fresh"}
        ],
    },
    "darkLaunch": {"enabled": False, "variants": {"a": "x"}, "defaultVariant": "a"},
}
AUTH = {"Authorization": f"Bearer {KEY}"}
SINGLE = "/ofrep/v1/evaluate/flags/{}"
BULK = "/ofrep/v1/evaluate/flags"


@pytest.fixture(scope="module")
def flags() -> Iterator[Flags]:
    with Flags.from_dict(DOC, version=VERSION) as made:
        yield made


@pytest.fixture(scope="module")
def server(flags: Flags) -> Iterator[LiveServer]:
    """One server for the module: an API key, and small context limits to reach them cheaply."""
    with live(
        flags,
        api_keys=frozenset({KEY}),
        max_context_attributes=4,
        max_context_string=16,
    ) as served:
        yield served


@pytest.fixture
def http(server: LiveServer) -> Iterator[httpx.Client]:
    with server.client(headers=AUTH) as client:
        yield client


@pytest.fixture
def sdk(server: LiveServer) -> Iterator[OpenFeatureClient]:
    """The OpenFeature SDK with the OFREP provider pointed at the server, with the key."""
    with sdk_client(server, lambda: dict(AUTH)) as client:
        yield client


@contextmanager
def sdk_client(
    server: LiveServer, headers: Callable[[], dict[str, str]]
) -> Iterator[OpenFeatureClient]:
    """`api.get_client()` on an `OFREPProvider`; the provider's HTTP session is closed after."""
    provider = OFREPProvider(server.base_url, headers_factory=headers)
    try:
        api.set_provider_and_wait(provider, domain="flagkit-service")
        yield api.get_client("flagkit-service")
    finally:
        api.clear_providers()
        provider.session.close()


def nested_list(depth: int) -> Any:
    """`[[[...["leaf"]...]]]`, `depth` lists deep."""
    nested: Any = "leaf"
    for _ in range(depth):
        nested = [nested]
    return nested


def ctx(targeting_key: str | None = None, **attributes: Any) -> EvaluationContext:
    return EvaluationContext(targeting_key, attributes)


# -- the OpenFeature SDK as the client ------------------------------------------------------


def test_sdk_boolean_flag_value_variant_reason_and_metadata(sdk: OpenFeatureClient) -> None:
    details = sdk.get_boolean_details("featureA", False, ctx("acme"))

    assert details == FlagEvaluationDetails(
        flag_key="featureA",
        value=True,
        variant="on",
        reason=SdkReason.TARGETING_MATCH,
        flag_metadata={
            "temperature": 0.7,
            "owner": "checkout",
            "version": VERSION,
            "rule": "tenants",
        },
    )


@pytest.mark.parametrize(
    ("flag", "context", "value", "variant", "reason", "rule"),
    [
        ("featureA", ctx("wayne", tier="enterprise"), True, "on", "TARGETING_MATCH", "tiers"),
        ("featureA", ctx("wayne", tier="free"), False, "off", "DEFAULT", "default"),
        ("killed", ctx("acme"), False, "off", "DISABLED", "kill-switch"),
        ("everyone", ctx("anyone"), True, "on", "STATIC", "static"),
        ("everyone", ctx(), True, "on", "STATIC", "static"),  # no targeting key needed
    ],
)
def test_sdk_boolean_flag_targeting(
    sdk: OpenFeatureClient,
    flag: str,
    context: EvaluationContext,
    value: bool,
    variant: str,
    reason: str,
    rule: str,
) -> None:
    details = sdk.get_boolean_details(flag, not value, context)

    assert (details.value, details.variant, details.reason) == (value, variant, reason)
    assert details.error_code is None
    assert details.flag_metadata["rule"] == rule
    assert details.flag_metadata["version"] == VERSION


def test_sdk_string_flag(sdk: OpenFeatureClient) -> None:
    acme = sdk.get_string_details("theme", "none", ctx("acme"))
    other = sdk.get_string_details("theme", "none", ctx("globex"))

    assert (acme.value, acme.variant, acme.reason) == ("dark", "dark", SdkReason.TARGETING_MATCH)
    assert (other.value, other.variant, other.reason) == ("light", "light", SdkReason.DEFAULT)


def test_sdk_integer_flag(sdk: OpenFeatureClient) -> None:
    eu = sdk.get_integer_details("maxItems", 0, ctx("acme", region="eu-west-1"))
    us = sdk.get_integer_details("maxItems", 0, ctx("acme", region="us-east-1"))

    assert (eu.value, eu.variant, eu.reason, eu.flag_metadata["rule"]) == (
        100,
        "many",
        SdkReason.TARGETING_MATCH,
        "eu",
    )
    assert (us.value, us.variant, us.reason) == (10, "few", SdkReason.DEFAULT)


def test_sdk_float_flag(sdk: OpenFeatureClient) -> None:
    pro = sdk.get_float_details("ratio", 0.0, ctx("acme", tier="pro"))
    free = sdk.get_float_details("ratio", 0.0, ctx("acme", tier="free"))

    assert (pro.value, pro.variant, pro.reason) == (0.75, "high", SdkReason.TARGETING_MATCH)
    assert (free.value, free.variant) == (0.25, "low")


def test_sdk_object_flag(sdk: OpenFeatureClient) -> None:
    details = sdk.get_object_details("checkoutTheme", {}, ctx("globex"))

    assert details.value == {"layout": "stepper", "steps": ["cart", "pay"]}
    assert (details.variant, details.reason) == ("fresh", SdkReason.TARGETING_MATCH)
    assert details.flag_metadata == {"version": VERSION, "rule": "globex"}


def test_sdk_code_default_returns_the_callers_default(sdk: OpenFeatureClient) -> None:
    # A kill-switched variant flag without offVariant: the wire carries no value.
    details = sdk.get_string_details("darkLaunch", "mine", ctx("acme"))

    assert (details.value, details.variant, details.reason) == ("mine", "", SdkReason.DISABLED)
    assert details.error_code is None


def test_sdk_percentage_rollout_matches_the_library(sdk: OpenFeatureClient, flags: Flags) -> None:
    tenants = [f"tenant-{number}" for number in range(300)]

    served = {tenant: sdk.get_boolean_value("rollout", False, ctx(tenant)) for tenant in tenants}

    expected = {tenant: flags.enabled("rollout", tenant) for tenant in tenants}
    assert served == expected
    assert 60 < sum(served.values()) < 120  # 30 % of 300, so both answers were exercised
    assert sdk.get_boolean_details("rollout", False, ctx("tenant-1")).reason == SdkReason.SPLIT


def test_sdk_missing_flag_is_flag_not_found_and_the_default(sdk: OpenFeatureClient) -> None:
    details = sdk.get_boolean_details("noSuchFlag", True, ctx("acme"))

    assert details.value is True
    assert details.reason == SdkReason.ERROR
    assert details.error_code == SdkErrorCode.FLAG_NOT_FOUND
    assert details.error_message == "flag 'noSuchFlag' was not found"


def test_sdk_missing_targeting_key(sdk: OpenFeatureClient) -> None:
    # The provider sends `{}` for an empty context: the flag needs a tenant id.
    details = sdk.get_boolean_details("rollout", True)

    assert details.value is True
    assert details.reason == SdkReason.ERROR
    assert details.error_code == SdkErrorCode.TARGETING_KEY_MISSING
    assert details.error_message == "flag 'rollout' needs a tenant id to decide, and none was given"


def test_sdk_invalid_context(sdk: OpenFeatureClient) -> None:
    details = sdk.get_boolean_details("featureA", True, ctx("acme", tier=3))

    assert details.value is True
    assert details.error_code == SdkErrorCode.INVALID_CONTEXT
    assert details.error_message == "context.tier must be a string, got a number"


def test_sdk_type_mismatch_is_detected_by_the_client(sdk: OpenFeatureClient) -> None:
    details = sdk.get_string_details("featureA", "fallback", ctx("acme"))

    assert details.value == "fallback"
    assert details.error_code == SdkErrorCode.TYPE_MISMATCH


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"X-API-Key": KEY + "x"}],
    ids=["no-key", "wrong-bearer", "wrong-api-key"],
)
def test_sdk_without_a_valid_key_gets_unauthorized_and_the_default(
    server: LiveServer, headers: dict[str, str]
) -> None:
    with sdk_client(server, lambda: dict(headers)) as client:
        details = client.get_boolean_details("everyone", False, ctx("acme"))

    assert details.value is False
    assert details.reason == SdkReason.ERROR
    assert details.error_code == SdkErrorCode.GENERAL
    assert details.error_message == "unauthorized"


def test_sdk_with_the_x_api_key_header(server: LiveServer) -> None:
    with sdk_client(server, lambda: {"X-API-Key": KEY}) as client:
        assert client.get_boolean_value("featureA", False, ctx("acme")) is True


# -- the wire format ------------------------------------------------------------------------


def post(http: httpx.Client, path: str, body: object) -> httpx.Response:
    return http.post(path, json=body)


def test_success_body_is_exact(http: httpx.Client) -> None:
    response = post(http, SINGLE.format("featureA"), {"context": {"targetingKey": "acme"}})

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {
        "key": "featureA",
        "value": True,
        "reason": "TARGETING_MATCH",
        "variant": "on",
        "metadata": {
            "temperature": 0.7,
            "owner": "checkout",
            "version": VERSION,
            "rule": "tenants",
        },
    }
    # The order is part of the format: key, value, reason, variant, metadata.
    assert list(json.loads(response.content)) == ["key", "value", "reason", "variant", "metadata"]


def test_code_default_has_no_value_and_an_empty_variant(http: httpx.Client) -> None:
    response = post(http, SINGLE.format("darkLaunch"), {"context": {"targetingKey": "acme"}})

    assert response.status_code == 200
    assert response.json() == {
        "key": "darkLaunch",
        "reason": "DISABLED",
        "variant": "",
        "metadata": {"version": VERSION, "rule": "kill-switch"},
    }


def test_a_body_without_context_is_an_empty_context(http: httpx.Client) -> None:
    static = post(http, SINGLE.format("everyone"), {})
    targeted = post(http, SINGLE.format("rollout"), {})

    assert (static.status_code, static.json()["value"]) == (200, True)
    assert targeted.status_code == 400
    assert targeted.json() == {
        "key": "rollout",
        "errorCode": "TARGETING_KEY_MISSING",
        "errorDetails": "flag 'rollout' needs a tenant id to decide, and none was given",
    }


def test_null_targeting_key_and_tier_are_as_if_absent(http: httpx.Client) -> None:
    no_key = post(http, SINGLE.format("rollout"), {"context": {"targetingKey": None}})
    no_tier = post(
        http, SINGLE.format("featureA"), {"context": {"targetingKey": "wayne", "tier": None}}
    )

    assert (no_key.status_code, no_key.json()["errorCode"]) == (400, "TARGETING_KEY_MISSING")
    assert no_tier.status_code == 200
    assert (no_tier.json()["value"], no_tier.json()["metadata"]["rule"]) == (False, "default")


@pytest.mark.parametrize(
    ("context", "details"),
    [
        pytest.param(["acme"], "context must be a JSON object, got an array", id="array"),
        pytest.param("acme", "context must be a JSON object, got a string", id="string"),
        pytest.param(None, "context must be a JSON object, got null", id="null"),
        pytest.param(
            {"targetingKey": 42}, "context.targetingKey must be a string, got a number", id="key"
        ),
        pytest.param(
            {"targetingKey": "acme", "tier": ["pro"]},
            "context.tier must be a string, got an array",
            id="tier",
        ),
        pytest.param(
            {"targetingKey": "acme", "a": 1, "b": 2, "c": 3, "d": 4},
            "context: 5 attributes is more than the limit of 4",
            id="too-many",
        ),
        pytest.param(
            {"targetingKey": "acme", "profile": {"tags": ["short", "x" * 17]}},
            "context.profile.tags[1]: 17 characters is longer than the limit of 16",
            id="long-nested-string",
        ),
        pytest.param(
            {"targetingKey": "acme", "profile": {"k" * 17: 1}},
            "context.profile: a key of 17 characters is longer than the limit of 16",
            id="long-nested-key",
        ),
        pytest.param(
            {"targetingKey": "x" * 17},
            "context.targetingKey: 17 characters is longer than the limit of 16",
            id="long-targeting-key",
        ),
        pytest.param(
            {"targetingKey": "acme", "deep": nested_list(40)},
            "context.deep" + "[0]" * 32 + ": nested more than 32 levels deep",
            id="deep",
        ),
    ],
)
def test_invalid_context_is_400_and_names_the_field(
    http: httpx.Client, context: object, details: str
) -> None:
    single = post(http, SINGLE.format("featureA"), {"context": context})
    bulk = post(http, BULK, {"context": context})

    assert single.status_code == 400
    assert single.json() == {
        "key": "featureA",
        "errorCode": "INVALID_CONTEXT",
        "errorDetails": details,
    }
    assert bulk.status_code == 400
    assert bulk.json() == {"errorCode": "INVALID_CONTEXT", "errorDetails": details}


@pytest.mark.parametrize(
    ("body", "details"),
    [
        (b"not json", "request body is not JSON: Expecting value: line 1 column 1 (char 0)"),
        (b"", "request body is not JSON: Expecting value: line 1 column 1 (char 0)"),
        (b'{"context": {"targetingKey": "acme"}', None),
        (b"\xff\xfe{}", None),
        (b"[" * 5000 + b"]" * 5000, "request body is nested too deeply"),
        (b"[1]", 'request body must be a JSON object like {"context": {...}}, got an array'),
        (b'"acme"', 'request body must be a JSON object like {"context": {...}}, got a string'),
    ],
    ids=["text", "empty", "truncated", "not-utf8", "deep", "array", "string"],
)
def test_a_body_that_is_not_a_json_object_is_parse_error(
    http: httpx.Client, body: bytes, details: str | None
) -> None:
    headers = {"Content-Type": "application/json"}
    single = http.post(SINGLE.format("featureA"), content=body, headers=headers)
    bulk = http.post(BULK, content=body, headers=headers)

    assert single.status_code == 400
    assert bulk.status_code == 400
    assert single.json()["key"] == "featureA"
    assert single.json()["errorCode"] == bulk.json()["errorCode"] == "PARSE_ERROR"
    if details is None:
        assert single.json()["errorDetails"].startswith("request body is not JSON: ")
    else:
        assert single.json()["errorDetails"] == bulk.json()["errorDetails"] == details


def test_missing_flag_is_404_flag_not_found(http: httpx.Client) -> None:
    response = post(http, SINGLE.format("noSuchFlag"), {"context": {"targetingKey": "acme"}})

    assert response.status_code == 404
    assert response.json() == {
        "key": "noSuchFlag",
        "errorCode": "FLAG_NOT_FOUND",
        "errorDetails": "flag 'noSuchFlag' was not found",
    }


@pytest.mark.parametrize("path", [SINGLE.format("featureA"), BULK])
@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer nope"}, {"X-API-Key": "nope"}, {"Authorization": KEY}],
    ids=["none", "wrong-bearer", "wrong-x-api-key", "not-bearer"],
)
def test_evaluation_without_a_valid_key_is_401(
    server: LiveServer, path: str, headers: dict[str, str]
) -> None:
    with server.client(headers=headers) as client:
        response = client.post(path, json={"context": {"targetingKey": "acme"}})

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["errorCode"] == "GENERAL"
    assert KEY not in response.text


# -- bulk -----------------------------------------------------------------------------------


def test_bulk_evaluates_every_flag_with_per_flag_failures(http: httpx.Client, flags: Flags) -> None:
    response = post(http, BULK, {"context": {"tier": "pro"}})

    assert response.status_code == 200
    body = response.json()
    assert body["metadata"] == {"version": VERSION}
    assert [entry["key"] for entry in body["flags"]] == list(flags.keys)
    by_key = {entry["key"]: entry for entry in body["flags"]}
    # No targetingKey: flags that need a tenant id fail one by one, the rest answer.
    assert by_key["rollout"] == {
        "key": "rollout",
        "errorCode": "TARGETING_KEY_MISSING",
        "errorDetails": "flag 'rollout' needs a tenant id to decide, and none was given",
    }
    assert by_key["featureA"]["value"] is False  # no id: not in `tenants`, so no match
    assert by_key["everyone"] == {
        "key": "everyone",
        "value": True,
        "reason": "STATIC",
        "variant": "on",
        "metadata": {"version": VERSION, "rule": "static"},
    }
    assert by_key["ratio"]["value"] == 0.75
    assert by_key["darkLaunch"] == {
        "key": "darkLaunch",
        "reason": "DISABLED",
        "variant": "",
        "metadata": {"version": VERSION, "rule": "kill-switch"},
    }


def test_bulk_answers_equal_the_single_flag_answers(http: httpx.Client) -> None:
    context = {"targetingKey": "acme", "region": "eu-west-1"}
    bulk = post(http, BULK, {"context": context}).json()["flags"]

    for entry in bulk:
        single = post(http, SINGLE.format(entry["key"]), {"context": context})
        assert single.json() == entry


def test_bulk_etag_and_if_none_match() -> None:
    flags, source = memory_flags(DOC, "v1")
    with flags, live(flags) as server, server.client() as http:
        body = {"context": {"targetingKey": "acme"}}
        first = http.post(BULK, json=body)
        etag = first.headers["etag"]
        assert first.status_code == 200
        assert etag[0] == etag[-1] == '"'  # a strong tag
        assert len(etag) == 34
        assert first.headers["cache-control"] == "no-cache"

        again = http.post(BULK, json=body)
        assert (again.headers["etag"], again.content) == (etag, first.content)

        unchanged = http.post(BULK, json=body, headers={"If-None-Match": etag})
        assert unchanged.status_code == 304
        assert unchanged.content == b""
        assert unchanged.headers["etag"] == etag

        weak = http.post(BULK, json=body, headers={"If-None-Match": f"W/{etag}"})
        assert weak.status_code == 304
        listed = http.post(BULK, json=body, headers={"If-None-Match": f'"other", {etag}'})
        assert listed.status_code == 304
        other = http.post(BULK, json=body, headers={"If-None-Match": '"other"'})
        assert (other.status_code, other.content) == (200, first.content)

        # Another context has other answers, so another ETag.
        globex = http.post(BULK, json={"context": {"targetingKey": "globex"}})
        assert globex.headers["etag"] != etag
        stale_for_globex = http.post(
            BULK, json={"context": {"targetingKey": "globex"}}, headers={"If-None-Match": etag}
        )
        assert stale_for_globex.status_code == 200

        # A new document: the old ETag no longer matches, and the new one does.
        changed = json.loads(json.dumps(DOC))
        changed["featureA"]["tenants"] = []
        source.update(changed, version="v2")
        assert flags.refresh()
        after = http.post(BULK, json=body, headers={"If-None-Match": etag})
        assert after.status_code == 200
        assert after.headers["etag"] != etag
        assert after.json()["metadata"] == {"version": "v2"}
        assert {e["key"]: e.get("value") for e in after.json()["flags"]}["featureA"] is False
        assert (
            http.post(BULK, json=body, headers={"If-None-Match": after.headers["etag"]}).status_code
            == 304
        )


def test_bulk_etag_changes_with_the_version_alone() -> None:
    # Same answers, new version label: the body's metadata differs, so the ETag does too.
    flags, source = memory_flags(DOC, "v1")
    with flags, live(flags) as server, server.client() as http:
        body = {"context": {"targetingKey": "acme"}}
        etag = http.post(BULK, json=body).headers["etag"]
        source.update(DOC, version="v2")
        assert flags.refresh()
        response = http.post(BULK, json=body, headers={"If-None-Match": etag})
        assert response.status_code == 200
        assert response.headers["etag"] != etag
