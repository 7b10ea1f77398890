"""`AppConfigSource` and `Flags.from_appconfig` against the loopback AppConfig endpoint.

Real boto3 `appconfigdata` clients talk real HTTP to tests/appconfig_endpoint.py on
127.0.0.1; nothing in flagkit is mocked. The endpoint advertises a 1-second poll
interval (flagkit always asks for AppConfig's 15-second minimum; the endpoint is told not
to honour it), tokens are aged with the endpoint's `advance()` clock, and swaps are
awaited through `on_change`, so the file runs in seconds.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from flagkit import DocumentError, Flags, SchemaValidationError, SourceError
from flagkit.errors import ConfigurationError
from flagkit.schedulers import Backoff
from flagkit.sources.appconfig import SESSION_MAX_AGE, AppConfigSource
from flagkit.sources.snapshot import content_version
from tests.appconfig_endpoint import (
    DEFAULT_TOKEN_TTL,
    GET_CONFIGURATION,
    START_SESSION,
    AppConfigEndpoint,
    FaultKind,
    Operation,
    RequestRecord,
)
from tests.appconfig_fixtures import (
    APP,
    ENV,
    PROFILE,
    ChangeWaiter,
    Harness,
    backoff_floor,
    fast_endpoint,
    flagkit_warnings,
    free_port,
    harness_for,
    max_requests_within,
    wait_until,
)

SOURCE = f"appconfig://{APP}/{ENV}/{PROFILE}"
RESOURCE = f"(application {APP!r}, environment {ENV!r}, profile {PROFILE!r})"
HASH_VERSION = re.compile(r"^hash:[0-9a-f]{16}$")

V1: dict[str, Any] = {
    "checkout": {"enabled": True, "tenants": ["acme"]},
    "search": {"enabled": False},
    "export": {"enabled": True},
}
V2: dict[str, Any] = {
    "checkout": {"enabled": True, "tenants": ["acme", "globex"]},
    "search": {"enabled": True},
    "export": {"enabled": True, "excludedTenants": ["initech"]},
}
V2_YAML = """\
checkout:
  enabled: true
  tenants: [acme, globex]
search:
  enabled: true
export:
  enabled: true
  excludedTenants: [initech]
