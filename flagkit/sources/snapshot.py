"""`Snapshot`: one version of a document as a source delivered it."""

from __future__ import annotations

from flagkit._frozen import Frozen

__all__ = ["Snapshot"]


class Snapshot(Frozen):
    """One version of a document as a source delivered it, before any checking.

    `content` is the raw bytes; `version` is the source's label for it (AppConfig's
    `Version-Label`, a file's content hash), None when the source has none.
    `as_of`, in seconds since the epoch, is when the document was last known to
    be current, for a source that holds an older copy (a backup); None means now.
    """

    content: bytes
    version: str | None
    content_type: str = "application/json"
    as_of: float | None = None
