"""The Source protocol: what `Flags` needs from anything that supplies flag documents."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from flagkit.document import DEFAULT_MAX_DOCUMENT_BYTES
from flagkit.sources.snapshot import Snapshot

__all__ = ["BoundedSource", "Snapshot", "Source", "max_document_bytes"]


@runtime_checkable
class Source(Protocol):
    """Implemented by `FileSource`, `MemorySource` and the AppConfig sources.

    `fetch()` returns the current document, or None when the source knows it is
    unchanged since the last fetch; it raises `flagkit.SourceError` when it cannot
    reach its document. `description` names the source in messages and status.

    A source may also have `max_bytes`, the largest document it accepts; `Flags` then
    refuses larger ones (see `max_document_bytes`).
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


def max_document_bytes(source: object) -> int:
    """The largest document `Flags` loads from `source`: its `max_bytes`, else the default.

    Every source flagkit ships has `max_bytes` (`FileSource(path, max_bytes=...)`,
    `AppConfigSource`, `AgentSource`, `MemorySource`); a source of your own may add one.
    """
    limit = getattr(source, "max_bytes", None)
    return (
        limit
        if isinstance(limit, int) and not isinstance(limit, bool)
        else DEFAULT_MAX_DOCUMENT_BYTES
    )