"""
V3: dict[str, Any] = {
    "checkout": {"enabled": False},
    "search": {"enabled": True, "tenants": ["initech"]},
    "export": {"enabled": True},
}
# Two problems, so the rejection must name every JSON path.
BAD: dict[str, Any] = {
    "checkout": {"enabled": "yes"},
    "search": {"enabled": True, "percentage": 300},
}
BAD_MESSAGE = (
    "2 problems in the flag document:\n"
    "  checkout.enabled: \"yes\" is not of type 'boolean'\n"
    "  search.percentage: 300 is greater than the maximum of 100"
)

PROBES = [(flag, tenant) for flag in V1 for tenant in ("acme", "globex", "initech")]


def answers(flags: Flags) -> list[bool]:
    return [flags.enabled(flag, tenant) for flag, tenant in PROBES]


def answers_of(document: dict[str, Any]) -> list[bool]:
    return answers(Flags.from_dict(document))


def test_documents_answer_differently() -> None:
    """The checks below tell documents apart by their answers: make sure they can."""
    distinct = {tuple(answers_of(document)) for document in (V1, V2, V3)}
    assert len(distinct) == 3


def operations(endpoint: AppConfigEndpoint) -> list[tuple[str, int | None]]:
    return [(record.operation, record.status) for record in endpoint.requests]


# -- loading and following deployments ------------------------------------------------------


def test_first_load(endpoint: AppConfigEndpoint, harness: Harness) -> None:
    endpoint.deploy(APP, ENV, PROFILE, V1)
    before = time.time()
    flags = harness.appconfig(refresh_mode="thread")
    after = time.time()

    assert flags.version == "1"
    assert answers(flags) == answers_of(V1)
    status = flags.status
    assert (status.source, status.origin, status.version) == (SOURCE, SOURCE, "1")
    assert before <= status.loaded_at <= after
    assert status.last_attempt == status.loaded_at
    assert (status.last_error, status.consecutive_failures, status.stale_for) == (None, 0, 0.0)
    assert operations(endpoint) == [(START_SESSION, 201), (GET_CONFIGURATION, 200)]


@pytest.mark.parametrize(
    "interval",
    [
        1,
        # The 15-second minimum AppConfig really allows, honoured by the endpoint: ~15 s.
        pytest.param(15, marks=pytest.mark.slow),
    ],
)
def test_background_thread_sees_a_deployment_within_one_poll_interval(
    monkeypatch: pytest.MonkeyPatch, interval: int
) -> None:
    with (
        fast_endpoint(poll_interval=interval, honour_required_minimum=interval >= 15) as endpoint,
        harness_for(endpoint, monkeypatch) as harness,
    ):
        endpoint.deploy(APP, ENV, PROFILE, V1)
        flags = harness.appconfig(refresh_mode="thread")
        waiter = ChangeWaiter()
        flags.on_change(waiter)
        v2_checkout_globex = answers_of(V2)[PROBES.index(("checkout", "globex"))]
        first_read: list[float] = []

        def reader() -> None:
            # The first read that answers from the new document, polled every millisecond.
            if wait_until(
                lambda: flags.enabled("checkout", "globex") == v2_checkout_globex,
                timeout=interval + 2,
                interval=0.001,
            ):
                first_read.append(time.monotonic())

        # Deployed right after the load, so the thread's first poll (one advertised interval
        # after the load) is the earliest that can see it: the worst case for the latency.
        deployed = time.monotonic()
        endpoint.deploy(APP, ENV, PROFILE, V2)
        reading = threading.Thread(target=reader)
        reading.start()
        try:
            assert waiter.changed.wait(interval + 2), "no on_change within the interval + 2 s"
        finally:
            reading.join()
        assert waiter.calls == [("1", "2", frozenset({"checkout", "search", "export"}))]
        assert waiter.times[0] - deployed <= interval + 2
        assert first_read, "no enabled() answered from the new document"
        latency = first_read[0] - deployed
        print(
            f"\nadvertised poll interval {interval} s: deploy() -> on_change "
            f"{waiter.times[0] - deployed:.3f} s, deploy() -> first enabled() seeing it "
            f"{latency:.3f} s"
        )
        assert latency <= interval + 2
        assert answers(flags) == answers_of(V2)
        # One session; the thread waited the advertised interval (no refusals even where the
        # endpoint holds the session to its 15-second minimum).
        assert endpoint.count(START_SESSION) == 1
        assert all(status in (200, 201) for _, status in operations(endpoint))


def test_empty_body_keeps_the_document(endpoint: AppConfigEndpoint, harness: Harness) -> None:
    endpoint.deploy(APP, ENV, PROFILE, V1)
    flags = harness.appconfig()
    waiter = ChangeWaiter()
    flags.on_change(waiter)
    served = flags.flagset

    assert [flags.refresh() for _ in range(3)] == [False, False, False]

    assert endpoint.count(GET_CONFIGURATION) == 4
    assert endpoint.count(START_SESSION) == 1
    assert flags.flagset is served  # not even recompiled
    assert waiter.calls == []
    assert flags.status.last_error is None
    assert flags.status.consecutive_failures == 0


@pytest.mark.parametrize(
    "label", [{"send_version_label": False}, {"version_label": ""}], ids=["missing", "empty"]
)
def test_without_a_version_label_the_version_is_a_content_hash(
    endpoint: AppConfigEndpoint, harness: Harness, label: dict[str, Any]
) -> None:
    body = json.dumps(V1).encode()
    endpoint.deploy(APP, ENV, PROFILE, body, **label)
    flags = harness.appconfig()
    assert flags.version is not None
    assert HASH_VERSION.match(flags.version)
    assert flags.version == content_version(body)

    # The same bytes deployed again: same hash, nothing to swap.
    endpoint.deploy(APP, ENV, PROFILE, body, **label)
    assert flags.refresh() is False
    # Other bytes: another hash, swapped in.
    endpoint.deploy(APP, ENV, PROFILE, json.dumps(V2).encode(), **label)
    assert flags.refresh() is True
    assert flags.version == content_version(json.dumps(V2).encode())
    assert answers(flags) == answers_of(V2)


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (json.dumps(V2), "application/json; charset=utf-8"),
        (json.dumps(V2), "application/vnd.flags+json"),
        (V2_YAML, "application/x-yaml"),
        (V2_YAML, "application/yaml"),
        (V2_YAML, "text/yaml; charset=utf-8"),
    ],
)
def test_json_with_parameters_and_yaml_documents(
    endpoint: AppConfigEndpoint, harness: Harness, content: str, content_type: str
) -> None:
    endpoint.deploy(APP, ENV, PROFILE, V1)
    flags = harness.appconfig()
    endpoint.deploy(APP, ENV, PROFILE, content, content_type=content_type)
    assert flags.refresh() is True
    assert flags.version == "2"
    assert answers(flags) == answers_of(V2)
    assert flags.flagset.document == Flags.from_dict(V2).flagset.document


def test_a_text_plain_deployment_is_refused_naming_the_type(
    endpoint: AppConfigEndpoint, harness: Harness
) -> None:
    endpoint.deploy(APP, ENV, PROFILE, V1)
    flags = harness.appconfig()
    endpoint.deploy(APP, ENV, PROFILE, json.dumps(V2), content_type="text/plain")

    with pytest.raises(SchemaValidationError) as excinfo:
        flags.refresh()

    message = (
        "(document): cannot read a flag document of type 'text/plain'; flagkit reads "
        "application/json (and application/x-yaml with PyYAML)"
    )
    assert str(excinfo.value) == message
    assert excinfo.value.source == SOURCE
    assert flags.version == "1"
    assert answers(flags) == answers_of(V1)
    assert flags.status.last_error == message
    assert flags.status.consecutive_failures == 1
    # The next poll is "unchanged" (an empty body): the refused version stays reported.
    assert flags.refresh() is False
    assert flags.status.last_error == message


def test_an_invalid_document_is_rejected_once_then_a_good_one_swapped_in(
    endpoint: AppConfigEndpoint, harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="flagkit")
    endpoint.deploy(APP, ENV, PROFILE, V1)
    flags = harness.appconfig(refresh_mode="thread")
    waiter = ChangeWaiter()
    flags.on_change(waiter)

    endpoint.deploy(APP, ENV, PROFILE, BAD)
    assert wait_until(lambda: flags.status.last_error is not None, timeout=3)
    rejected_at = endpoint.count(GET_CONFIGURATION)
    # Two more polls: the session answers "unchanged", the rejection stays reported.
    assert endpoint.wait_for_requests(GET_CONFIGURATION, rejected_at + 2, timeout=5)

    status = flags.status
    assert status.last_error == BAD_MESSAGE
    assert status.consecutive_failures == 1
    assert status.stale_for > 0
    assert status.version == flags.version == "1"
    assert answers(flags) == answers_of(V1)
    assert waiter.calls == []
    assert flagkit_warnings(caplog) == [
        f"flagkit: rejected flag document version 2 from {SOURCE}; still serving version 1: "
        "checkout.enabled: \"yes\" is not of type 'boolean'; "
        "search.percentage: 300 is greater than the maximum of 100"
    ]

    endpoint.deploy(APP, ENV, PROFILE, V3)
    assert waiter.wait_for_version("3", timeout=3)
    status = flags.status
    assert (status.version, status.last_error, status.consecutive_failures) == ("3", None, 0)
    assert status.stale_for == 0.0
    assert answers(flags) == answers_of(V3)
    assert waiter.calls == [("1", "3", frozenset({"checkout", "search"}))]
    assert len(flagkit_warnings(caplog)) == 1


# -- failures AppConfig answers with --------------------------------------------------------

# Flags backs off with Backoff(cap=max(poll_interval, 30)): base 1 s, doubling, full jitter.
FLAGS_BACKOFF = Backoff(cap=30.0)

STORM_ERRORS = {
    "throttle": (429, f"ThrottlingException: Rate exceeded {RESOURCE}"),
    "internal": (500, f"InternalServerException: An internal error occurred. {RESOURCE}"),
}


@pytest.mark.parametrize("kind", ["throttle", "internal"])
def test_fault_storm_backs_off_keeps_serving_and_recovers(
    endpoint: AppConfigEndpoint, harness: Harness, kind: FaultKind
) -> None:
    status_code, error = STORM_ERRORS[kind]
    endpoint.deploy(APP, ENV, PROFILE, V1)
    flags = harness.appconfig(refresh_mode="thread")
    waiter = ChangeWaiter()
    flags.on_change(waiter)

    def failed() -> list[RequestRecord]:
        return [record for record in endpoint.requests if record.status == status_code]

    endpoint.set_fault(kind)
    endpoint.deploy(APP, ENV, PROFILE, V2)  # deployed during the storm: served once it ends
    # (The endpoint logs a request before it answers: await flagkit's own count.)
    assert wait_until(lambda: flags.status.consecutive_failures >= 3, timeout=10)

    status = flags.status
    assert status.last_error == f"{SOURCE}: GetLatestConfiguration failed: {error}"
    assert status.consecutive_failures >= 3
    assert status.stale_for > 0
    assert flags.version == "1"
    assert answers(flags) == answers_of(V1)

    failures_before_clear = len(failed())
    endpoint.clear_faults()
    # The next retry comes at most one backoff ceiling later (one more failure may be in flight).
    longest_wait = 2 * backoff_floor(FLAGS_BACKOFF, failures_before_clear + 1)
    assert waiter.wait_for_version("2", timeout=longest_wait + 2)

    status = flags.status
    assert (status.last_error, status.consecutive_failures, status.stale_for) == (None, 0, 0.0)
    assert answers(flags) == answers_of(V2)

    requests = endpoint.requests
    storm = requests[requests.index(failed()[0]) :]
    refused = failed()
    assert storm[: len(refused)] == refused  # one unbroken run of failures ...
    assert [record.operation for record in refused] == [GET_CONFIGURATION] * len(refused)
    assert storm[len(refused)].status == 200  # ... then the first request after it succeeded
    # Every wait was at least the floor Backoff allows for that many failures: exponential.
    for failures, (earlier, later) in enumerate(pairwise(storm[: len(refused) + 1]), start=1):
        assert later.time - earlier.time >= backoff_floor(FLAGS_BACKOFF, failures) - 0.01
    window = refused[-1].time - refused[0].time
    assert len(refused) <= max_requests_within(window, FLAGS_BACKOFF)


@pytest.mark.parametrize("kind", ["throttle", "internal"])
def test_flagkits_own_client_sends_one_request_per_failed_poll(
    endpoint: AppConfigEndpoint, harness: Harness, kind: FaultKind
) -> None:
    """No botocore retries under flagkit's backoff: a throttled poll is one request, not two."""
    endpoint.deploy(APP, ENV, PROFILE, V1)
    flags = harness.appconfig(own_client=True)  # flagkit makes the boto3 client itself
    assert flags.version == "1"
    assert operations(endpoint) == [(START_SESSION, 201), (GET_CONFIGURATION, 200)]

    status_code, error = STORM_ERRORS[kind]
    endpoint.set_fault(kind, operation=GET_CONFIGURATION)
    for polls in range(1, 4):
        with pytest.raises(SourceError) as excinfo:
            flags.refresh()
        assert excinfo.value.retryable is True
        assert str(excinfo.value) == f"{SOURCE}: GetLatestConfiguration failed: {error}"
        assert operations(endpoint)[2:] == [(GET_CONFIGURATION, status_code)] * polls
    assert flags.status.consecutive_failures == 3

    endpoint.clear_faults()
    endpoint.deploy(APP, ENV, PROFILE, V2)
    assert flags.refresh() is True
    assert operations(endpoint)[5:] == [(GET_CONFIGURATION, 200)]
    assert answers(flags) == answers_of(V2)


