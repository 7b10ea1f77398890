"""`flagkit.openfeature.FlagkitProvider` through the real OpenFeature SDK client."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from openfeature import api
from openfeature.client import OpenFeatureClient
from openfeature.evaluation_context import EvaluationContext
from openfeature.event import EventDetails, ProviderEvent, ProviderEventDetails
from openfeature.exception import ErrorCode as OpenFeatureErrorCode
from openfeature.flag_evaluation import FlagEvaluationDetails
from openfeature.flag_evaluation import Reason as OpenFeatureReason
from openfeature.provider import FeatureProvider, ProviderStatus

from flagkit import DocumentError, ErrorCode, Flags, Reason, SourceError
from flagkit.openfeature import FlagkitProvider
from flagkit.sources.base import Snapshot
from flagkit.sources.memory import MemorySource
from flagkit.sources.snapshot import content_version
from tests.helpers import run_python
from tests.strategies import tenant_ids

DOC: dict[str, Any] = {
    "featureA": {
        "enabled": True,
        "description": "New checkout flow",
        "tenants": ["acme"],
        "tiers": ["enterprise"],
        "temperature": 0.7,
        "limits": {"max": 3},
    },
    "killed": {"enabled": False},
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
        "defaultVariant": "many",
        "offVariant": "few",
        "rules": [
            {"id": "eu", "when": [{"attribute": "region", "equals": "eu-west-1"}], "serve": "many"}
        ],
    },
    "ratio": {
        "enabled": True,
        "variants": {"low": 0.25, "high": 0.75, "whole": 1},
        "defaultVariant": "high",
        "offVariant": "low",
        "rules": [{"when": [{"attribute": "plan", "equals": "max"}], "serve": "whole"}],
        "tiers": ["pro"],
    },
    "checkoutTheme": {
        "enabled": True,
        "variants": {
            "classic": {"layout": "single-page"},
            "fresh": {"layout": "stepper", "steps": ["cart", "pay"]},
        },
        "defaultVariant": "fresh",
        "tenants": ["globex"],
    },
    "darkLaunch": {"enabled": False, "variants": {"a": "x"}, "defaultVariant": "a"},
    "yesNo": {
        "enabled": True,
        "variants": {"yes": True, "no": False},
        "defaultVariant": "yes",
        "offVariant": "no",
    },
}
VERSION = "v1"


@pytest.fixture(autouse=True)
def fresh_openfeature() -> Iterator[None]:
    """Every test starts and ends with an empty OpenFeature registry and no handlers."""
    api.clear_providers()
    yield
    api.shutdown()


@pytest.fixture
def flags() -> Flags:
    return Flags.from_dict(DOC, version=VERSION)


@pytest.fixture
def client(flags: Flags) -> OpenFeatureClient:
    api.set_provider_and_wait(FlagkitProvider(flags))
    return api.get_client()


def ctx(targeting_key: str | None = None, **attributes: Any) -> EvaluationContext:
    return EvaluationContext(targeting_key, attributes)


class EventLog:
    """Records the events a client's handlers receive; `wait_for` blocks until one arrives."""

    def __init__(self, client: OpenFeatureClient, *events: ProviderEvent) -> None:
        self._seen: list[tuple[ProviderEvent, EventDetails]] = []
        self._changed = threading.Condition()
        for event in events:
            client.add_handler(event, self._handler(event))

    def _handler(self, event: ProviderEvent) -> Any:
        def record(details: EventDetails) -> None:
            with self._changed:
                self._seen.append((event, details))
                self._changed.notify_all()

        return record

    def mark(self) -> int:
        """The number of events so far: `wait_for(..., after=mark)` ignores those."""
        with self._changed:
            return len(self._seen)

    def wait_for(self, event: ProviderEvent, after: int = 0) -> EventDetails:
        """The first `event` recorded after the first `after` events; fails after 5 s."""

        def found() -> EventDetails | None:
            return next((d for e, d in self._seen[after:] if e is event), None)

        with self._changed:
            arrived = self._changed.wait_for(lambda: found() is not None, timeout=5)
            assert arrived, f"no {event.value} within 5 s; saw {self.names()}"
            details = found()
            assert details is not None
            return details

    def names(self) -> list[str]:
        with self._changed:
            return [event.value for event, _ in self._seen]


