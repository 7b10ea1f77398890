"""What a refresher reports: `FlagsStatus`, the `StatusLedger` behind it, and its log lines.

The refresher (`flagkit.refresh`) fetches and swaps under its locks and tells its
ledger how each attempt ended; the ledger keeps the counters, the last error and
the standing `Rejection`, makes the `FlagsStatus`, and logs each event as one
record on one line, on the `flagkit` logger: a swap (INFO), a rejected document
(WARNING), a failure to reach the source (WARNING, once until another one), the
source answering again or a rejection resolved (INFO).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from flagkit.announcer import LOGGER_NAME
from flagkit.errors import MAX_PROBLEMS_SHOWN, DocumentError, FlagkitError, SourceError

__all__ = [
    "REJECTION_MESSAGE",
    "FlagsStatus",
    "Rejection",
    "StatusCallback",
    "StatusLedger",
    "log_swap",
]

REJECTION_MESSAGE = (
    "flagkit: rejected flag document version %s from %s; still serving version %s: %s"
)
"""The log line of a rejected document (its version, the source, the served version, the
problems last): a log handler may recognise it to leave the problems out."""

_FLAGS_NAMED = 20
"""A swap's log line names this many changed flags, then counts the rest."""


@dataclass(frozen=True, slots=True)
class FlagsStatus:
    """How fresh the served document is, and what went wrong last.

    `source` is where documents come from; `origin` where the one being served came
    from (the source, or a backup or fallback at start). `stale_for` is 0.0 while the
    source answers, else the seconds since the served document was last known to be
    current: since the source last confirmed it or, while a backup loaded at start
    is served, since that backup was saved (its `savedAt`).

    `confirmed_at` is when the source last delivered or confirmed the served
    document (Unix time). `refreshes` counts the fetches from the source (start-up's
    included) that brought a valid document or confirmed the served one;
    `failed_refreshes` those that did not (an unreachable source, a rejected document).

    `rejected_version` and `rejected_problems` (`"path: message"`, each) describe the
    document the source delivered last and flagkit refused. They stay until the refusal
    is resolved: a valid document from the source is swapped in, or the source serves
    the served version again. Errors reaching the source and "unchanged" answers leave
    them as they are: the deployed document is still not the one served, so `stale_for`
    keeps counting and `consecutive_failures` stays above 0. `last_error` is the last
    failure: a transport error until the source answers again, then the rejection's
    message (while one stands).
    """

    source: str
    origin: str
    version: str | None
    loaded_at: float
    last_attempt: float
    last_error: str | None
    consecutive_failures: int
    stale_for: float
    confirmed_at: float = 0.0
    refreshes: int = 0
    failed_refreshes: int = 0
    rejected_version: str | None = None
    rejected_problems: tuple[str, ...] = ()
    overrides: int = 0
    """How many flags local overrides force now (docs/overrides.md); 0 without overrides."""
    overrides_origin: str | None = None
    """Where the overrides come from (`file:PATH`, `memory`, ...); None without overrides."""
    overrides_error: str | None = None
    """Why the overrides file's current content was refused (the last good ones serve)."""

    @property
    def rejected(self) -> bool:
        """Whether a document the source delivered was refused and nothing has replaced it."""
        return bool(self.rejected_problems)


StatusCallback = Callable[[FlagsStatus], None]
"""Called as `callback(status)` after every refresh attempt: a swap, "unchanged" or a failure."""


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


