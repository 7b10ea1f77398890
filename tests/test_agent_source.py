"""`AgentSource` and `Flags.from_agent` against the Agent path of the loopback AppConfig endpoint.

flagkit's own urllib code talks real HTTP to tests/appconfig_endpoint.py on 127.0.0.1,
which serves `GET /applications/{app}/environments/{env}/configurations/{profile}` as the
AppConfig Agent does (with `Authorization: Bearer` when given an access token).
"""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from flagkit import Flags, SourceError
from flagkit.sources.agent import AgentSource
from tests.appconfig_endpoint import AGENT, AppConfigEndpoint, FaultKind
from tests.appconfig_fixtures import (
    APP,
    ENV,
    PROFILE,
    V1,
    V2,
    ChangeWaiter,
    Harness,
    fast_endpoint,
    free_port,
    harness_for,
    wait_until,
)

SOURCE = f"agent://{APP}/{ENV}/{PROFILE}"
AGENT_TOKEN = "agent-access-token"  # noqa: S105 - a test value, like the agent's ACCESS_TOKEN


def answers(flags: Flags) -> list[bool]:
    return [flags.enabled(flag, tenant) for flag in V1 for tenant in ("acme", "globex")]


def answers_of(document: dict[str, Any]) -> list[bool]:
    return answers(Flags.from_dict(document))


def test_documents_answer_differently() -> None:
    assert answers_of(V1) != answers_of(V2)


def test_from_agent_loads_and_follows_deployments(
    endpoint: AppConfigEndpoint, harness: Harness
) -> None:
    endpoint.deploy(APP, ENV, PROFILE, V1)
    flags = harness.agent(refresh_mode="thread", poll_interval=0.2)
    waiter = ChangeWaiter()
    flags.on_change(waiter)
    assert flags.version == "1"  # the agent's Configuration-Version header
    assert answers(flags) == answers_of(V1)
    status = flags.status
    assert (status.source, status.origin, status.last_error) == (SOURCE, SOURCE, None)
    served = flags.flagset

    # The agent answers in full every time; the same version is not compiled again.
    assert endpoint.wait_for_requests(AGENT, 3, timeout=5)
    assert flags.flagset is served

    endpoint.deploy(APP, ENV, PROFILE, V2)
    assert waiter.wait_for_version("2", timeout=0.2 + 2)
    assert waiter.calls == [("1", "2", frozenset({"checkout", "search"}))]
    assert answers(flags) == answers_of(V2)
    assert {status for _, status, _, _ in endpoint.requests} == {200}


def test_the_bearer_token_is_sent_and_a_refusal_is_explained(
    endpoint: AppConfigEndpoint, harness: Harness
) -> None:
    endpoint.agent_token = AGENT_TOKEN
    endpoint.deploy(APP, ENV, PROFILE, V1)

    flags = harness.agent(token=AGENT_TOKEN)
    assert answers(flags) == answers_of(V1)

    refused = (
        f"no flag document to start from:\n  {SOURCE}: the AppConfig Agent at "
        f"{endpoint.url} answered 401 Unauthorized: Unauthorized"
    )
    for token in (None, "not-the-token"):
        before = endpoint.count(AGENT)
        began = time.monotonic()
        with pytest.raises(SourceError) as excinfo:
            # A refusal is not retried, however long start-up may take.
            harness.agent(token=token, startup_timeout=30)
        assert str(excinfo.value) == refused
        assert time.monotonic() - began < 5
        assert endpoint.count(AGENT) == before + 1

    # The token is rotated under a running Flags: it keeps serving and says why.
    endpoint.agent_token = "rotated"  # noqa: S105 - a test value
    endpoint.deploy(APP, ENV, PROFILE, V2)
    with pytest.raises(SourceError) as excinfo:
        flags.refresh()
    message = (
        f"{SOURCE}: the AppConfig Agent at {endpoint.url} answered 401 Unauthorized: Unauthorized"
    )
    assert str(excinfo.value) == message
    assert excinfo.value.retryable is False
    assert flags.status.last_error == message
    assert answers(flags) == answers_of(V1)


