"""Where flag documents come from: each source implements `flagkit.sources.base.Source`."""

from flagkit.sources.base import Snapshot, Source
from flagkit.sources.file import FileSource
from flagkit.sources.memory import MemorySource

__all__ = ["FileSource", "MemorySource", "Snapshot", "Source"]
