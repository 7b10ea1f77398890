"""`Refresher` and `FlagsStatus` (flagkit/refresh.py): start-up, refreshing, failures, status.

A `Refresher` is driven here by hand, for a `Reader` that stands in for `Flags`; then
through `Flags`, whose `status`, `on_status` and `refresh()` are the refresher's.
(`Flags` started while AppConfig is down, from a backup or a fallback, end to end:
tests/test_appconfig_source.py.)
"""

from __future__ import annotations

import gc
import json
import logging
from pathlib import Path
from typing import Any

import pytest

import flagkit
from flagkit import DocumentError, Flags, SchemaValidationError, SourceError
from flagkit.announcer import ChangeAnnouncer
from flagkit.flagset import FlagSet
from flagkit.refresh import Fallback, Refresher
from flagkit.sources.backup import save_backup
from flagkit.sources.memory import MemorySource
from flagkit.sources.snapshot import Snapshot
from tests.helpers import flagkit_warnings, write

DOC: dict[str, Any] = {"zeta": {"enabled": True}, "alpha": {"enabled": True, "tenants": ["acme"]}}
ZETA_OFF: dict[str, Any] = {**DOC, "zeta": {"enabled": False}}
REJECTED: dict[str, Any] = {"zeta": {"enabled": "yes"}}
REJECTED_MESSAGE = "zeta.enabled: \"yes\" is not of type 'boolean'"


class FlakySource:
    """A source that fails with a SourceError while `down`, else serves its MemorySource."""

    def __init__(self, document: dict[str, Any], version: str) -> None:
        self.memory = MemorySource(document, version=version)
        self.down = False
        self.retry_after: float | None = None

    @property
    def description(self) -> str:
        return "flaky"

    def fetch(self) -> Any:
        if self.down:
            raise flagkit.SourceError(
                "down for maintenance", retryable=True, retry_after=self.retry_after
            )
        return self.memory.fetch()


class UnchangedSource:
    """A source that answers "unchanged since your last fetch" (None) after its first fetch."""

    description = "unchanged"

    def __init__(self) -> None:
        self.first = MemorySource(DOC, version="v1").fetch()
        self.fetches = 0

    def fetch(self) -> Snapshot | None:
        self.fetches += 1
        return self.first if self.fetches == 1 else None


class Reader:
    """What a refresher installs documents into: the part of `Flags` that serves them."""

    def __init__(self) -> None:
        self.served: list[str | None] = []

    def install(self, flagset: FlagSet) -> None:
        self.served.append(flagset.version)


def started(
    source: Any,
    reader: Reader,
    *,
    backup: Path | None = None,
    fallback: Fallback = None,
    poll_interval: float = 60.0,
) -> Refresher:
    """A refresher for `reader`, started as `Flags` starts one (no start-up retries)."""
    refresher = Refresher(
        source,
        install=reader.install,
        announcer=ChangeAnnouncer(),
        poll_interval=poll_interval,
        backup_path=backup,
    )
    refresher.start(fallback, startup_timeout=0.0)
    return refresher


# -- start-up: the source, else the backup, else the fallback -------------------------------------


def test_start_up_takes_the_source_document_and_backs_it_up(tmp_path: Path) -> None:
    backup = tmp_path / "flags-backup.json"
    reader = Reader()
    refresher = started(MemorySource(DOC, version="v1"), reader, backup=backup, fallback=ZETA_OFF)

    status = refresher.status
    assert reader.served == ["v1"]
    assert (status.origin, status.version, status.refreshes, status.failed_refreshes) == (
        "memory",
        "v1",
        1,
        0,
    )
    assert json.loads(backup.read_text(encoding="utf-8"))["document"] == DOC
    assert refresher.first_delay() == 60.0


