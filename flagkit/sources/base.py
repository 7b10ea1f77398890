"""The Source protocol: what `Flags` needs from anything that supplies flag documents."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from flagkit.sources.snapshot import Snapshot

__all__ = ["BoundedSource", "Snapshot", "Source"]


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
