"""A flag document in a local JSON file: the embedded default."""

from __future__ import annotations

import os

from flagkit.document import DEFAULT_MAX_DOCUMENT_BYTES, size_problem
from flagkit.errors import SchemaValidationError, SourceError
from flagkit.sources.snapshot import Snapshot, content_version

__all__ = ["FileSource"]


class FileSource:
    """Reads a JSON file on every fetch; its version is a hash of the content."""

    def __init__(
        self, path: str | os.PathLike[str], *, max_bytes: int = DEFAULT_MAX_DOCUMENT_BYTES
    ) -> None:
        self.path = os.fspath(path)
        self.max_bytes = max_bytes

    @property
    def description(self) -> str:
        return f"file:{self.path}"

    def fetch(self) -> Snapshot:
        try:
            with open(self.path, "rb") as handle:
                content = handle.read(self.max_bytes + 1)
        except OSError as exc:
            raise SourceError(f"cannot read flag document {self.path!r}: {exc.strerror}") from exc
        if len(content) > self.max_bytes:
            problem = size_problem(os.path.getsize(self.path), self.max_bytes)
            raise SchemaValidationError([problem], source=self.description)
        return Snapshot(content, content_version(content))