class FlakySource:
    """A memory source that raises `SourceError` while `failing` is set."""

    description = "flaky"

    def __init__(self, document: dict[str, Any], *, failing: bool = False) -> None:
        self.memory = MemorySource(document)
        self.failing = failing

    def fetch(self) -> Snapshot:
        if self.failing:
            raise SourceError("flaky: connection refused", retryable=True)
        return self.memory.fetch()


# -- values, variants, reasons, metadata ----------------------------------------------------------


def test_boolean_flag_maps_value_variant_reason_and_metadata(client: OpenFeatureClient) -> None:
    details = client.get_boolean_details("featureA", False, ctx("acme"))

    assert details == FlagEvaluationDetails(
        flag_key="featureA",
        value=True,
        variant="on",
        reason=OpenFeatureReason.TARGETING_MATCH,
        flag_metadata={  # scalar attributes, not `description` (a field) or `limits` (an object)
            "temperature": 0.7,
            "version": VERSION,
            "rule": "tenants",
        },
    )


@pytest.mark.parametrize(
    ("context", "default", "value", "variant", "reason", "rule"),
    [
        pytest.param(ctx("acme"), False, True, "on", "TARGETING_MATCH", "tenants", id="tenants"),
        pytest.param(ctx("wayne", tier="enterprise"), False, True, "on", "TARGETING_MATCH",
                     "tiers", id="tier"),
        pytest.param(ctx("wayne", tier="free"), True, False, "off", "DEFAULT", "default", id="off"),
    ],
)  # fmt: skip
def test_boolean_flag_targeting(
    client: OpenFeatureClient,
    context: EvaluationContext,
    default: bool,
    value: bool,
    variant: str,
    reason: str,
    rule: str,
) -> None:
    details = client.get_boolean_details("featureA", default, context)

    assert (details.value, details.variant, details.reason) == (value, variant, reason)
    assert details.flag_metadata["rule"] == rule
    assert details.error_code is None


def test_kill_switch_is_off_whatever_the_default(client: OpenFeatureClient) -> None:
    details = client.get_boolean_details("killed", True, ctx("acme"))

    assert (details.value, details.variant, details.reason) == (False, "off", Reason.DISABLED)
    assert details.flag_metadata == {"version": VERSION, "rule": "kill-switch"}


@pytest.mark.parametrize(
    ("method", "flag", "context", "default", "value", "variant", "reason"),
    [
        pytest.param(
            "get_string_details", "theme", ctx("acme"), "none", "dark", "dark", "TARGETING_MATCH",
            id="string-on",
        ),
        pytest.param(
            "get_string_details", "theme", ctx("initech"), "none", "light", "light", "DEFAULT",
            id="string-off-variant",
        ),
        pytest.param(
            "get_integer_details", "maxItems", ctx("acme", region="eu-west-1"), 0, 100, "many",
            "TARGETING_MATCH", id="integer-rule",
        ),
        pytest.param(
            "get_integer_details", "maxItems", ctx("acme", region="us-east-1"), 0, 10, "few",
            "DEFAULT", id="integer-off-variant",
        ),
        pytest.param(
            "get_float_details", "ratio", ctx("acme", tier="pro"), 0.0, 0.75, "high",
            "TARGETING_MATCH", id="float-tier",
        ),
        pytest.param(
            "get_float_details", "ratio", ctx("acme"), 0.0, 0.25, "low", "DEFAULT",
            id="float-off-variant",
        ),
        pytest.param(
            "get_object_details", "checkoutTheme", ctx("globex"), {},
            {"layout": "stepper", "steps": ["cart", "pay"]}, "fresh", "TARGETING_MATCH",
            id="object",
        ),
        pytest.param(
            "get_boolean_details", "yesNo", ctx("acme"), False, True, "yes", "STATIC",
            id="boolean-variants",
        ),
    ],
)  # fmt: skip
def test_typed_variant_flags(
    client: OpenFeatureClient,
    method: str,
    flag: str,
    context: EvaluationContext,
    default: Any,
    value: Any,
    variant: str,
    reason: str,
) -> None:
    details = getattr(client, method)(flag, default, context)

    assert (details.value, details.variant, details.reason) == (value, variant, reason)
    assert type(details.value) is type(value)
    assert details.error_code is None
    assert details.flag_metadata["version"] == VERSION


