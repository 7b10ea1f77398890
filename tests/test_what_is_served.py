"""What the application serves is what it says it serves (issue #10, section 3).

- A rejected deployment stays in `status` (`rejected_version`, `rejected_problems`) through
  throttles, refused polls and "unchanged" answers, until a good document replaces it or the
  source serves the served version again; `/readyz`, the metrics and the OpenFeature
  provider's events say so too.
- A manual `refresh()` while a scheduler polls AppConfig shares that poll: it waits for one
  in flight, and sends nothing AppConfig would refuse for its poll interval.
- New content under a version label already served is loaded, not skipped.

Real boto3 over real HTTP to the loopback AppConfig endpoint (tests/appconfig_endpoint.py)
wherever AppConfig's behaviour matters; a source scripted in memory for the provider's events.
"""

from __future__ import annotations

import dataclasses
import json
import threading
from pathlib import Path
from typing import Any

import pytest

from flagkit import DocumentError, Flags, FlagsStatus, SourceError
from flagkit.sources.backup import save_backup
from flagkit.sources.memory import MemorySource
from tests.appconfig_endpoint import GET_CONFIGURATION, AppConfigEndpoint
from tests.appconfig_fixtures import (
    APP,
    ENV,
    PROFILE,
    V1,
    V3,
    ChangeWaiter,
    Harness,
    fast_endpoint,
    harness_for,
    wait_until,
)
from tests.conftest import REPO
from tests.helpers import blocked_in
from tests.markdown_text import fenced_blocks, links, section
from tests.service_server import live

SOURCE = f"appconfig://{APP}/{ENV}/{PROFILE}"
RESOURCE = f"(application {APP!r}, environment {ENV!r}, profile {PROFILE!r})"

BAD: dict[str, Any] = {
    "checkout": {"enabled": "yes"},
    "search": {"enabled": True, "percentage": 300},
}
BAD_PROBLEMS = (
    "checkout.enabled: \"yes\" is not of type 'boolean'",
    "search.percentage: 300 is greater than the maximum of 100",
)
BAD_MESSAGE = "2 problems in the flag document:\n  " + "\n  ".join(BAD_PROBLEMS)


def answers(flags: Flags) -> list[bool]:
    return [flags.enabled(flag, tenant) for flag in V1 for tenant in ("acme", "globex")]


def answers_of(document: dict[str, Any]) -> list[bool]:
    return answers(Flags.from_dict(document))


def rejection(status: FlagsStatus) -> tuple[str | None, tuple[str, ...]]:
    return status.rejected_version, status.rejected_problems


# -- 1. a rejection stays reported until it is resolved --------------------------------------


@pytest.mark.parametrize("transient", ["throttle", "poll interval"])
def test_a_rejection_stays_reported_through_transient_errors_and_unchanged_polls(
    monkeypatch: pytest.MonkeyPatch, transient: str
) -> None:
    """Deploy a bad document: rejected. A 429 (or a poll AppConfig refuses as too early):
    still rejected. An "unchanged" poll: still rejected, stale, and the rejection is the
    last error again. A good deployment: cleared."""
    # The endpoint's clock moves only by advance(): a poll before it is refused.
    with (
        fast_endpoint(poll_interval=2, enforce_poll_interval=True, clock=lambda: 0.0) as endpoint,
        harness_for(endpoint, monkeypatch) as harness,
    ):
        endpoint.deploy(APP, ENV, PROFILE, V1)
        flags = harness.appconfig()  # manual: each refresh() is one request
        endpoint.deploy(APP, ENV, PROFILE, BAD)
        endpoint.advance(2)
        with pytest.raises(DocumentError) as rejected:
            flags.refresh()
        assert str(rejected.value) == BAD_MESSAGE
        assert rejection(flags.status) == ("2", BAD_PROBLEMS)

        if transient == "throttle":
            endpoint.fail_next("throttle", operation=GET_CONFIGURATION)
            error = (
                f"{SOURCE}: GetLatestConfiguration failed: ThrottlingException: "
                f"Rate exceeded {RESOURCE}"
            )
        else:  # too early: AppConfig refuses it
            error = f"{SOURCE}: AppConfig asks to wait 2 s between polls (PollIntervalNotSatisfied)"
        with pytest.raises(SourceError) as failed:
            flags.refresh()
        assert str(failed.value) == error
        status = flags.status
        assert (status.last_error, status.consecutive_failures) == (error, 2)
        assert rejection(status) == ("2", BAD_PROBLEMS)

        endpoint.advance(2)
        assert flags.refresh() is False  # "unchanged": this session already got version 2
        status = flags.status
        assert status.version == flags.version == "1"
        assert rejection(status) == ("2", BAD_PROBLEMS)
        assert (status.last_error, status.consecutive_failures) == (BAD_MESSAGE, 2)
        assert status.stale_for > 0.0
        assert answers(flags) == answers_of(V1)

        endpoint.deploy(APP, ENV, PROFILE, V3)
        endpoint.advance(2)
        assert flags.refresh() is True
        status = flags.status
        assert (status.version, status.last_error, status.consecutive_failures) == ("3", None, 0)
        assert rejection(status) == (None, ())
        assert status.stale_for == 0.0
        assert answers(flags) == answers_of(V3)


