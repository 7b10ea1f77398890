"""Where flag documents come from: each source implements `flagkit.sources.base.Source`."""

from flagkit.sources.base import Source
from flagkit.sources.file import FileSource
from flagkit.sources.memory import MemorySource
from flagkit.sources.snapshot import Snapshot

__all__ = ["FileSource", "MemorySource", "Snapshot", "Source"]