def test_tier_is_the_tenant_tier_not_an_attribute(client: OpenFeatureClient) -> None:
    # `ratio` serves "high" to tier pro (step 6), and "whole" only to attribute plan=max.
    as_tier = client.get_float_details("ratio", 0.0, ctx("acme", tier="pro"))
    as_attribute = client.get_float_details("ratio", 0.0, ctx("acme", plan="max"))

    assert (as_tier.variant, as_tier.flag_metadata["rule"]) == ("high", "tiers")
    assert (as_attribute.variant, as_attribute.flag_metadata["rule"]) == ("whole", "rules[0]")


def test_float_accepts_an_integer_value_as_a_float(client: OpenFeatureClient) -> None:
    details = client.get_float_details("ratio", 0.0, ctx("acme", plan="max"))

    assert details.value == 1.0
    assert type(details.value) is float
    assert (details.variant, details.error_code) == ("whole", None)


def test_object_value_is_a_copy(client: OpenFeatureClient, flags: Flags) -> None:
    first = client.get_object_value("checkoutTheme", {}, ctx("globex"))
    assert isinstance(first, dict)
    first["layout"] = "changed"
    first["steps"].append("oops")

    again = client.get_object_value("checkoutTheme", {}, ctx("globex"))
    assert again == {"layout": "stepper", "steps": ["cart", "pay"]}
    assert flags.value("checkoutTheme", "globex") == again


@pytest.mark.parametrize(
    ("flag", "context", "reason", "rule"),
    [
        pytest.param("checkoutTheme", ctx("initech"), "DEFAULT", "default", id="off-no-offVariant"),
        pytest.param("darkLaunch", ctx("acme"), "DISABLED", "kill-switch", id="disabled"),
    ],
)
def test_flagkit_default_is_the_callers_default(
    client: OpenFeatureClient, flag: str, context: EvaluationContext, reason: str, rule: str
) -> None:
    default = {"layout": "caller"}
    details = client.get_object_details(flag, default, context)

    assert details.value == default
    assert (details.variant, details.reason, details.error_code) == (None, reason, None)
    assert details.flag_metadata["rule"] == rule


# -- errors --------------------------------------------------------------------------------------


def test_missing_flag_is_flag_not_found_with_the_default(client: OpenFeatureClient) -> None:
    details = client.get_string_details("nope", "fallback", ctx("acme"))

    assert details == FlagEvaluationDetails(
        flag_key="nope",
        value="fallback",
        reason=OpenFeatureReason.ERROR,
        error_code=OpenFeatureErrorCode.FLAG_NOT_FOUND,
        error_message="no flag 'nope'",
        flag_metadata={"version": VERSION},
    )


@pytest.mark.parametrize("context", [ctx(), ctx(""), None], ids=["no-key", "empty-key", "no-ctx"])
def test_percentage_without_targeting_key_is_targeting_key_missing(
    client: OpenFeatureClient, context: EvaluationContext | None
) -> None:
    details = client.get_boolean_details("rollout", True, context)

    assert (details.value, details.reason) == (True, OpenFeatureReason.ERROR)
    assert details.error_code == OpenFeatureErrorCode.TARGETING_KEY_MISSING
    assert details.variant is None


