"""`Snapshot`: one version of a document as a source delivered it, and version labels."""

from __future__ import annotations

from dataclasses import dataclass

from mmh3 import hash128

__all__ = ["Snapshot", "content_version"]


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One version of a document as a source delivered it, before any checking.

    `content` is the raw bytes; `version` is the source's label for it (AppConfig's
    `Version-Label`, a file's content hash), None when the source has none.
    `as_of`, in seconds since the epoch, is when the document was last known to
    be current, for a source that holds an older copy (a backup); None means now.
    """

    content: bytes
    version: str | None
    as_of: float | None = None


def content_version(content: bytes) -> str:
    """A version label derived from the bytes themselves: `hash:` and 16 hex digits.

    MurmurHash3 (128-bit), not a cryptographic hash: it labels versions, it does
    not authenticate them, and it spares `import flagkit` loading OpenSSL.
    """
    return f"hash:{hash128(content, 0, False):032x}"[:21]
