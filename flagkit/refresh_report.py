"""What a refresher says besides its status: the rejection it holds, and its log lines.

Each event is one log record on one line, on the `flagkit` logger: a swap (INFO), a
rejected document (WARNING), a source that answers again (INFO). The wording lives
here, apart from the refresher's locking and counting.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from flagkit.announcer import LOGGER_NAME
from flagkit.errors import MAX_PROBLEMS_SHOWN, DocumentError

__all__ = ["Rejection", "log_answering_again", "log_rejection", "log_swap"]

_FLAGS_NAMED = 20
"""A swap's log line names this many changed flags, then counts the rest."""


@dataclass(frozen=True, slots=True)
class Rejection:
    """A document the source delivered and flagkit refused: its version and its problems.

    `problems` are `"path: message"` strings (the first `MAX_PROBLEMS_SHOWN`, then one
    `"... and N more"`); `message` is the `DocumentError`'s text.
    """

    version: str | None
    problems: tuple[str, ...]
    message: str

    @classmethod
    def of(cls, error: DocumentError, version: str | None) -> Rejection:
        problems = [str(problem) for problem in error.problems[:MAX_PROBLEMS_SHOWN]]
        if len(error.problems) > MAX_PROBLEMS_SHOWN:
            problems.append(f"... and {len(error.problems) - MAX_PROBLEMS_SHOWN} more")
        return cls(version, tuple(problems) or (str(error),), str(error))


def log_swap(
    source: str,
    old: str | None,
    new: str | None,
    changed: Iterable[str],
    *,
    resolved: Rejection | None,
    failed_attempts: int,
) -> None:
    """`flagkit: serving flag document version 2 from S (was version 1); 1 flag changed: a`."""
    was = f"was version {old}"
    if resolved is not None:
        was += f"; version {resolved.version} was rejected"
    line = f"flagkit: serving flag document version {new} from {source} ({was}); "
    line += _changes(sorted(changed))
    if failed_attempts:
        line += f"; {source} answers again after {_attempts(failed_attempts)}"
    _logger().info("%s", line)


def log_rejection(source: str, rejection: Rejection, served: str | None) -> None:
    """`flagkit: rejected flag document version 2 from S; still serving version 1: p1; p2`."""
    _logger().warning(
        "flagkit: rejected flag document version %s from %s; still serving version %s: %s",
        rejection.version,
        source,
        served,
        "; ".join(rejection.problems),
    )


def log_answering_again(
    source: str,
    served: str | None,
    *,
    failed_attempts: int,
    resolved: Rejection | None,
    standing: Rejection | None,
) -> None:
    """The source answered with nothing new after failures, or served the served version
    again (resolving a rejection): one INFO line; nothing when neither happened."""
    parts = []
    if failed_attempts:
        parts.append(f"{source} answers again after {_attempts(failed_attempts)}")
    if resolved is not None:
        parts.append(
            f"{source} serves version {served} again: the rejection of version "
            f"{resolved.version} is resolved"
        )
    elif standing is not None and parts:
        parts.append(f"still serving version {served}; version {standing.version} stays rejected")
    elif parts:
        parts.append(f"serving version {served}")
    if parts:
        _logger().info("%s", "flagkit: " + "; ".join(parts))


def _changes(changed: list[str]) -> str:
    if not changed:
        return "no flag changed"
    named = ", ".join(changed[:_FLAGS_NAMED])
    if len(changed) > _FLAGS_NAMED:
        named += f", ... and {len(changed) - _FLAGS_NAMED} more"
    return f"{len(changed)} flag{'s' if len(changed) > 1 else ''} changed: {named}"


def _attempts(count: int) -> str:
    return f"{count} failed attempt{'s' if count > 1 else ''}"


def _logger() -> logging.Logger:
    return logging.getLogger(LOGGER_NAME)
