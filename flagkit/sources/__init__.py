"""Where flag documents come from: each source implements `flagkit.sources.base.Source`."""

from flagkit.sources.file import FileSource
from flagkit.sources.memory import MemorySource
from flagkit.sources.snapshot import Snapshot

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing: see flagkit._frozen
if TYPE_CHECKING:
    from flagkit.sources.base import Source
else:

    def __getattr__(name: str) -> object:
        """`Source`, a `typing.Protocol`, on first use: `import flagkit` need not load typing."""
        if name == "Source":
            from flagkit.sources.base import Source

            return Source
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return sorted({*globals(), "Source"})


__all__ = ["FileSource", "MemorySource", "Snapshot", "Source"]
