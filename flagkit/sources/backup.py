"""Last-known-good on disk: every good document written atomically, read back at start.

The file is JSON: `{"flagkitBackup": 1, "source": ..., "version": ..., "savedAt": ...,
"document": {...}}`, so it names where and when the document came from. `savedAt`
(UTC, `2026-11-24T09:30:00Z`) is the document's age when a backup is served: the
served document's `status.stale_for` counts from it.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping
from typing import Any

from flagkit.errors import SourceError
from flagkit.sources.snapshot import Snapshot

__all__ = ["BackupSource", "save_backup", "saved_at"]

_FORMAT = 1
_SAVED_AT = "%Y-%m-%dT%H:%M:%SZ"


def save_backup(
    path: str | os.PathLike[str], document: Mapping[str, Any], *, source: str, version: str | None
) -> None:
    """Write `document` to `path` atomically: a temporary file beside it, then a rename."""
    path = os.fspath(path)
    record = {
        "flagkitBackup": _FORMAT,
        "source": source,
        "version": version,
        "savedAt": time.strftime(_SAVED_AT, time.gmtime()),
        "document": document,
    }
    directory = os.path.dirname(os.path.abspath(path))
    import tempfile  # with shutil, bz2 and lzma: only processes that keep a backup load it

    handle, temporary = tempfile.mkstemp(prefix=".flagkit-backup-", dir=directory)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            json.dump(record, file, ensure_ascii=False)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def saved_at(record: Mapping[str, Any]) -> float | None:
    """A backup record's `savedAt` in seconds since the epoch; None if missing or malformed."""
    text = record.get("savedAt")
    if not isinstance(text, str):
        return None
    import calendar  # with datetime and locale: only when a backup is read

    try:
        return float(calendar.timegm(time.strptime(text, _SAVED_AT)))
    except ValueError:
        return None


class BackupSource:
    """Reads a backup written by `save_backup` as a source: the document and its version,
    as of when it was saved (`Snapshot.as_of`)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)

    @property
    def description(self) -> str:
        return f"backup:{self.path}"

    def fetch(self) -> Snapshot:
        try:
            with open(self.path, encoding="utf-8") as file:
                record = json.load(file)
        except (OSError, ValueError) as exc:
            raise SourceError(f"cannot read the flag backup {self.path!r}: {exc}") from None
        if not isinstance(record, dict) or record.get("flagkitBackup") != _FORMAT:
            raise SourceError(f"{self.path!r} is not a flagkit backup file")
        content = json.dumps(record.get("document"), ensure_ascii=False).encode("utf-8")
        return Snapshot(content, record.get("version"), as_of=saved_at(record))