def test_the_source_serving_the_served_version_again_resolves_a_rejection() -> None:
    source = MemorySource(V1, version="1")
    flags = Flags(source)
    source.update(BAD, version="2")
    with pytest.raises(DocumentError):
        flags.refresh()
    assert rejection(flags.status) == ("2", BAD_PROBLEMS)

    source.update(V1, version="1")  # a rollback to the version being served
    assert flags.refresh() is False
    status = flags.status
    assert rejection(status) == (None, ())
    assert (status.last_error, status.consecutive_failures, status.stale_for) == (None, 0, 0.0)


def test_a_rejection_at_start_up_is_reported_while_the_backup_serves(
    endpoint: AppConfigEndpoint, harness: Harness, tmp_path: Path
) -> None:
    backup = tmp_path / "flags-backup.json"
    save_backup(backup, V1, source=SOURCE, version="1")
    endpoint.deploy(APP, ENV, PROFILE, BAD)
    flags = harness.appconfig(backup_path=backup)

    status = flags.status
    assert (status.origin, status.version) == (f"backup:{backup}", "1")
    assert rejection(status) == ("1", BAD_PROBLEMS)
    assert status.last_error == BAD_MESSAGE
    assert flags.refresh() is False  # unchanged
    assert rejection(flags.status) == ("1", BAD_PROBLEMS)


# -- 2. a manual refresh() shares the scheduler's poll ----------------------------------------