@pytest.mark.parametrize(
    ("fault", "problem"),
    [
        ("throttle", "answered 502 Bad Gateway: BadGatewayException: ThrottlingException"),
        ("internal", "answered 500 Internal Server Error: InternalServerException"),
        ("drop", "cannot reach the AppConfig Agent"),
    ],
)
def test_agent_failures_are_retryable(
    endpoint: AppConfigEndpoint, fault: FaultKind, problem: str
) -> None:
    endpoint.deploy(APP, ENV, PROFILE, V1)
    source = AgentSource(APP, ENV, PROFILE, base_url=endpoint.url)
    endpoint.fail_next(fault, operation=AGENT)
    with pytest.raises(SourceError) as excinfo:
        source.fetch()
    assert excinfo.value.retryable is True
    assert str(excinfo.value).startswith(f"{SOURCE}: ")
    assert problem in str(excinfo.value)
    assert source.fetch().version == "1"


def test_an_undeployed_profile_is_not_retried(endpoint: AppConfigEndpoint) -> None:
    endpoint.create(APP, ENV, PROFILE)
    with pytest.raises(SourceError) as excinfo:
        AgentSource(APP, ENV, PROFILE, base_url=endpoint.url).fetch()
    assert excinfo.value.retryable is False
    assert str(excinfo.value) == (
        f"{SOURCE}: the AppConfig Agent at {endpoint.url} answered 404 Not Found: "
        f"ResourceNotFoundException: {PROFILE!r} is not deployed to {ENV!r}"
    )


# -- the agent starts after the application ---------------------------------------------------


def waiting_to_retry(thread: threading.Thread) -> bool:
    """Whether `thread` sleeps between two attempts inside flagkit (read from its stack)."""
    frame = sys._current_frames().get(thread.ident or -1)
    stack = []
    while frame is not None:
        stack.append((frame.f_code.co_filename, frame.f_code.co_name))
        frame = frame.f_back
    in_flagkit = any("flagkit" in filename for filename, _ in stack[1:])
    return bool(stack) and stack[0][1] == "wait" and in_flagkit


def test_flags_come_up_when_the_agent_starts_listening(monkeypatch: pytest.MonkeyPatch) -> None:
    port = free_port()
    started: list[Flags] = []
    failed: list[BaseException] = []

    def start() -> None:
        try:
            started.append(
                Flags.from_agent(
                    APP,
                    ENV,
                    PROFILE,
                    base_url=f"http://127.0.0.1:{port}",
                    refresh_mode="manual",
                    startup_timeout=10,
                )
            )
        except BaseException as exc:
            failed.append(exc)

    with harness_for(None, monkeypatch) as harness:
        starter = threading.Thread(target=start, name="starter")
        began = time.monotonic()
        starter.start()
        try:
            # Nothing listens: the first attempt was refused and flagkit waits to try again.
            assert wait_until(lambda: waiting_to_retry(starter), timeout=5)
            with fast_endpoint(port=port) as endpoint:
                endpoint.deploy(APP, ENV, PROFILE, V1)
                starter.join(timeout=10)
                assert not starter.is_alive()
        finally:
            starter.join()
        assert failed == []
        flags = harness.track(started[0])
        assert time.monotonic() - began < 10
        assert flags.version == "1"
        assert flags.status.origin == SOURCE
        assert answers(flags) == answers_of(V1)
        assert endpoint.count(AGENT) == 1