def test_flags_without_hashing_answer_without_a_targeting_key(client: OpenFeatureClient) -> None:
    details = client.get_boolean_details("featureA", False, ctx(tier="enterprise"))

    assert (details.value, details.variant, details.error_code) == (True, "on", None)


def test_non_string_tier_is_invalid_context(client: OpenFeatureClient) -> None:
    details = client.get_boolean_details("featureA", True, ctx("acme", tier=5))

    assert (details.value, details.reason) == (True, OpenFeatureReason.ERROR)
    assert details.error_code == OpenFeatureErrorCode.INVALID_CONTEXT
    assert details.error_message == "tenant tier must be a str, got int"


@pytest.mark.parametrize(
    ("method", "flag", "default", "served"),
    [
        pytest.param("get_boolean_details", "theme", False, "a str", id="bool-on-string"),
        pytest.param("get_string_details", "featureA", "x", "a bool", id="string-on-bool"),
        pytest.param("get_integer_details", "ratio", 7, "a float", id="integer-on-float"),
        pytest.param("get_integer_details", "yesNo", 7, "a bool", id="integer-on-bool"),
        pytest.param("get_float_details", "yesNo", 7.5, "a bool", id="float-on-bool"),
        pytest.param("get_float_details", "theme", 7.5, "a str", id="float-on-string"),
        pytest.param("get_object_details", "maxItems", {"d": 1}, "a int", id="object-on-int"),
        pytest.param("get_string_details", "checkoutTheme", "x", "a dict", id="string-on-object"),
    ],
)
def test_wrong_type_is_type_mismatch_with_the_default(
    client: OpenFeatureClient, method: str, flag: str, default: Any, served: str
) -> None:
    details = getattr(client, method)(flag, default, ctx("globex", tier="pro"))

    assert details.value == default
    assert type(details.value) is type(default)
    assert (details.reason, details.error_code) == ("ERROR", OpenFeatureErrorCode.TYPE_MISMATCH)
    assert details.variant is None
    assert served in details.error_message
    assert details.flag_metadata["version"] == VERSION


def test_type_mismatch_message(client: OpenFeatureClient) -> None:
    details = client.get_integer_details("ratio", 7, ctx("acme", tier="pro"))

    assert details.error_message == "flag 'ratio' served variant 'high', a float, not an integer"


def test_every_flagkit_reason_and_error_code_is_openfeatures() -> None:
    from openfeature.flag_evaluation import Reason as OFReason

    assert {OFReason(reason.value).value for reason in Reason} == {r.value for r in Reason}
    assert {OpenFeatureErrorCode(code.value).value for code in ErrorCode} == {
        c.value for c in ErrorCode
    }


# -- rollouts --------------------------------------------------------------------------------------


def test_percentage_rollout_reaches_the_tenants_flags_enabled_does(
    client: OpenFeatureClient, flags: Flags
) -> None:
    tenants = [f"tenant-{n}" for n in range(400)]
    via_openfeature = [client.get_boolean_value("rollout", False, ctx(t)) for t in tenants]
    via_flags = [flags.enabled("rollout", t) for t in tenants]

    assert via_openfeature == via_flags
    assert 80 < sum(via_openfeature) < 160  # about 30 % of 400: the rollout really splits
    details = client.get_boolean_details("rollout", False, ctx("tenant-1"))
    assert (details.reason, details.flag_metadata["rule"]) == ("SPLIT", "percentage")


@given(tenant=tenant_ids())
def test_boolean_value_is_flags_enabled(tenant: str) -> None:
    api.clear_providers()
    flags = Flags.from_dict(DOC, version=VERSION)
    api.set_provider_and_wait(FlagkitProvider(flags))
    client = api.get_client()

    for flag in ("featureA", "rollout", "killed"):
        assert client.get_boolean_value(flag, False, ctx(tenant)) is flags.enabled(flag, tenant)
        assert client.get_boolean_value(flag, True, ctx(tenant)) is flags.enabled(
            flag, tenant, default=True
        )


