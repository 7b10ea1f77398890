"""A document held in memory: `Flags.from_dict`, and a test double users can swap documents in."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from flagkit.document import DEFAULT_MAX_DOCUMENT_BYTES
from flagkit.errors import Problem, SchemaValidationError
from flagkit.schema import ROOT
from flagkit.sources.snapshot import Snapshot, content_version

__all__ = ["MemorySource"]


class MemorySource:
    """Serves the document it was given until `update()` gives it another.

    The document is serialised at once, so later changes to the caller's dict
    change nothing, and a value JSON cannot hold is refused up front.
    """

    def __init__(
        self,
        document: Mapping[str, Any],
        *,
        version: str | None = None,
        max_bytes: int = DEFAULT_MAX_DOCUMENT_BYTES,
    ) -> None:
        self.max_bytes = max_bytes
        """The largest document (as JSON, in bytes) `Flags` accepts from this source."""
        self._snapshot = self._snapshot_of(document, version)

    @property
    def description(self) -> str:
        return "memory"

    def update(self, document: Mapping[str, Any], *, version: str | None = None) -> None:
        """Replace the document; the next `Flags.refresh()` picks it up."""
        self._snapshot = self._snapshot_of(document, version)

    def fetch(self) -> Snapshot:
        return self._snapshot

    @staticmethod
    def _snapshot_of(document: Mapping[str, Any], version: str | None) -> Snapshot:
        try:
            text = json.dumps(document, allow_nan=False, ensure_ascii=False)
        except (TypeError, ValueError, RecursionError) as exc:
            raise SchemaValidationError([Problem(ROOT, f"not JSON data: {exc}")]) from None
        try:
            content = text.encode("utf-8")
        except UnicodeEncodeError:  # A lone surrogate, as json.loads makes of "\\udcff": escaped.
            content = json.dumps(document, allow_nan=False).encode("ascii")
        return Snapshot(content, version or content_version(content))