class StatusLedger:
    """The counters, errors and times behind `FlagsStatus`, kept by one refresher.

    Not locked: the refresher calls it under its refresh lock, and `status()` reads
    plain attributes (a status read during an attempt may mix before and after).
    """

    def __init__(self, source: str) -> None:
        self.source = source
        self.origin = source
        self.refreshes = self.failed_refreshes = self.failures = 0
        self.unreachable = 0  # failed attempts to reach the source since it last answered
        self.last_error: str | None = None
        self.rejection: Rejection | None = None
        self._logged_error: str | None = None
        self.last_attempt = self.loaded_at = self.fresh_at = time.time()

    def attempting(self) -> None:
        """An attempt starts now."""
        self.last_attempt = time.time()

    def started(self, origin: str, as_of: float | None) -> None:
        """The first document is served, from `origin`, current as of `as_of` (None: now)."""
        self.origin = origin
        self.loaded_at = self.fresh_at = self.last_attempt
        if as_of is not None:  # A backup: as old as when it was saved.
            self.fresh_at = min(as_of, self.fresh_at)

    def delivered(self) -> tuple[Rejection | None, int]:
        """The source delivered a valid document, now served: every failure is over.
        Returns the rejection it resolves and the failed attempts to reach the source."""
        resolved, unreachable = self.rejection, self.unreachable
        self.refreshes += 1
        self.origin = self.source
        self.loaded_at = self.fresh_at = self.last_attempt
        self.failures = self.unreachable = 0
        self.last_error = self._logged_error = self.rejection = None
        return resolved, unreachable

    def answered(self, served: str | None, *, confirmed: bool) -> None:
        """The source answered: with nothing new, or (`confirmed`) with the served document.

        Either way it is reachable again. A confirmation resolves a rejection; "nothing
        new" does not (the source will not send the rejected document again, and the
        served one stays older than the deployed one until the next deployment).
        """
        self.refreshes += 1
        unreachable, self.unreachable, resolved = self.unreachable, 0, None
        if confirmed:
            self.origin = self.source
            resolved, self.rejection = self.rejection, None
        if self.rejection is None:
            self.fresh_at = self.last_attempt
            self.failures, self.last_error = 0, None
        else:
            self.last_error = self.rejection.message  # The transport error is over.
        self._logged_error = None
        _log_answering_again(
            self.source,
            served,
            failed_attempts=unreachable,
            resolved=resolved,
            standing=self.rejection,
        )

    def failed(self, exc: Exception, version: str | None) -> None:
        """An attempt failed: the source unreachable, its document `version` rejected, a bug."""
        self.failures += 1
        self.failed_refreshes += 1
        self.last_error = str(exc)
        if isinstance(exc, DocumentError):
            self.rejection = Rejection.of(exc, version)
        elif isinstance(exc, SourceError):
            self.unreachable += 1

    def log_failure(self, exc: FlagkitError, served: str | None) -> None:
        """Log a failure nobody else will see, once until a different one happens."""
        message = str(exc)
        if message == self._logged_error:
            return
        self._logged_error = message
        if isinstance(exc, DocumentError):
            rejection = self.rejection or Rejection.of(exc, None)
            _logger().warning(
                REJECTION_MESSAGE,
                rejection.version,
                self.source,
                served,
                "; ".join(rejection.problems),
            )
        else:
            _logger().warning("flagkit: refresh from %s failed: %s", self.source, message)

    def status(self, served: str | None) -> FlagsStatus:
        """The `FlagsStatus` of now, `served` being the served document's version."""
        rejection = self.rejection
        stale = self.failures or rejection is not None
        return FlagsStatus(
            source=self.source,
            origin=self.origin,
            version=served,
            loaded_at=self.loaded_at,
            last_attempt=self.last_attempt,
            last_error=self.last_error,
            consecutive_failures=self.failures,
            stale_for=(time.time() - self.fresh_at) if stale else 0.0,
            confirmed_at=self.fresh_at,
            refreshes=self.refreshes,
            failed_refreshes=self.failed_refreshes,
            rejected_version=None if rejection is None else rejection.version,
            rejected_problems=() if rejection is None else rejection.problems,
        )


def log_swap(
    source: str,
    old: str | None,
    new: str | None,
    changed: Iterable[str],
    *,
    resolved: Rejection | None,
    failed_attempts: int,
) -> None:
    """Log a swap: `flagkit: serving flag document version 2 from S (was version 1); 1 flag
    changed: a`, plus the rejection it resolves and the failed attempts it ends."""
    was = f"was version {old}"
    if resolved is not None:
        was += f"; version {resolved.version} was rejected"
    line = f"flagkit: serving flag document version {new} from {source} ({was}); "
    line += _changes(sorted(changed))
    if failed_attempts:
        line += f"; {source} answers again after {_attempts(failed_attempts)}"
    _logger().info("%s", line)


def _log_answering_again(
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