def test_start_up_serves_the_backup_when_the_source_is_down_and_says_so_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="flagkit")
    backup = tmp_path / "flags-backup.json"
    save_backup(backup, ZETA_OFF, source="flaky", version="v0")
    source = FlakySource(DOC, "v1")
    source.down = True
    reader = Reader()

    refresher = started(source, reader, backup=backup, fallback=DOC)

    status = refresher.status
    assert reader.served == ["v0"]
    assert (status.origin, status.source, status.version) == (f"backup:{backup}", "flaky", "v0")
    assert (status.last_error, status.consecutive_failures) == ("down for maintenance", 1)
    assert flagkit_warnings(caplog) == [
        f"flagkit: serving backup:{backup} (version v0) until flaky answers"
    ]
    assert 0.5 <= refresher.first_delay() <= 1.0  # the first retry comes soon, not in 60 s


def test_start_up_serves_the_fallback_when_the_backup_cannot_be_read(tmp_path: Path) -> None:
    source = FlakySource(DOC, "v1")
    source.down = True
    reader = Reader()

    refresher = started(source, reader, backup=tmp_path / "missing.json", fallback=ZETA_OFF)

    assert refresher.status.origin == "fallback:memory"
    assert reader.served == [MemorySource(ZETA_OFF).fetch().version]


def test_start_up_with_nothing_to_serve_names_every_attempt_in_order(tmp_path: Path) -> None:
    backup = tmp_path / "cache" / "flags-backup.json"
    fallback = tmp_path / "flags.default.json"
    source = FlakySource(DOC, "v1")
    source.down = True

    with pytest.raises(SourceError) as raised:
        started(source, Reader(), backup=backup, fallback=fallback)

    assert str(raised.value) == (
        "no flag document to start from:\n"
        "  flaky: down for maintenance\n"
        f"  backup:{backup}: cannot read the flag backup '{backup}': "
        f"[Errno 2] No such file or directory: '{backup}'\n"
        f"  fallback:file:{fallback}: cannot read flag document '{fallback}': "
        "No such file or directory"
    )


def test_a_rejected_source_document_without_standby_is_raised_as_it_is() -> None:
    with pytest.raises(SchemaValidationError) as raised:
        started(MemorySource(REJECTED, version="v1"), Reader())
    assert str(raised.value) == REJECTED_MESSAGE


def test_a_rejected_source_document_and_a_rejected_fallback_are_both_named() -> None:
    with pytest.raises(SourceError) as raised:
        started(MemorySource(REJECTED, version="v1"), Reader(), fallback={"f": {"enabled": 1}})
    assert str(raised.value) == (
        "no flag document to start from:\n"
        f"  memory: {REJECTED_MESSAGE}\n"
        "  fallback:memory: f.enabled: 1 is not of type 'boolean'"
    )


def test_a_source_with_no_document_at_start_up_says_so() -> None:
    source = UnchangedSource()
    source.fetches = 1  # as if it had answered before: "unchanged" from the first fetch

    with pytest.raises(SourceError) as raised:
        started(source, Reader())
    assert str(raised.value) == (
        "no flag document to start from:\n  unchanged delivered no document"
    )


# -- refreshing: counters, backoff, a rejected document -------------------------------------------


def test_status_counts_each_outcome_a_swap_an_unchanged_answer_and_a_failure() -> None:
    source = FlakySource(DOC, "v1")
    reader = Reader()
    refresher = started(source, reader)
    counters = []

    def count() -> None:
        status = refresher.status
        counters.append((status.refreshes, status.failed_refreshes, status.consecutive_failures))

    assert refresher.refresh() is False  # the same version: confirmed
    count()
    source.down = True
    for _ in range(2):
        with pytest.raises(SourceError):
            refresher.refresh()
        count()
    source.down = False
    source.memory.update(ZETA_OFF, version="v2")
    assert refresher.refresh() is True
    count()

    assert counters == [(2, 0, 0), (2, 1, 1), (2, 2, 2), (3, 2, 0)]
    assert reader.served == ["v1", "v2"]


def test_an_unchanged_answer_confirms_the_served_document() -> None:
    source = UnchangedSource()
    refresher = started(source, Reader())
    before = refresher.status

    assert refresher.refresh() is False

    after = refresher.status
    assert (after.version, after.refreshes, after.stale_for) == ("v1", 2, 0.0)
    assert after.confirmed_at >= before.confirmed_at
    assert source.fetches == 2


