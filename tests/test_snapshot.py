"""flagkit/sources/snapshot.py and flagkit/sources/base.py: what a source delivers.

A `Snapshot`, the `content_version` label of content without one, and which built-in
sources are a `Source` and which a `BoundedSource` (their requests give up).
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from flagkit.sources.agent import AgentSource
from flagkit.sources.appconfig import AppConfigSource
from flagkit.sources.backup import BackupSource
from flagkit.sources.base import BoundedSource, Source
from flagkit.sources.file import FileSource
from flagkit.sources.memory import MemorySource
from flagkit.sources.snapshot import Snapshot, content_version


def test_content_version_is_hash_and_16_hex_digits_of_the_content_alone() -> None:
    label = content_version(b'{"a": {"enabled": true}}')

    assert re.fullmatch(r"hash:[0-9a-f]{16}", label)
    assert content_version(b'{"a": {"enabled": true}}') == label
    assert content_version(b'{"a": {"enabled": false}}') != label
    assert content_version(b"") == "hash:0000000000000000"


def test_a_snapshot_is_current_unless_it_says_since_when_and_cannot_be_changed() -> None:
    snapshot = Snapshot(b"{}", "v1")
    assert snapshot.as_of is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        snapshot.version = "v2"  # type: ignore[misc]


def test_every_built_in_source_is_a_source_and_the_remote_ones_are_bounded(tmp_path: Path) -> None:
    local = [
        FileSource(tmp_path / "flags.json"),
        MemorySource({}),
        BackupSource(tmp_path / "backup.json"),
    ]
    remote = [
        AppConfigSource("app", "prod", "flags", client=object()),
        AgentSource("app", "prod", "flags"),
    ]
    assert all(isinstance(source, Source) for source in local + remote)
    assert [isinstance(source, BoundedSource) for source in local + remote] == [
        False,
        False,
        False,
        True,
        True,
    ]
