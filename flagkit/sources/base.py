"""The Source protocol: what `Flags` needs from anything that supplies flag documents."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from flagkit._frozen import Frozen

__all__ = ["BoundedSource", "Snapshot", "Source"]


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


@runtime_checkable
class Source(Protocol):
    """Implemented by `FileSource`, `MemorySource` and the AppConfig sources.

    `fetch()` returns the current document, or None when the source knows it is
    unchanged since the last fetch; it raises `flagkit.SourceError` when it cannot
    reach its document. `description` names the source in messages and status.
    """

    @property
    def description(self) -> str: ...

    def fetch(self) -> Snapshot | None: ...


@runtime_checkable
class BoundedSource(Source, Protocol):
    """A source whose requests give up: after `timeout` seconds each, or sooner when asked.

    `fetch(timeout=T)` holds the whole fetch (every request it makes) to about `T`
    seconds and raises a retryable `SourceError` when they run out; `Flags` uses it
    to keep start-up within `startup_timeout`. Implemented by the AppConfig sources.
    """

    timeout: float

    def fetch(self, *, timeout: float | None = None) -> Snapshot | None: ...