def test_a_short_startup_timeout_gives_up_or_serves_the_fallback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    refused = f"{SOURCE}: cannot reach the AppConfig Agent at {url}: [Errno 111] Connection refused"
    with harness_for(None, monkeypatch) as harness:
        began = time.monotonic()
        with pytest.raises(SourceError) as excinfo:
            harness.agent(base_url=url, startup_timeout=0.3)
        assert time.monotonic() - began < 3
        assert str(excinfo.value) == f"no flag document to start from:\n  {refused}"

        flags = harness.agent(
            base_url=url,
            startup_timeout=0.3,
            fallback=V1,
            refresh_mode="thread",
            poll_interval=0.2,
        )
        waiter = ChangeWaiter()
        flags.on_change(waiter)
        assert flags.status.origin == "fallback:memory"
        assert flags.status.last_error == refused
        assert answers(flags) == answers_of(V1)

        # The agent comes up later: the refresh thread swaps its document in.
        with fast_endpoint(port=port) as endpoint:
            endpoint.deploy(APP, ENV, PROFILE, V2)
            try:
                assert waiter.wait_for_version("1", timeout=10)
            finally:
                flags.close()
        assert flags.status.origin == SOURCE
        assert flags.status.last_error is None
        assert answers(flags) == answers_of(V2)


# -- an agent that hangs --------------------------------------------------------------------


STARTUP = 0.5  # startup_timeout for the hanging-agent tests: seconds
MARGIN = 1.5  # what start-up may take beyond it (a busy machine, thread scheduling)


@pytest.mark.parametrize("standby", ["backup", "fallback", "none"])
def test_startup_timeout_bounds_an_agent_that_never_answers(
    endpoint: AppConfigEndpoint, harness: Harness, tmp_path: Path, standby: str
) -> None:
    """The agent accepts the connection and never answers: start-up still ends after about
    `startup_timeout` (not the 5-second request timeout), with the backup, the fallback or
    a SourceError."""
    backup = tmp_path / "flags-backup.json"
    endpoint.deploy(APP, ENV, PROFILE, V1)
    harness.agent(backup_path=backup).close()  # an earlier run left its backup
    endpoint.set_fault("delay", seconds=60, operation=AGENT)  # cut short when the test ends

    options: dict[str, Any] = {"startup_timeout": STARTUP}
    if standby == "backup":
        options["backup_path"] = backup
    elif standby == "fallback":
        options["fallback"] = V2
    timed_out = f"{SOURCE}: cannot reach the AppConfig Agent at {endpoint.url}: timed out"
    began = time.monotonic()
    if standby == "none":
        with pytest.raises(SourceError) as excinfo:
            harness.agent(**options)
        took = time.monotonic() - began
        assert str(excinfo.value) == f"no flag document to start from:\n  {timed_out}"
    else:
        flags = harness.agent(**options)
        took = time.monotonic() - began
        origin = f"backup:{backup}" if standby == "backup" else "fallback:memory"
        assert flags.status.origin == origin
        assert answers(flags) == answers_of(V1 if standby == "backup" else V2)
        assert flags.status.last_error == timed_out
    assert STARTUP - 0.05 <= took <= STARTUP + MARGIN
    assert endpoint.count(AGENT) == 1  # only the earlier run's request was answered


def test_an_on_read_fetch_from_a_hanging_agent_waits_only_the_request_timeout(
    endpoint: AppConfigEndpoint, harness: Harness
) -> None:
    endpoint.deploy(APP, ENV, PROFILE, V1)
    flags = harness.agent(refresh_mode="on_read", poll_interval=0.05, request_timeout=0.3)
    due = time.monotonic() + 0.05
    endpoint.deploy(APP, ENV, PROFILE, V2)
    endpoint.set_fault("delay", seconds=60, operation=AGENT)
    assert wait_until(lambda: time.monotonic() >= due, timeout=2)

    began = time.monotonic()
    on = flags.enabled("search", "acme")  # due: this read fetches, and the agent hangs
    took = time.monotonic() - began

    assert 0.3 - 0.05 <= took <= 0.3 + MARGIN
    assert on is False  # still the document it had
    assert flags.version == "1"
    assert flags.status.last_error == (
        f"{SOURCE}: cannot reach the AppConfig Agent at {endpoint.url}: timed out"
    )
    # The failed fetch set the next one back: the reads right after it do not wait at all.
    began = time.monotonic()
    assert answers(flags) == answers_of(V1)
    assert time.monotonic() - began < 0.1
