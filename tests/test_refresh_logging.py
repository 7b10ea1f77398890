"""Logs say what happened, when (issue #10, section 3).

A swap (old -> new version, changed flags), a rejection and a source answering again
are each one record on the `flagkit` logger, on one line: first the library's records
(caplog, whole messages), then `flagkit serve`, whose stderr shows them with a
timestamp and a level.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import pytest

from flagkit import DocumentError, Flags, SourceError
from flagkit.announcer import ChangeAnnouncer
from flagkit.flagset import FlagSet
from flagkit.refresh import Refresher
from flagkit.sources.memory import MemorySource
from flagkit.sources.snapshot import Snapshot
from service.log_privacy import HIDDEN_PROBLEMS
from tests.helpers import replace
from tests.service_server import serve_cli

DOC: dict[str, Any] = {"zeta": {"enabled": True}, "alpha": {"enabled": True, "tenants": ["acme"]}}
ZETA_OFF: dict[str, Any] = {**DOC, "zeta": {"enabled": False}}
BOTH_CHANGED: dict[str, Any] = {"zeta": {"enabled": False}, "alpha": {"enabled": False}}
REJECTED: dict[str, Any] = {
    "zeta": {"enabled": "yes"},
    "alpha": {"enabled": True, "percentage": 300},
}
PROBLEMS = (
    "alpha.percentage: 300 is greater than the maximum of 100; "
    "zeta.enabled: \"yes\" is not of type 'boolean'"
)

REJECTION_LINE = (
    "WARNING",
    "flagkit: rejected flag document version v2 from scripted; still serving version v1: "
    + PROBLEMS,
)


def flagkit_lines(caplog: pytest.LogCaptureFixture) -> list[tuple[str, str]]:
    """(level, message) of every record of the `flagkit` logger, each on one line."""
    lines = [
        (record.levelname, record.getMessage())
        for record in caplog.records
        if record.name == "flagkit"
    ]
    assert not any("\n" in message for _, message in lines), lines
    return lines


class ScriptedSource:
    """Answers each fetch with the next of `answers`: a document, None ("unchanged") or an
    exception to raise."""

    description = "scripted"

    def __init__(self, *answers: Snapshot | Exception | None) -> None:
        self.answers = list(answers)

    def fetch(self) -> Snapshot | None:
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def document(content: dict[str, Any], version: str) -> Snapshot:
    return MemorySource(content, version=version).fetch()


class Reader:
    """What a refresher installs documents into (held weakly by it: keep it referenced)."""

    def install(self, flagset: FlagSet) -> None:
        self.flagset = flagset


def polled(source: Any, reader: Reader) -> Refresher:
    """A refresher on `source` for `reader`, started; `poll_once()` is what a scheduler calls."""
    refresher = Refresher(
        source,
        install=reader.install,
        announcer=ChangeAnnouncer(),
        poll_interval=60.0,
        backup_path=None,
    )
    refresher.start(None, startup_timeout=0.0)
    return refresher


def test_a_swap_is_one_info_line_with_both_versions_and_the_changed_flags(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="flagkit")
    source = MemorySource(DOC, version="v1")
    flags = Flags(source)
    source.update(ZETA_OFF, version="v2")
    assert flags.refresh() is True
    source.update(BOTH_CHANGED, version="v3")
    assert flags.refresh() is True
    assert flags.refresh() is False  # nothing new: nothing to say

    assert flagkit_lines(caplog) == [
        (
            "INFO",
            "flagkit: serving flag document version v2 from memory (was version v1); "
            "1 flag changed: zeta",
        ),
        (
            "INFO",
            "flagkit: serving flag document version v3 from memory (was version v2); "
            "1 flag changed: alpha",
        ),
    ]


def test_a_rejection_and_the_document_that_replaces_it_are_one_line_each(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="flagkit")
    reader = Reader()
    source = ScriptedSource(document(DOC, "v1"), document(REJECTED, "v2"), document(ZETA_OFF, "v3"))
    refresher = polled(source, reader)
    refresher.poll_once()
    refresher.poll_once()
    assert reader.flagset.version == "v3"

    assert flagkit_lines(caplog) == [
        REJECTION_LINE,
        (
            "INFO",
            "flagkit: serving flag document version v3 from scripted (was version v1; "
            "version v2 was rejected); 1 flag changed: zeta",
        ),
    ]


def test_a_source_answering_again_is_one_info_line(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="flagkit")
    down = SourceError("scripted: connection refused", retryable=True)
    reader = Reader()
    refresher = polled(ScriptedSource(document(DOC, "v1"), down, down, None), reader)
    for _ in range(3):
        refresher.poll_once()
    assert reader.flagset.version == "v1"

    assert flagkit_lines(caplog) == [
        ("WARNING", "flagkit: refresh from scripted failed: scripted: connection refused"),
        ("INFO", "flagkit: scripted answers again after 2 failed attempts; serving version v1"),
    ]


def test_the_source_answering_again_does_not_end_a_rejection_serving_the_served_one_does(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="flagkit")
    down = SourceError("scripted: throttled", retryable=True)
    source = ScriptedSource(document(DOC, "v1"), document(REJECTED, "v2"), down, None)
    source.answers.append(document(DOC, "v1"))  # a rollback to the served version
    reader = Reader()
    refresher = polled(source, reader)
    for _ in range(4):
        refresher.poll_once()
    assert reader.flagset.version == "v1"

    assert flagkit_lines(caplog) == [
        REJECTION_LINE,
        ("WARNING", "flagkit: refresh from scripted failed: scripted: throttled"),
        (
            "INFO",
            "flagkit: scripted answers again after 1 failed attempt; still serving "
            "version v1; version v2 stays rejected",
        ),
        (
            "INFO",
            "flagkit: scripted serves version v1 again: the rejection of version v2 is resolved",
        ),
    ]
    assert not refresher.status.rejected


def test_a_rejected_manual_refresh_raises_and_the_replacement_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """`refresh()` raises what it rejects (the caller hears of it); the swap is logged."""
    caplog.set_level(logging.INFO, logger="flagkit")
    source = MemorySource(DOC, version="v1")
    flags = Flags(source)
    source.update(REJECTED, version="v2")
    with pytest.raises(DocumentError):
        flags.refresh()
    source.update(ZETA_OFF, version="v3")
    assert flags.refresh() is True

    assert flagkit_lines(caplog) == [
        (
            "INFO",
            "flagkit: serving flag document version v3 from memory (was version v1; "
            "version v2 was rejected); 1 flag changed: zeta",
        ),
    ]


# -- flagkit serve ------------------------------------------------------------------------------

STAMP = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4}"
HASH = r"hash:[0-9a-f]{16}"


def test_flagkit_serve_logs_each_swap_and_rejection_with_a_timestamp_and_level(
    tmp_path: Path,
) -> None:
    path = tmp_path / "flags.json"
    replace(path, DOC)
    env = {"FLAGKIT_POLL_INTERVAL": "0.1"}
    with serve_cli("--source", str(path), env=env) as server:
        server.wait_for_log("flagkit service: serving flags version")
        replace(path, ZETA_OFF)
        server.wait_for_log("flagkit: serving flag document version")
        replace(path, {"zeta": {"enabled": "yes"}})
        log = server.wait_for_log("flagkit: rejected flag document version")

    source = re.escape(f"file:{path}")
    assert re.search(
        rf"^{STAMP} INFO flagkit service: serving flags version {HASH} from {source}$",
        log,
        re.MULTILINE,
    ), log
    assert re.search(
        rf"^{STAMP} INFO flagkit: serving flag document version {HASH} from {source} "
        rf"\(was version {HASH}\); 1 flag changed: zeta$",
        log,
        re.MULTILINE,
    ), log
    assert re.search(
        rf"^{STAMP} WARNING flagkit: rejected flag document version {HASH} from {source}; "
        rf"still serving version {HASH}: {re.escape(HIDDEN_PROBLEMS)}$",  # see test_service_leaks
        log,
        re.MULTILINE,
    ), log