def test_async_resolution(client: OpenFeatureClient) -> None:
    details = asyncio.run(client.get_string_details_async("theme", "none", ctx("acme")))

    assert (details.value, details.variant) == ("dark", "dark")


# -- provider lifecycle --------------------------------------------------------------------------


def test_metadata_name(client: OpenFeatureClient) -> None:
    assert api.get_provider_metadata().name == "flagkit"
    assert client.provider.get_metadata().name == "flagkit"


def test_ready_after_set_provider(client: OpenFeatureClient) -> None:
    events = EventLog(client, ProviderEvent.PROVIDER_READY)

    assert events.wait_for(ProviderEvent.PROVIDER_READY).provider_name == "flagkit"
    assert client.get_provider_status() is ProviderStatus.READY


def test_shutdown_detaches_without_closing_flags(monkeypatch: pytest.MonkeyPatch) -> None:
    source = MemorySource(DOC)
    flags = Flags(source)
    closed: list[bool] = []
    monkeypatch.setattr(flags, "close", lambda: closed.append(True))
    provider = FlagkitProvider(flags)
    emitted: list[ProviderEvent] = []

    def on_emit(_: FeatureProvider, event: ProviderEvent, __: ProviderEventDetails) -> None:
        emitted.append(event)

    provider.initialize(EvaluationContext())
    provider.attach(on_emit)
    source.update({**DOC, "killed": {"enabled": True}})
    assert flags.refresh()
    assert emitted == [ProviderEvent.PROVIDER_CONFIGURATION_CHANGED]

    provider.shutdown()
    assert flags._announcer.callbacks == []  # unsubscribed
    assert flags._refresher.status_callbacks == []
    source.update(DOC)
    assert flags.refresh()  # flags still refreshes and serves ...
    assert not flags.enabled("killed", "acme")
    assert emitted == [ProviderEvent.PROVIDER_CONFIGURATION_CHANGED]  # ... but nothing is emitted
    assert closed == []

    provider.initialize(EvaluationContext())  # set again: attached again, subscribed once
    source.update({**DOC, "killed": {"enabled": True}})
    assert flags.refresh()
    assert emitted == [ProviderEvent.PROVIDER_CONFIGURATION_CHANGED] * 2


def test_api_shutdown_leaves_flags_serving(flags: Flags) -> None:
    api.set_provider_and_wait(FlagkitProvider(flags))
    api.shutdown()

    assert flags.enabled("featureA", "acme")
    assert api.get_client().get_boolean_value("featureA", False, ctx("acme")) is False  # no-op


# -- events --------------------------------------------------------------------------------------


def test_configuration_changed_lists_the_changed_flags(tmp_path: Path) -> None:
    path = tmp_path / "flags.json"
    path.write_text(json.dumps(DOC), encoding="utf-8")
    flags = Flags.from_file(path)
    api.set_provider_and_wait(FlagkitProvider(flags))
    client = api.get_client()
    changed = threading.Event()
    received: list[EventDetails] = []

    def on_changed(details: EventDetails) -> None:
        received.append(details)
        changed.set()

    client.add_handler(ProviderEvent.PROVIDER_CONFIGURATION_CHANGED, on_changed)
    document = {**DOC, "killed": {"enabled": True}, "theme": {"enabled": False}}
    path.write_text(json.dumps(document), encoding="utf-8")
    assert flags.refresh()

    assert changed.wait(5)
    [details] = received
    assert details.flags_changed == ["killed", "theme"]
    assert details.provider_name == "flagkit"
    assert details.metadata == {"version": flags.version}
    assert client.get_boolean_value("killed", False, ctx("acme")) is True