@pytest.mark.parametrize("poll_interval", [60.0, 10.0])
def test_failed_polls_back_off_exponentially_within_the_cap(poll_interval: float) -> None:
    source = FlakySource(DOC, "v1")
    refresher = started(source, Reader(), poll_interval=poll_interval)
    source.down = True
    cap = max(poll_interval, 30.0)

    delays = [refresher.poll_once() for _ in range(8)]

    ceilings = [min(cap, 2.0 ** (failures - 1)) for failures in range(1, 9)]
    assert all(
        ceiling / 2 <= delay <= ceiling for delay, ceiling in zip(delays, ceilings, strict=True)
    ), list(zip(delays, ceilings, strict=True))
    source.down = False
    assert refresher.poll_once() == poll_interval  # recovered: back to the poll interval


def test_a_failed_poll_waits_at_least_what_the_source_asked_for() -> None:
    source = FlakySource(DOC, "v1")
    refresher = started(source, Reader())
    source.down = True
    source.retry_after = 7.0

    assert refresher.poll_once() == 7.0  # the first backoff is at most 1 s


def test_a_rejected_document_keeps_the_old_one_and_is_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="flagkit")
    source = MemorySource(DOC, version="v1")
    reader = Reader()
    refresher = started(source, reader, poll_interval=60.0)
    source.update(REJECTED, version="v2")

    delays = [refresher.poll_once() for _ in range(3)]

    assert delays == [60.0] * 3  # the source will not resend it: wait for the next one
    assert reader.served == ["v1"]
    status = refresher.status
    assert (status.version, status.last_error, status.consecutive_failures) == (
        "v1",
        REJECTED_MESSAGE,
        3,
    )
    assert flagkit_warnings(caplog) == [
        "flagkit: rejected flag document version v2 from memory; still serving version v1: "
        + REJECTED_MESSAGE
    ]


def test_a_refresher_does_not_keep_what_it_installs_into_alive() -> None:
    source = MemorySource(DOC, version="v1")
    reader = Reader()
    refresher = started(source, reader)
    del reader
    gc.collect()
    source.update(ZETA_OFF, version="v2")

    assert refresher.refresh() is False  # nobody to install into: nothing swapped
    assert refresher.status.version == "v1"


def test_after_close_a_refresher_fetches_nothing() -> None:
    source = UnchangedSource()
    refresher = started(source, Reader())
    refresher.close()

    assert refresher.refresh() is False
    assert source.fetches == 1


# -- through Flags --------------------------------------------------------------------------------


def test_status_without_failure() -> None:
    flags = Flags.from_dict(DOC, version="v1")
    status = flags.status
    assert status.source == "memory"
    assert status.version == "v1"
    assert status.consecutive_failures == 0
    assert status.last_error is None
    assert status.stale_for == 0.0
    assert status.loaded_at > 0
    assert status.last_attempt >= status.loaded_at
    assert flags.refresh() is False
    after = flags.status
    assert after.consecutive_failures == 0
    assert after.last_error is None
    assert after.stale_for == 0.0
    assert after.last_attempt >= status.last_attempt


def test_failed_refresh_keeps_serving_and_is_reported() -> None:
    source = MemorySource(DOC, version="v1")
    flags = Flags(source)
    source.update({"zeta": {"enabled": "yes"}}, version="v2")
    with pytest.raises(DocumentError) as raised:
        flags.refresh()
    assert "zeta.enabled" in str(raised.value)
    status = flags.status
    assert status.version == "v1"
    assert status.consecutive_failures == 1
    assert status.last_error == str(raised.value)
    assert status.stale_for >= 0.0
    assert flags.version == "v1"
    assert flags.enabled("alpha", "acme") is True
    with pytest.raises(DocumentError):
        flags.refresh()
    assert flags.status.consecutive_failures == 2
    source.update(DOC, version="v3")
    assert flags.refresh() is True
    status = flags.status
    assert (status.version, status.consecutive_failures, status.last_error) == ("v3", 0, None)
    assert status.stale_for == 0.0


