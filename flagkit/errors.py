"""The one tree of errors flagkit raises.

```
FlagkitError
├── DocumentError                 a flag document cannot be used
│   ├── SchemaValidationError     it breaks the JSON Schema (or is not JSON at all)
│   └── InvalidFlagError          it passes the schema but makes no sense
│                                 (a cycle in `requires`, an unknown segment, ...)
├── SourceError                   a source could not produce a document
├── ConfigurationError            flagkit was set up wrongly (also a ValueError)
└── PublishError                  a diff or a push could not finish (a tenants file, an
                                  AppConfig name, a conflicting version, an AWS error)
```

Evaluation never raises on data (`Flags.enabled`, `Flags.evaluate`); these are
raised by loading and refreshing, so that a bad document is rejected before it
can serve a single answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "ConfigurationError",
    "DocumentError",
    "FlagkitError",
    "InvalidFlagError",
    "Problem",
    "PublishError",
    "SchemaValidationError",
    "SourceError",
]


MAX_PROBLEMS_SHOWN = 20
"""A DocumentError's message lists this many problems; `.problems` holds them all."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a document: where (a JSON path) and what."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class FlagkitError(Exception):
    """The base of every error flagkit raises."""


class DocumentError(FlagkitError):
    """A flag document was rejected; `problems` lists every reason, each with its path."""

    def __init__(self, problems: Sequence[Problem], *, source: str | None = None) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        self.source = source
        super().__init__(self._render())

    def _render(self) -> str:
        lines = [str(problem) for problem in self.problems[:MAX_PROBLEMS_SHOWN]]
        if len(self.problems) == 1:
            return lines[0]
        if len(self.problems) > MAX_PROBLEMS_SHOWN:
            lines.append(f"... and {len(self.problems) - MAX_PROBLEMS_SHOWN} more")
        head = f"{len(self.problems)} problems in the flag document"
        return "\n".join([head + ":", *(f"  {line}" for line in lines)])


class SchemaValidationError(DocumentError):
    """The document is not JSON, or does not match the flag document schema."""


class InvalidFlagError(DocumentError):
    """The document matches the schema but contradicts itself (cycles, unknown references)."""


class SourceError(FlagkitError):
    """A source (file, AppConfig, Agent) could not produce a document.

    `retryable` says whether trying again later may succeed (throttling, a 5xx, a
    timeout, a connection refused) or not (an unknown application, access denied);
    `retry_after`, in seconds, is the source's own request to wait, when it made one.
    """

    def __init__(
        self, message: str, *, retryable: bool = False, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after


class ConfigurationError(FlagkitError, ValueError):
    """An argument flagkit cannot work with (a poll interval below AppConfig's minimum, ...)."""


class PublishError(FlagkitError):
    """Diffing or publishing a document could not finish (`flagkit.publish`).

    A tenants file that cannot be read, an AppConfig application, environment,
    profile or deployment strategy that does not exist, a version created by
    someone else since this push read the latest one, or any error AWS returned.
    The message names the thing, the value and what was expected.
    """