def following(flags: Flags) -> tuple[OpenFeatureClient, EventLog]:
    """A client of a provider on `flags`, and the log of its STALE, READY and CHANGED events,
    once the SDK's own READY is in it."""
    api.set_provider_and_wait(FlagkitProvider(flags))
    client = api.get_client()
    events = EventLog(
        client,
        ProviderEvent.PROVIDER_STALE,
        ProviderEvent.PROVIDER_READY,
        ProviderEvent.PROVIDER_CONFIGURATION_CHANGED,
    )
    events.wait_for(ProviderEvent.PROVIDER_READY)  # the SDK's, on set_provider
    return client, events


def test_invalid_document_makes_the_provider_stale_until_a_good_one(tmp_path: Path) -> None:
    path = tmp_path / "flags.json"
    path.write_text(json.dumps(DOC), encoding="utf-8")
    flags = Flags.from_file(path)
    client, events = following(flags)
    start = events.mark()

    path.write_text('{"featureA": {"enabled": "yes"}}', encoding="utf-8")
    rejected = content_version(path.read_bytes())
    with pytest.raises(DocumentError):
        flags.refresh()
    # The failure is noticed at the next evaluation, which still answers from the old document.
    assert client.get_boolean_value("featureA", False, ctx("acme")) is True
    stale = events.wait_for(ProviderEvent.PROVIDER_STALE, after=start)
    assert client.get_provider_status() is ProviderStatus.STALE
    assert stale.message == (
        f"serving version {flags.version} from file:{path}; version {rejected} was rejected; "
        f"last refresh of file:{path} failed: featureA.enabled: \"yes\" is not of type 'boolean'"
    )

    recovered = events.mark()
    path.write_text(json.dumps({**DOC, "killed": {"enabled": True}}), encoding="utf-8")
    assert flags.refresh()
    changed = events.wait_for(ProviderEvent.PROVIDER_CONFIGURATION_CHANGED, after=recovered)
    events.wait_for(ProviderEvent.PROVIDER_READY, after=recovered)
    assert changed.flags_changed == ["killed"]
    assert client.get_provider_status() is ProviderStatus.READY
    assert events.names()[start:].count("PROVIDER_STALE") == 1  # emitted once, not per read


def test_source_error_is_stale_and_recovery_is_ready() -> None:
    source = FlakySource(DOC)
    flags = Flags(source)
    api.set_provider_and_wait(FlagkitProvider(flags))
    client = api.get_client()
    events = EventLog(client, ProviderEvent.PROVIDER_STALE, ProviderEvent.PROVIDER_READY)
    events.wait_for(ProviderEvent.PROVIDER_READY)
    start = events.mark()

    source.failing = True
    with pytest.raises(SourceError):
        flags.refresh()
    # Reported the moment the refresh failed, before any evaluation.
    stale = events.wait_for(ProviderEvent.PROVIDER_STALE, after=start)
    assert client.get_provider_status() is ProviderStatus.STALE
    assert stale.message == (
        "serving version " + str(flags.version) + " from flaky; "
        "last refresh of flaky failed: flaky: connection refused"
    )
    for _ in range(3):
        assert client.get_boolean_value("featureA", False, ctx("acme")) is True

    healed = events.mark()
    source.failing = False
    assert not flags.refresh()  # the same document: no change, but the source answers again
    ready = events.wait_for(ProviderEvent.PROVIDER_READY, after=healed)
    assert ready.message == f"serving version {flags.version} from flaky"
    assert client.get_provider_status() is ProviderStatus.READY
    assert events.names()[start:] == ["PROVIDER_STALE", "PROVIDER_READY"]


class ScriptedSource:
    """Answers each fetch with the next of `answers`: a document, None ("unchanged") or an
    exception to raise; "unchanged" once they run out."""

    description = "scripted"

    def __init__(self, *answers: Snapshot | Exception | None) -> None:
        self.answers = list(answers)

    def fetch(self) -> Snapshot | None:
        answer = self.answers.pop(0) if self.answers else None
        if isinstance(answer, Exception):
            raise answer
        return answer