@pytest.mark.parametrize("mode", ["thread", "on_read"])
def test_a_manual_refresh_sends_no_poll_appconfig_would_refuse(
    monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    """AppConfig holds a session to its 15-second minimum between polls; a refresh() right
    after the scheduler's poll sends nothing and reports the current state, no error."""
    with (
        AppConfigEndpoint(poll_interval=15) as endpoint,
        harness_for(endpoint, monkeypatch) as harness,
    ):
        endpoint.deploy(APP, ENV, PROFILE, V1)
        flags = harness.appconfig(refresh_mode=mode)
        endpoint.deploy(APP, ENV, PROFILE, V3)

        assert flags.refresh() is False
        assert endpoint.count(GET_CONFIGURATION) == 1  # start-up's only
        status = flags.status
        assert (status.version, status.last_error, status.consecutive_failures) == ("1", None, 0)
        assert (status.refreshes, status.failed_refreshes) == (1, 0)
        assert answers(flags) == answers_of(V1)


def test_a_manual_refresh_waits_for_the_poll_in_flight_and_shares_its_outcome(
    endpoint: AppConfigEndpoint, harness: Harness
) -> None:
    endpoint.deploy(APP, ENV, PROFILE, V1)
    flags = harness.appconfig(refresh_mode="thread")
    endpoint.deploy(APP, ENV, PROFILE, V3)
    endpoint.fail_next("hold", operation=GET_CONFIGURATION)
    assert endpoint.wait_for_held(1, timeout=5)  # the thread's poll is in flight

    results: list[bool] = []
    refreshing = threading.Thread(target=lambda: results.append(flags.refresh()), name="manual")
    refreshing.start()
    # Waiting for the thread's poll (before the fix: for the lock, to send a poll of its own).
    assert wait_until(
        lambda: blocked_in(refreshing, "refresh") or blocked_in(refreshing, "_fetch_and_swap"),
        timeout=5,
    )
    endpoint.release()
    refreshing.join(timeout=5)

    assert results == [True]  # the thread's poll swapped version 2 (V3) in
    assert (flags.version, answers(flags)) == ("2", answers_of(V3))
    assert endpoint.count(GET_CONFIGURATION) == 2  # start-up's and the thread's: no third


# -- 3. new content under a known version label -----------------------------------------------


def test_new_content_under_the_served_label_is_loaded() -> None:
    source = MemorySource(V1, version="1")
    flags = Flags(source)
    waiter = ChangeWaiter()
    flags.on_change(waiter)

    source.update(V3, version="1")
    assert flags.refresh() is True
    assert answers(flags) == answers_of(V3)
    assert waiter.calls == [("1", "1", frozenset({"checkout", "search"}))]


def test_after_a_restart_from_the_backup_appconfig_content_under_the_same_label_is_loaded(
    endpoint: AppConfigEndpoint, harness: Harness, tmp_path: Path
) -> None:
    """The backup says version 1; AppConfig's version 1 is another document (a profile made
    again, say). At start AppConfig is down, so the backup serves; once AppConfig answers,
    its document is served, not skipped for its label."""
    backup = tmp_path / "flags-backup.json"
    save_backup(backup, V1, source=SOURCE, version="1")
    endpoint.deploy(APP, ENV, PROFILE, V3, version_label="1")
    endpoint.fail_next("internal")
    flags = harness.appconfig(backup_path=backup)
    assert (flags.status.origin, flags.version) == (f"backup:{backup}", "1")
    assert answers(flags) == answers_of(V1)

    assert flags.refresh() is True
    assert answers(flags) == answers_of(V3)
    assert (flags.status.origin, flags.version) == (SOURCE, "1")


def test_the_same_document_under_the_same_label_is_confirmed_not_swapped(
    endpoint: AppConfigEndpoint, harness: Harness, tmp_path: Path
) -> None:
    """The backup's bytes differ from AppConfig's (it is written again as JSON), but the
    document is the same: the source confirms it, nothing is swapped."""
    backup = tmp_path / "flags-backup.json"
    save_backup(backup, V1, source=SOURCE, version="1")
    endpoint.deploy(
        APP,
        ENV,
        PROFILE,
        '{"checkout":{"enabled":true,"tenants":["acme"]},\n"search":{"enabled":false}}',
    )
    endpoint.fail_next("internal")
    flags = harness.appconfig(backup_path=backup)
    waiter = ChangeWaiter()
    flags.on_change(waiter)

    assert flags.refresh() is False
    status = flags.status
    assert (status.origin, status.version, status.stale_for) == (SOURCE, "1", 0.0)
    assert waiter.calls == []


# -- docs/operations.md shows what the code does ------------------------------------------------

OPERATIONS = REPO / "docs" / "operations.md"


def test_the_operations_page_lists_every_status_field() -> None:
    table = section(OPERATIONS.read_text(encoding="utf-8"), "## The status of a `Flags`")
    listed = {
        name.strip(" `")
        for row in table.splitlines()
        if row.startswith("| `")
        for name in row.split("|")[1].split(",")
    }
    assert listed == {field.name for field in dataclasses.fields(FlagsStatus)} | {"rejected"}


def test_the_operations_page_shows_the_status_as_the_service_answers_it() -> None:
    text = OPERATIONS.read_text(encoding="utf-8")
    heading = "## The service: `/readyz`, `/v1/status` and `/metrics`"
    [shown] = fenced_blocks(section(text, heading), "json")
    source = MemorySource(V1, version="1")
    flags = Flags(source)
    source.update({"checkout": {"enabled": "yes"}}, version="2")
    with pytest.raises(DocumentError):
        flags.refresh()
    with flags, live(flags) as server, server.client() as http:
        answered = http.get("/v1/status").json()
    assert set(json.loads(shown)) == set(answered)
    assert json.loads(shown)["rejected"] == answered["rejected"]
    assert json.loads(shown)["lastError"] == answered["lastError"]


def test_the_operations_page_has_no_links_out_of_the_repository() -> None:
    assert list(links(OPERATIONS.read_text(encoding="utf-8"))) == []