def test_flagkits_own_client_leaves_the_retrying_to_flagkits_backoff(
    endpoint: AppConfigEndpoint, harness: Harness
) -> None:
    """In a throttling storm every request is one of flagkit's polls, spaced by its Backoff."""
    endpoint.deploy(APP, ENV, PROFILE, V1)
    flags = harness.appconfig(own_client=True, refresh_mode="thread")
    start = len(endpoint.requests)
    endpoint.set_fault("throttle")
    assert wait_until(lambda: flags.status.consecutive_failures >= 3, timeout=10)
    endpoint.clear_faults()

    storm = [record for record in endpoint.requests[start:] if record.status == 429]
    assert len(storm) >= 3
    # One request per failure that flagkit counted (a fourth may be on its way) ...
    assert len(storm) <= flags.status.consecutive_failures + 1
    # ... each after at least the shortest wait flagkit's Backoff allows for that many failures:
    # botocore retrying inside one poll would put two requests within its own, shorter delay.
    for failures, (earlier, later) in enumerate(pairwise(storm), start=1):
        assert later.time - earlier.time >= backoff_floor(FLAGS_BACKOFF, failures) - 0.01


@pytest.mark.slow
def test_a_long_throttling_storm_sends_far_fewer_requests_than_polls(
    endpoint: AppConfigEndpoint, harness: Harness
) -> None:
    """30 s of throttling: one request per advertised interval would be ~30 requests."""
    endpoint.deploy(APP, ENV, PROFILE, V1)
    flags = harness.appconfig(refresh_mode="thread")
    waiter = ChangeWaiter()
    flags.on_change(waiter)
    start = len(endpoint.requests)
    endpoint.set_fault("throttle")
    began = endpoint.now()
    # No request may come now: the wait is the test (nothing to await but time passing).
    assert not endpoint.wait_for_requests(None, start + 100, timeout=30)
    storm = endpoint.now() - began
    failed = sum(1 for record in endpoint.requests[start:] if record.status == 429)
    bound = max_requests_within(storm, FLAGS_BACKOFF)
    print(f"\n{storm:.1f} s storm: {failed} requests (bound {bound}, polls {storm:.0f})")
    assert failed <= bound
    assert bound <= storm / endpoint.poll_interval / 4
    endpoint.clear_faults()
    endpoint.deploy(APP, ENV, PROFILE, V2)
    assert waiter.wait_for_version("2", timeout=FLAGS_BACKOFF.cap + 2)
    assert flags.status.consecutive_failures == 0


