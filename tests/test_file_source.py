"""flagkit/sources/file.py: `FileSource`, a flag document in a local JSON file.

(`Flags.from_file` on top of it: tests/test_client.py.)
"""

from __future__ import annotations

from pathlib import Path

import pytest

from flagkit import SchemaValidationError, SourceError
from flagkit.sources.file import FileSource
from flagkit.sources.snapshot import content_version
from tests.helpers import write

CONTENT = '{"checkout": {"enabled": true}}'


def test_each_fetch_reads_the_file_as_it_is_now_labelled_by_its_content(tmp_path: Path) -> None:
    path = write(tmp_path, "flags.json", CONTENT)
    source = FileSource(path)

    first = source.fetch()
    write(tmp_path, "flags.json", '{"checkout": {"enabled": false}}')
    second = source.fetch()

    assert (first.content, first.version, first.as_of) == (
        CONTENT.encode(),
        content_version(CONTENT.encode()),
        None,
    )
    assert second.content == b'{"checkout": {"enabled": false}}'
    assert second.version != first.version
    assert source.description == f"file:{path}"


def test_a_missing_file_is_a_source_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "missing.json"
    with pytest.raises(SourceError) as raised:
        FileSource(path).fetch()
    assert str(raised.value) == f"cannot read flag document '{path}': No such file or directory"
    assert raised.value.retryable is False


def test_a_file_over_the_limit_is_refused_before_it_is_parsed(tmp_path: Path) -> None:
    path = write(tmp_path, "flags.json", CONTENT)
    with pytest.raises(SchemaValidationError) as raised:
        FileSource(path, max_bytes=len(CONTENT) - 1).fetch()
    assert str(raised.value) == (
        f"(document): {len(CONTENT)} bytes is larger than the limit of {len(CONTENT) - 1} bytes"
    )
    assert raised.value.source == f"file:{path}"


def test_a_file_at_the_limit_is_read(tmp_path: Path) -> None:
    path = write(tmp_path, "flags.json", CONTENT)
    assert FileSource(path, max_bytes=len(CONTENT)).fetch().content == CONTENT.encode()
