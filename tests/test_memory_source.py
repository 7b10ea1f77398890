"""flagkit/sources/memory.py: `MemorySource`, a document held in memory.

(`Flags.from_dict` on top of it: tests/test_client.py.)
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from flagkit import SchemaValidationError
from flagkit.sources.memory import MemorySource
from flagkit.sources.snapshot import content_version

DOC: dict[str, Any] = {"checkout": {"enabled": True, "tenants": ["acme"], "description": "für"}}


def test_the_document_is_serialised_at_once_so_later_changes_to_it_change_nothing() -> None:
    document = json.loads(json.dumps(DOC))
    source = MemorySource(document, version="v1")
    document["checkout"]["tenants"].append("globex")

    snapshot = source.fetch()

    assert json.loads(snapshot.content) == DOC
    assert "für".encode() in snapshot.content  # UTF-8, not \\u escapes
    assert (snapshot.version, snapshot.as_of) == ("v1", None)
    assert source.description == "memory"


def test_without_a_version_the_content_labels_itself() -> None:
    snapshot = MemorySource(DOC).fetch()
    assert snapshot.version == content_version(snapshot.content)


def test_update_replaces_what_the_next_fetch_returns() -> None:
    source = MemorySource(DOC, version="v1")
    source.update({"checkout": {"enabled": False}}, version="v2")
    snapshot = source.fetch()
    assert (json.loads(snapshot.content), snapshot.version) == (
        {"checkout": {"enabled": False}},
        "v2",
    )


def test_a_value_json_cannot_hold_is_refused_up_front() -> None:
    source = MemorySource(DOC, version="v1")
    with pytest.raises(SchemaValidationError) as raised:
        source.update({"checkout": {"enabled": True, "ids": {1, 2}}}, version="v2")
    assert (
        str(raised.value)
        == "(document): not JSON data: Object of type set is not JSON serializable"
    )
    assert source.fetch().version == "v1"  # the document it had is kept
