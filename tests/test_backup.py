"""flagkit/sources/backup.py: the last-known-good document on disk, and reading it back.

(A `Flags` that starts from its backup while AppConfig is down, end to end:
tests/test_appconfig_source.py; the start-up order itself: tests/test_refresher.py.)
"""

from __future__ import annotations

import calendar
import json
import logging
import re
import time
from pathlib import Path
from typing import Any

import pytest

from flagkit import DocumentError, Flags, SourceError
from flagkit.sources.backup import BackupSource, save_backup, saved_at
from flagkit.sources.memory import MemorySource
from tests.helpers import flagkit_warnings, write

DOC: dict[str, Any] = {
    "checkout": {"enabled": True, "tenants": ["acme"], "description": "für Kunden"}
}


def test_a_saved_backup_names_its_source_version_and_time_and_reads_back_whole(
    tmp_path: Path,
) -> None:
    path = tmp_path / "flags-backup.json"
    before = int(time.time())
    save_backup(path, DOC, source="appconfig://app/prod/flags", version="42")
    after = time.time()

    record = json.loads(path.read_text(encoding="utf-8"))
    saved = record.pop("savedAt")
    assert record == {
        "flagkitBackup": 1,
        "source": "appconfig://app/prod/flags",
        "version": "42",
        "document": DOC,
    }
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", saved)
    assert "für Kunden" in path.read_text(encoding="utf-8")  # UTF-8, not \u escapes
    snapshot = BackupSource(path).fetch()
    assert json.loads(snapshot.content) == DOC
    assert snapshot.version == "42"
    assert snapshot.as_of is not None
    assert before <= snapshot.as_of <= after


def test_a_backup_replaces_the_last_one_whole_and_leaves_no_temporary_file(
    tmp_path: Path,
) -> None:
    path = tmp_path / "flags-backup.json"
    save_backup(path, DOC, source="memory", version="1")
    save_backup(path, {"checkout": {"enabled": False}}, source="memory", version="2")

    assert [entry.name for entry in tmp_path.iterdir()] == ["flags-backup.json"]
    assert BackupSource(path).fetch().version == "2"


def test_a_failed_write_keeps_the_last_backup_and_leaves_no_temporary_file(
    tmp_path: Path,
) -> None:
    path = tmp_path / "flags-backup.json"
    save_backup(path, DOC, source="memory", version="1")

    with pytest.raises(TypeError) as raised:
        save_backup(path, {"checkout": object()}, source="memory", version="2")

    assert str(raised.value) == "Object of type object is not JSON serializable"
    assert [entry.name for entry in tmp_path.iterdir()] == ["flags-backup.json"]
    assert BackupSource(path).fetch().version == "1"


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        ({"savedAt": "2026-11-24T09:30:00Z"}, calendar.timegm((2026, 11, 24, 9, 30, 0))),
        ({"savedAt": "1970-01-01T00:00:00Z"}, 0.0),
        ({}, None),
        ({"savedAt": None}, None),
        ({"savedAt": 1795426200}, None),
        ({"savedAt": "2026-11-24 09:30:00"}, None),
        ({"savedAt": "2026-11-24T09:30:00+01:00"}, None),
        ({"savedAt": "yesterday"}, None),
    ],
    ids=["utc", "epoch", "missing", "null", "a-number", "no-T", "an-offset", "words"],
)
def test_saved_at_reads_only_utc_timestamps(record: dict[str, Any], expected: float | None) -> None:
    assert saved_at(record) == expected


def test_a_backup_with_a_malformed_saved_at_is_served_as_current(tmp_path: Path) -> None:
    path = tmp_path / "flags-backup.json"
    save_backup(path, DOC, source="memory", version="1")
    record = json.loads(path.read_text(encoding="utf-8"))
    write(tmp_path, "flags-backup.json", {**record, "savedAt": "yesterday"})

    assert BackupSource(path).fetch().as_of is None


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ({"checkout": {"enabled": True}}, "{path!r} is not a flagkit backup file"),
        ({"flagkitBackup": 2, "document": DOC}, "{path!r} is not a flagkit backup file"),
        ([1, 2], "{path!r} is not a flagkit backup file"),
        (
            "{not json",
            "cannot read the flag backup {path!r}: Expecting property name enclosed in double "
            "quotes: line 1 column 2 (char 1)",
        ),
    ],
    ids=["a-flag-document", "another-format", "a-list", "not-json"],
)
def test_a_file_that_is_no_backup_is_refused_naming_it(
    tmp_path: Path, content: object, problem: str
) -> None:
    path = write(tmp_path, "flags-backup.json", content)
    with pytest.raises(SourceError) as raised:
        BackupSource(path).fetch()
    assert str(raised.value) == problem.format(path=str(path))
    assert raised.value.retryable is False


def test_a_missing_backup_is_refused_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "flags-backup.json"
    source = BackupSource(path)
    with pytest.raises(SourceError) as raised:
        source.fetch()
    assert str(raised.value) == (
        f"cannot read the flag backup '{path}': [Errno 2] No such file or directory: '{path}'"
    )
    assert source.description == f"backup:{path}"


# -- as Flags keeps it ----------------------------------------------------------------------------


def test_flags_back_up_every_accepted_document_and_no_rejected_one(tmp_path: Path) -> None:
    path = tmp_path / "flags-backup.json"
    source = MemorySource(DOC, version="1")
    flags = Flags(source, backup_path=path)
    source.update({"checkout": {"enabled": False}}, version="2")
    assert flags.refresh() is True
    source.update({"checkout": {"enabled": "yes"}}, version="3")
    with pytest.raises(DocumentError):
        flags.refresh()

    record = json.loads(path.read_text(encoding="utf-8"))
    assert (record["source"], record["version"], record["document"]) == (
        "memory",
        "2",
        {"checkout": {"enabled": False}},
    )
    assert [entry.name for entry in tmp_path.iterdir()] == ["flags-backup.json"]


def test_a_backup_flags_cannot_write_is_a_warning_and_serving_goes_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="flagkit")
    missing = tmp_path / "no-such-directory"
    path = missing / "flags-backup.json"

    flags = Flags(MemorySource(DOC, version="1"), backup_path=path)

    assert flags.version == "1"
    [warning] = flagkit_warnings(caplog)
    pattern = (
        re.escape(f"flagkit: cannot write the backup {path}: [Errno 2] No such file or directory: ")
        + re.escape(f"'{missing}/.flagkit-backup-")
        + r"[^/']+'"
    )
    assert re.fullmatch(pattern, warning), warning