def test_redeploying_the_served_version_after_a_rejection_clears_the_error() -> None:
    source = MemorySource({"f": {"enabled": True}}, version="1")
    flags = Flags(source)
    source.update({"f": {"enabled": "yes"}}, version="2")
    with pytest.raises(flagkit.SchemaValidationError):
        flags.refresh()
    assert flags.status.consecutive_failures == 1
    source.update({"f": {"enabled": True}}, version="1")  # the rollback
    assert flags.refresh() is False
    status = flags.status
    assert (status.last_error, status.consecutive_failures, status.stale_for) == (None, 0, 0.0)


def test_on_status_hears_every_attempt_whatever_its_outcome() -> None:
    source = FlakySource(DOC, "v1")
    flags = Flags(source)
    heard: list[flagkit.FlagsStatus] = []
    flags.on_status(heard.append)

    assert flags.refresh() is False  # unchanged
    source.down = True
    with pytest.raises(flagkit.SourceError):
        flags.refresh()
    source.down = False
    source.memory.update(ZETA_OFF, version="v2")
    assert flags.refresh() is True

    assert [(s.version, s.consecutive_failures, s.last_error) for s in heard] == [
        ("v1", 0, None),
        ("v1", 1, "down for maintenance"),
        ("v2", 0, None),
    ]
    assert [(s.refreshes, s.failed_refreshes) for s in heard] == [(2, 0), (2, 1), (3, 1)]
    assert heard[1].stale_for > 0.0
    assert heard[2].confirmed_at >= heard[0].confirmed_at


def test_on_status_runs_after_the_change_callbacks_of_the_same_refresh() -> None:
    source = MemorySource(DOC, version="v1")
    flags = Flags(source)
    order: list[str] = []
    flags.on_status(lambda status: order.append(f"status {status.version}"))
    flags.on_change(lambda old, new, keys: order.append(f"change {old}->{new}"))
    source.update(ZETA_OFF, version="v2")
    flags.refresh()
    assert order == ["change v1->v2", "status v2"]


def test_a_raising_status_callback_is_logged_and_the_others_still_run(
    caplog: pytest.LogCaptureFixture,
) -> None:
    flags = Flags.from_dict(DOC, version="v1")
    heard: list[str | None] = []

    def broken(status: flagkit.FlagsStatus) -> None:
        raise RuntimeError("status listener exploded")

    flags.on_status(broken)
    flags.on_status(lambda status: heard.append(status.version))
    with caplog.at_level(logging.ERROR, logger="flagkit"):
        assert flags.refresh() is False
    assert heard == ["v1"]
    [record] = [record for record in caplog.records if record.name == "flagkit"]
    assert "on_status callback" in record.getMessage()


def test_no_status_callback_after_close() -> None:
    flags = Flags.from_dict(DOC, version="v1")
    statuses: list[flagkit.FlagsStatus] = []
    flags.on_status(statuses.append)
    flags.close()
    assert flags.refresh() is False
    assert statuses == []


def test_a_start_up_failure_counts_as_a_failed_refresh(tmp_path: Path) -> None:
    fallback = write(tmp_path, "fallback.json", DOC)
    source = FlakySource(DOC, "v1")
    source.down = True
    flags = Flags(source, fallback=fallback)
    status = flags.status
    assert (status.refreshes, status.failed_refreshes) == (0, 1)
    assert status.origin == f"fallback:file:{fallback}"


class BrokenSource:
    """A source with a bug: its fetch raises something that is not a FlagkitError."""

    description = "broken"

    def __init__(self) -> None:
        self.memory = MemorySource(DOC, version="v1")
        self.broken = False

    def fetch(self) -> Any:
        if self.broken:
            raise RuntimeError("bug in the source")
        return self.memory.fetch()


def test_a_bug_in_the_source_is_a_failed_attempt_reported_to_on_status() -> None:
    source = BrokenSource()
    flags = Flags(source)
    heard: list[flagkit.FlagsStatus] = []
    flags.on_status(heard.append)
    source.broken = True
    with pytest.raises(RuntimeError):
        flags.refresh()
    [status] = heard
    assert (status.consecutive_failures, status.failed_refreshes) == (1, 1)
    assert status.last_error == "bug in the source"
    assert flags.enabled("alpha", "acme") is True  # still serving