def test_an_expired_token_starts_a_new_session_silently(
    endpoint: AppConfigEndpoint, harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="flagkit")
    endpoint.deploy(APP, ENV, PROFILE, V1)
    flags = harness.appconfig(refresh_mode="thread")
    waiter = ChangeWaiter()
    flags.on_change(waiter)

    endpoint.advance(DEFAULT_TOKEN_TTL + 1)
    endpoint.deploy(APP, ENV, PROFILE, V2)
    assert waiter.wait_for_version("2", timeout=3)

    assert operations(endpoint)[-3:] == [
        (GET_CONFIGURATION, 400),  # Expired
        (START_SESSION, 201),
        (GET_CONFIGURATION, 200),
    ]
    assert endpoint.count(START_SESSION) == 2
    status = flags.status
    assert (status.last_error, status.consecutive_failures) == (None, 0)
    assert flagkit_warnings(caplog) == []


def test_a_token_the_endpoint_does_not_know_starts_a_new_session(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The endpoint restarts and forgets every token: the next one is `Corrupted`."""
    with harness_for(None, monkeypatch) as harness:
        with fast_endpoint() as first:
            first.deploy(APP, ENV, PROFILE, V1)
            port = first.port
            flags = harness.appconfig(url=first.url)
        with fast_endpoint(port=port) as second:
            second.deploy(APP, ENV, PROFILE, V1)
            second.deploy(APP, ENV, PROFILE, V2)
            assert flags.refresh() is True
            assert operations(second) == [
                (GET_CONFIGURATION, 400),  # Corrupted: not a token of this endpoint
                (START_SESSION, 201),
                (GET_CONFIGURATION, 200),
            ]
            assert flags.version == "2"
            assert (flags.status.last_error, flags.status.consecutive_failures) == (None, 0)


def test_poll_interval_not_satisfied_keeps_the_session(monkeypatch: pytest.MonkeyPatch) -> None:
    # A clock that only moves by advance(): every early poll is refused.
    with (
        fast_endpoint(poll_interval=2, enforce_poll_interval=True, clock=lambda: 0.0) as endpoint,
        harness_for(endpoint, monkeypatch) as harness,
    ):
        endpoint.deploy(APP, ENV, PROFILE, V1)
        flags = harness.appconfig()

        with pytest.raises(SourceError) as excinfo:
            flags.refresh()
        message = f"{SOURCE}: AppConfig asks to wait 2 s between polls (PollIntervalNotSatisfied)"
        assert str(excinfo.value) == message
        assert excinfo.value.retryable is True
        assert excinfo.value.retry_after == 2
        assert flags.status.last_error == message
        assert endpoint.count(START_SESSION) == 1

        endpoint.advance(2)
        assert flags.refresh() is False
        assert endpoint.count(START_SESSION) == 1  # the refused token stayed good
        after = flags.status
        assert (after.last_error, after.consecutive_failures) == (None, 0)


def test_poll_interval_not_satisfied_the_thread_waits_as_asked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with (
        fast_endpoint(poll_interval=2, enforce_poll_interval=True, clock=lambda: 0.0) as endpoint,
        harness_for(endpoint, monkeypatch) as harness,
    ):
        endpoint.deploy(APP, ENV, PROFILE, V1)
        flags = harness.appconfig(refresh_mode="thread")
        waiter = ChangeWaiter()
        flags.on_change(waiter)

        assert endpoint.wait_for_requests(GET_CONFIGURATION, 2, timeout=5)
        refused_at = time.monotonic()
        assert operations(endpoint)[-1] == (GET_CONFIGURATION, 400)
        assert wait_until(lambda: flags.status.consecutive_failures == 1, timeout=2)
        assert "PollIntervalNotSatisfied" in (flags.status.last_error or "")

        endpoint.advance(2)
        endpoint.deploy(APP, ENV, PROFILE, V2)
        assert waiter.wait_for_version("2", timeout=5)
        waited = time.monotonic() - refused_at
        # Backoff alone would have retried after 0.5-1 s; AppConfig asked for 2 s.
        assert waited >= 2 - 0.05
        assert endpoint.count(START_SESSION) == 1
        assert operations(endpoint)[2:] == [(GET_CONFIGURATION, 400), (GET_CONFIGURATION, 200)]
        assert flags.status.last_error is None


def test_the_session_is_renewed_after_23_hours_of_the_source_clock(
    endpoint: AppConfigEndpoint, harness: Harness
) -> None:
    now = [1000.0]
    source = AppConfigSource(
        APP, ENV, PROFILE, poll_interval=15, client=harness.client(), clock=lambda: now[0]
    )
    endpoint.deploy(APP, ENV, PROFILE, V1)
    first = source.fetch()
    assert first is not None
    assert first.version == "1"

    now[0] += SESSION_MAX_AGE
    assert source.fetch() is None  # 23 h exactly: same session, nothing new
    assert endpoint.count(START_SESSION) == 1

    now[0] += 1
    renewed = source.fetch()  # a new session delivers the deployed document again
    assert renewed is not None
    assert (renewed.version, renewed.content) == ("1", first.content)
    assert endpoint.count(START_SESSION) == 2
    assert [status for _, status in operations(endpoint)] == [201, 200, 200, 201, 200]

    now[0] += SESSION_MAX_AGE  # and the renewed session is the one that ages now
    assert source.fetch() is None
    assert endpoint.count(START_SESSION) == 2


# -- set-up errors --------------------------------------------------------------------------


def test_a_poll_interval_below_appconfigs_minimum_is_refused(
    endpoint: AppConfigEndpoint, harness: Harness
) -> None:
    with pytest.raises(ConfigurationError) as excinfo:
        harness.appconfig(poll_interval=5)
    assert isinstance(excinfo.value, ValueError)
    assert str(excinfo.value) == (
        "poll_interval must be from 15 to 86400 seconds (AppConfig's limits), got 5"
    )
    assert endpoint.requests == []


@pytest.mark.parametrize(
    ("identifiers", "not_found"),
    [
        (("nope", ENV, PROFILE), "Application 'nope' could not be found."),
        ((APP, "nope", PROFILE), "Environment 'nope' could not be found."),
        ((APP, ENV, "nope"), "ConfigurationProfile 'nope' could not be found."),
    ],
)
def test_an_unknown_resource_at_start_names_it(
    endpoint: AppConfigEndpoint,
    harness: Harness,
    identifiers: tuple[str, str, str],
    not_found: str,
) -> None:
    endpoint.deploy(APP, ENV, PROFILE, V1)
    app, env, profile = identifiers
    began = time.monotonic()
    with pytest.raises(SourceError) as excinfo:
        harness.appconfig(app, env, profile, startup_timeout=10)
    assert time.monotonic() - began < 5  # not retried: it will not start to exist
    assert str(excinfo.value) == (
        f"no flag document to start from:\n  appconfig://{app}/{env}/{profile}: "
        f"StartConfigurationSession failed: ResourceNotFoundException: {not_found} "
        f"(application {app!r}, environment {env!r}, profile {profile!r})"
    )
    assert operations(endpoint) == [(START_SESSION, 404)]

    source = AppConfigSource(app, env, profile, client=harness.client())
    with pytest.raises(SourceError) as direct:
        source.fetch()
    assert direct.value.retryable is False
    assert "ResourceNotFoundException" in str(direct.value)


# -- start-up without AppConfig: backup and fallback ------------------------------------------


def down_url() -> tuple[int, str]:
    port = free_port()
    return port, f"http://127.0.0.1:{port}"


def unreachable(url: str) -> str:
    return (
        f"{SOURCE}: StartConfigurationSession failed: EndpointConnectionError: "
        f'Could not connect to the endpoint URL: "{url}/configurationsessions"'
    )


def test_the_backup_is_written_atomically(
    endpoint: AppConfigEndpoint, harness: Harness, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    backup = cache / "flags-backup.json"
    endpoint.deploy(APP, ENV, PROFILE, V1)
    flags = harness.appconfig(backup_path=backup)
    for document in (V2, V3):
        endpoint.deploy(APP, ENV, PROFILE, document)
        assert flags.refresh() is True
    endpoint.deploy(APP, ENV, PROFILE, BAD)
    with pytest.raises(DocumentError):
        flags.refresh()

    assert sorted(path.name for path in cache.iterdir()) == ["flags-backup.json"]
    record = json.loads(backup.read_text(encoding="utf-8"))
    assert record.pop("savedAt") is not None
    assert record == {"flagkitBackup": 1, "source": SOURCE, "version": "3", "document": V3}


def write_backup(harness: Harness, path: Path, document: dict[str, Any], **deploy: Any) -> None:
    """A backup as an earlier run of the application leaves it."""
    with fast_endpoint() as earlier:
        earlier.deploy(APP, ENV, PROFILE, document, **deploy)
        harness.appconfig(url=earlier.url, backup_path=path).close()


def test_start_from_the_backup_then_swap_in_the_live_document(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="flagkit")
    backup = tmp_path / "flags-backup.json"
    with harness_for(None, monkeypatch) as harness:
        write_backup(harness, backup, V1)
        port, url = down_url()

        flags = harness.appconfig(url=url, backup_path=backup, refresh_mode="thread")
        waiter = ChangeWaiter()
        flags.on_change(waiter)

        status = flags.status
        assert status.origin == f"backup:{backup}"
        assert status.source == SOURCE
        assert status.version == "1"
        assert status.last_error == unreachable(url)
        assert status.consecutive_failures == 1
        assert answers(flags) == answers_of(V1)
        assert flagkit_warnings(caplog) == [
            f"flagkit: serving backup:{backup} (version 1) until {SOURCE} answers"
        ]

        with fast_endpoint(port=port) as live:
            live.deploy(APP, ENV, PROFILE, V2, version_label="live-2")
            try:
                assert waiter.wait_for_version("live-2", timeout=10)
            finally:
                flags.close()
        status = flags.status
        assert (status.origin, status.version) == (SOURCE, "live-2")
        assert (status.last_error, status.consecutive_failures) == (None, 0)
        assert answers(flags) == answers_of(V2)
        assert json.loads(backup.read_text(encoding="utf-8"))["version"] == "live-2"


STARTUP = 1.0  # startup_timeout for the hanging-endpoint tests: seconds
MARGIN = 1.5  # what start-up may take beyond it (a busy machine, thread scheduling)


def read_timeout(url: str, operation: str) -> str:
    """How botocore's read timeout starts its message (the token follows a GET's URL)."""
    if operation == START_SESSION:
        return f'ReadTimeoutError: Read timeout on endpoint URL: "{url}/configurationsessions"'
    return (
        f'ReadTimeoutError: Read timeout on endpoint URL: "{url}/configuration?configuration_token='
    )


@pytest.mark.parametrize("hangs", [START_SESSION, GET_CONFIGURATION])
@pytest.mark.parametrize("standby", ["backup", "fallback", "none"])
def test_startup_timeout_bounds_an_appconfig_that_never_answers(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, standby: str, hangs: Operation
) -> None:
    """AppConfig accepts the connection and never answers: start-up with flagkit's own client
    ends after about `startup_timeout` (not its 10-second read timeout, twice), with the
    backup, the fallback or a SourceError."""
    backup = tmp_path / "flags-backup.json"
    with (
        fast_endpoint() as endpoint,
        harness_for(endpoint, monkeypatch) as harness,
    ):
        endpoint.deploy(APP, ENV, PROFILE, V1)
        # An earlier run left its backup (and botocore has loaded the service model).
        harness.appconfig(own_client=True, backup_path=backup).close()
        endpoint.set_fault("delay", seconds=60, operation=hangs)  # cut short by close()

        options: dict[str, Any] = {"startup_timeout": STARTUP}
        if standby == "backup":
            options["backup_path"] = backup
        elif standby == "fallback":
            options["fallback"] = V2
        timed_out = f"{SOURCE}: {hangs} failed: " + read_timeout(endpoint.url, hangs)
        began = time.monotonic()
        if standby == "none":
            with pytest.raises(SourceError) as excinfo:
                harness.appconfig(own_client=True, **options)
            took = time.monotonic() - began
            assert str(excinfo.value).startswith(f"no flag document to start from:\n  {timed_out}")
        else:
            flags = harness.appconfig(own_client=True, **options)
            took = time.monotonic() - began
            origin = f"backup:{backup}" if standby == "backup" else "fallback:memory"
            assert flags.status.origin == origin
            assert answers(flags) == answers_of(V1 if standby == "backup" else V2)
            assert (flags.status.last_error or "").startswith(timed_out)
        assert STARTUP - 0.05 <= took <= STARTUP + MARGIN
        assert endpoint.count(hangs) == 1  # only the earlier run's request was answered


def test_stale_for_counts_from_when_the_served_backup_was_saved(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A backup saved an hour ago serves a document at least an hour old: `stale_for` says so
    from the start, not only from when this process started."""
    backup = tmp_path / "flags-backup.json"
    with harness_for(None, monkeypatch) as harness:
        write_backup(harness, backup, V1)
        record = json.loads(backup.read_text(encoding="utf-8"))
        saved = time.time() - 3600
        record["savedAt"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(saved))
        backup.write_text(json.dumps(record), encoding="utf-8")
        port, url = down_url()

        flags = harness.appconfig(url=url, backup_path=backup)
        status = flags.status
        assert status.origin == f"backup:{backup}"
        assert status.consecutive_failures == 1
        assert 3600 - 1 <= status.stale_for <= time.time() - saved + 1
        assert status.loaded_at >= saved + 3600 - 1  # loaded now, from a document saved then
        assert flags.status.stale_for >= status.stale_for  # and it keeps growing

        # AppConfig answers with the same version: the document is current again.
        with fast_endpoint(port=port) as live:
            live.deploy(APP, ENV, PROFILE, V1)
            assert flags.refresh() is False
        status = flags.status
        assert (status.origin, status.version) == (SOURCE, "1")
        assert (status.consecutive_failures, status.stale_for) == (0, 0.0)