def test_a_rejection_keeps_the_provider_stale_through_errors_and_unchanged_polls() -> None:
    """Rejected, then a transient error, then "unchanged" twice: STALE once, no READY until
    a good document is in."""
    bad = {"featureA": {"enabled": "yes"}}
    problem = "featureA.enabled: \"yes\" is not of type 'boolean'"
    source = ScriptedSource(MemorySource(DOC, version="1").fetch())
    flags = Flags(source)
    client, events = following(flags)
    start = events.mark()
    source.answers = [
        MemorySource(bad, version="2").fetch(),
        SourceError("scripted: throttled", retryable=True),
        None,
        None,
        MemorySource({**DOC, "killed": {"enabled": True}}, version="3").fetch(),
    ]

    with pytest.raises(DocumentError):
        flags.refresh()
    stale = events.wait_for(ProviderEvent.PROVIDER_STALE, after=start)
    assert stale.message == (
        f"serving version 1 from scripted; version 2 was rejected; "
        f"last refresh of scripted failed: {problem}"
    )
    with pytest.raises(SourceError):
        flags.refresh()
    assert flags.refresh() is False
    assert flags.refresh() is False
    assert client.get_boolean_value("killed", True, ctx("acme")) is False  # version 1 answers
    assert client.get_provider_status() is ProviderStatus.STALE
    assert events.names()[start:] == ["PROVIDER_STALE"]

    assert flags.refresh() is True
    events.wait_for(ProviderEvent.PROVIDER_CONFIGURATION_CHANGED, after=start)
    assert events.names()[start:] == [
        "PROVIDER_STALE",
        "PROVIDER_READY",
        "PROVIDER_CONFIGURATION_CHANGED",
    ]
    assert client.get_provider_status() is ProviderStatus.READY


def test_serving_the_fallback_is_error_until_the_source_answers() -> None:
    source = FlakySource({**DOC, "killed": {"enabled": True}}, failing=True)
    flags = Flags(source, fallback=DOC)
    api.set_provider_and_wait(FlagkitProvider(flags))
    client = api.get_client()
    events = EventLog(
        client,
        ProviderEvent.PROVIDER_ERROR,
        ProviderEvent.PROVIDER_READY,
        ProviderEvent.PROVIDER_CONFIGURATION_CHANGED,
    )
    events.wait_for(ProviderEvent.PROVIDER_READY)
    start = events.mark()

    assert client.get_boolean_value("killed", True, ctx("acme")) is False  # the fallback answers
    error = events.wait_for(ProviderEvent.PROVIDER_ERROR, after=start)
    assert error.error_code == OpenFeatureErrorCode.GENERAL
    assert error.message is not None
    assert error.message.startswith("serving version ")
    assert "from fallback:memory; last refresh of flaky failed" in error.message
    assert client.get_provider_status() is ProviderStatus.ERROR

    healed = events.mark()
    source.failing = False
    assert flags.refresh()
    changed = events.wait_for(ProviderEvent.PROVIDER_CONFIGURATION_CHANGED, after=healed)
    events.wait_for(ProviderEvent.PROVIDER_READY, after=healed)
    assert changed.flags_changed == ["killed"]
    assert client.get_provider_status() is ProviderStatus.READY
    assert client.get_boolean_value("killed", False, ctx("acme")) is True


# -- the optional extra ------------------------------------------------------------------------


def test_import_flagkit_does_not_import_openfeature() -> None:
    result = run_python("import sys, flagkit; print('openfeature' in sys.modules)")

    assert (result.returncode, result.stdout.strip()) == (0, "False"), result.stderr


def test_missing_sdk_names_the_extra() -> None:
    code = (
        "import sys\n"
        "sys.modules['openfeature'] = None\n"
        "try:\n"
        "    import flagkit.openfeature\n"
        "except ImportError as exc:\n"
        "    print(exc)\n"
    )
    result = run_python(code)

    assert result.stdout.strip() == (
        "flagkit.openfeature needs the OpenFeature SDK: pip install 'flagkit-engine[openfeature]'"
    ), result.stderr