@pytest.mark.parametrize("kind", ["dict", "file"])
def test_start_from_the_fallback_without_a_backup(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, kind: str
) -> None:
    fallback: dict[str, Any] | Path = V2
    origin = "fallback:memory"
    if kind == "file":
        fallback = tmp_path / "flags.default.json"
        fallback.write_text(json.dumps(V2), encoding="utf-8")
        origin = f"fallback:file:{fallback}"
    _, url = down_url()
    with harness_for(None, monkeypatch) as harness:
        flags = harness.appconfig(url=url, fallback=fallback)
        assert flags.status.origin == origin
        assert flags.status.last_error == unreachable(url)
        assert flags.version == content_version(json.dumps(V2).encode())
        assert answers(flags) == answers_of(V2)


def test_start_with_nothing_lists_every_attempt(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _, url = down_url()
    missing_backup = tmp_path / "cache" / "flags-backup.json"
    missing_fallback = tmp_path / "flags.default.json"
    with harness_for(None, monkeypatch) as harness:
        with pytest.raises(SourceError) as bare:
            harness.appconfig(url=url)
        assert str(bare.value) == f"no flag document to start from:\n  {unreachable(url)}"

        with pytest.raises(SourceError) as every:
            harness.appconfig(url=url, backup_path=missing_backup, fallback=missing_fallback)
        assert str(every.value) == (
            "no flag document to start from:\n"
            f"  {unreachable(url)}\n"
            f"  backup:{missing_backup}: cannot read the flag backup '{missing_backup}': "
            f"[Errno 2] No such file or directory: '{missing_backup}'\n"
            f"  fallback:file:{missing_fallback}: cannot read flag document "
            f"'{missing_fallback}': No such file or directory"
        )


def test_close_closes_the_client_flagkit_made_but_not_a_callers(
    endpoint: AppConfigEndpoint, harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    endpoint.deploy(APP, ENV, PROFILE, V1)
    own = harness.appconfig(own_client=True)
    theirs = harness.appconfig()
    closed: list[str] = []
    for name, flags in (("own", own), ("theirs", theirs)):
        client = flags._refresher.source._client  # type: ignore[attr-defined]
        assert client is not None
        monkeypatch.setattr(client, "close", lambda name=name: closed.append(name))
    own.close()
    theirs.close()
    assert closed == ["own"]
    assert own.version == "1"  # reading goes on from the served document
