"""The refresher: what keeps a `Flags` supplied with documents, and the status it reports.

A `Refresher` owns a `Flags`'s source and everything about fetching from it: the
start-up policy (the source, retried for `startup_timeout`; else the backup; else
the fallback), one fetch at a time, compiling and installing a new document whole,
writing the backup, counting failures, backing off, logging a failure once, and the
`FlagsStatus` that says how fresh the served document is. `Flags` reads never touch
it: they read the document the refresher last installed.

Who calls `poll_once()` is a scheduler's business (`flagkit.schedulers`): a
background thread, reads that find the document due, or nobody (`refresh()` only).
"""

from __future__ import annotations

import logging
import os
import threading
import time
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from flagkit.announcer import LOGGER_NAME, ChangeAnnouncer, unsubscriber
from flagkit.compiler import compile_document
from flagkit.document import changed_flags, load_document
from flagkit.errors import DocumentError, FlagkitError, SourceError
from flagkit.flagset import FlagSet
from flagkit.refresh_report import Rejection, log_answering_again, log_rejection, log_swap
from flagkit.schedulers import Backoff, reset_after_fork
from flagkit.sources.backup import BackupSource, save_backup
from flagkit.sources.base import BoundedSource, Source
from flagkit.sources.file import FileSource
from flagkit.sources.memory import MemorySource
from flagkit.sources.snapshot import Snapshot, content_version

__all__ = ["Fallback", "FlagsStatus", "Refresher", "StatusCallback"]

Fallback = str | os.PathLike[str] | Mapping[str, Any] | None
"""A document to start from when the source and the backup have none: a path or a mapping."""

_LAST_ATTEMPT = 0.25
"""At start-up, the least time (seconds) worth a last attempt before `startup_timeout` ends."""


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

    @property
    def rejected(self) -> bool:
        """Whether a document the source delivered was refused and nothing has replaced it."""
        return bool(self.rejected_problems)


StatusCallback = Callable[[FlagsStatus], None]
"""Called as `callback(status)` after every refresh attempt: a swap, "unchanged" or a failure."""


class Refresher:
    """Fetches, checks and installs the documents of one source for one `Flags`.

    `install(flagset)` is how a new document reaches the readers; it is held weakly
    (a bound method of the `Flags`), so a refresher never keeps its `Flags` alive.
    """

    # About 330 lines, over the house's 300 on purpose: start-up, refresh and status share
    # one set of counters and two locks, and keeping them in one class keeps the rules
    # about who holds which lock, when, readable in one place.

    def __init__(
        self,
        source: Source,
        *,
        install: Callable[[FlagSet], None],
        announcer: ChangeAnnouncer,
        poll_interval: float,
        backup_path: str | os.PathLike[str] | None,
        scheduled: bool = False,
    ) -> None:
        self.source = source
        self.status_callbacks: list[StatusCallback] = []
        self._install = weakref.WeakMethod(install)
        self._announcer = announcer
        self._poll_interval = poll_interval
        self._backup_path = None if backup_path is None else os.fspath(backup_path)
        self._refresh_lock = threading.RLock()  # one fetch at a time
        self._swap_lock = threading.Lock()  # held only to install a document; close() takes it
        self._closed = threading.Event()
        self._served: FlagSet | None = None
        self._origin = source.description
        self._refreshes = self._failed_refreshes = self._failures = 0
        self._scheduled = scheduled  # A scheduler polls: refresh() shares its polls.
        self._unreachable = 0  # failed attempts to reach the source since it last answered
        self._last_error: str | None = None
        self._rejection: Rejection | None = None
        self._served_digest: str | None = None  # content_version of the served bytes
        self._next_poll_at = 0.0  # time.monotonic() before which the source refuses a poll
        self._logged_error: str | None = None
        self._last_attempt = self._loaded_at = self._fresh_at = time.time()
        reset_after_fork(self)

    # -- start-up ---------------------------------------------------------------------------

    def start(self, fallback: Fallback, startup_timeout: float) -> None:
        """Install the source's document; else, once the source has had its chance, the
        backup's, else the fallback's. Raises `SourceError` (or the `DocumentError` of the
        source's document) when none of them has one.

        A source that can bound its requests is given only the start-up time left, so
        a hanging one cannot hold start-up past `startup_timeout`.
        """
        flagset, as_of, digest = self._first_document(fallback, startup_timeout)
        self._put(flagset)
        self._served_digest = digest
        self._loaded_at = self._fresh_at = self._last_attempt
        if as_of is not None:  # A backup: as old as when it was saved.
            self._fresh_at = min(as_of, self._fresh_at)

    def first_delay(self) -> float:
        """Seconds from start-up to the first poll: sooner when start-up failed over."""
        return self._retry_delay() if self._failures else self._interval()

    def _first_document(
        self, fallback: Fallback, startup_timeout: float
    ) -> tuple[FlagSet, float | None, str]:
        """The document to start from, as of when (None: now), and the digest of its bytes."""
        deadline = time.monotonic() + startup_timeout
        source = self.source
        bounded = source if startup_timeout > 0 and isinstance(source, BoundedSource) else None
        last = min(_LAST_ATTEMPT, startup_timeout / 4)  # the time kept for a last attempt
        while True:
            self._last_attempt = time.time()
            version: str | None = None
            try:
                timeout = None if bounded is None else deadline - time.monotonic()
                snapshot = self._fetch(timeout)
                if snapshot is None:
                    raise SourceError(f"{source.description} delivered no document")
                version = snapshot.version
                flagset = self._compile(snapshot.content, snapshot.version)
            except SourceError as exc:
                self._record_failure(exc, None)
                remaining = deadline - time.monotonic()
                if exc.retryable and remaining > last:
                    # Wake early enough to leave a last attempt some time of its own.
                    self._closed.wait(min(self._retry_delay(), remaining - last))
                    continue
                primary: FlagkitError = exc
            except DocumentError as exc:
                self._record_failure(exc, version)
                primary = exc
            else:
                self._failures = self._unreachable = 0
                self._last_error, self._rejection = None, None
                self._refreshes += 1
                self._save_backup(flagset)
                return flagset, None, content_version(snapshot.content)
            break
        described = str(primary).startswith(source.description)
        reasons = [str(primary) if described else f"{source.description}: {primary}"]
        for origin, standby in self._standby_sources(fallback):
            try:
                standby_snapshot = standby.fetch()
                if standby_snapshot is None:
                    raise SourceError("delivered no document")
                flagset = self._compile(standby_snapshot.content, standby_snapshot.version)
            except FlagkitError as exc:
                reasons.append(f"{origin}: {exc}")
                continue
            self._origin = origin
            _logger().warning(
                "flagkit: serving %s (version %s) until %s answers",
                origin,
                flagset.version,
                source.description,
            )
            return flagset, standby_snapshot.as_of, content_version(standby_snapshot.content)
        if isinstance(primary, DocumentError) and len(reasons) == 1:
            raise primary
        raise SourceError("no flag document to start from:\n  " + "\n  ".join(reasons))

    def _standby_sources(self, fallback: Fallback) -> list[tuple[str, Source]]:
        """(origin, source) of the backup and the fallback, in the order they are tried."""
        standby: list[tuple[str, Source]] = []
        if self._backup_path is not None:
            backup = BackupSource(self._backup_path)
            standby.append((backup.description, backup))
        if isinstance(fallback, Mapping):
            standby.append(("fallback:memory", MemorySource(fallback)))
        elif fallback is not None:
            source = FileSource(fallback)
            standby.append((f"fallback:{source.description}", source))
        return standby

    # -- refreshing -------------------------------------------------------------------------

    def refresh(self) -> bool:
        """Fetch once; install the document if it is new. True when it was (see `Flags.refresh`).

        While a scheduler polls (`scheduled`), a refresh shares its polls: with one in
        flight it waits for that one and returns whether it swapped a document in; before
        the source takes another poll (AppConfig refuses one sooner than its poll
        interval) it fetches nothing and returns False. Neither raises: `status` says
        how the scheduler's last poll went.
        """
        if not self._scheduled:
            return self._attempt()
        served = self._served
        if not self._refresh_lock.acquire(blocking=False):
            with self._refresh_lock:  # A poll is in flight: its outcome is this refresh's.
                return self._served is not served
        try:
            if time.monotonic() < self._next_poll_at:
                return False  # The source would refuse it: the current state stands.
            return self._attempt()
        finally:
            self._refresh_lock.release()

    def poll_once(self) -> float:
        """One refresh for a scheduler; returns the seconds to wait before the next."""
        early = self._next_poll_at - time.monotonic()
        if early > 0:
            return early  # A refresh() polled since: the source takes no poll before then.
        try:
            self._attempt()
        except SourceError as exc:
            self._log_failure(exc)
            return self._retry_delay(at_least=exc.retry_after or 0.0)
        except DocumentError as exc:
            self._log_failure(exc)
            return self._interval()  # The source will not resend it: wait for the next one.
        except Exception:  # A bug must not kill the thread: log it and back off.
            _logger().exception("flagkit: refreshing %s failed", self.source.description)
            return self._retry_delay()  # _attempt() recorded the failure.
        return self._interval()

    def _attempt(self) -> bool:
        """One fetch, recorded and reported to the status callbacks whatever its outcome."""
        try:
            return self._fetch_and_swap()
        except FlagkitError:
            raise  # Recorded where it happened.
        except Exception as exc:  # A bug, not the source: still a failed attempt, reported.
            self._record_failure(exc, None)
            raise
        finally:
            if self.status_callbacks and not self._closed.is_set():
                self._report_status()

    def _fetch_and_swap(self) -> bool:
        with self._refresh_lock:
            if self._closed.is_set():
                return False
            self._last_attempt = time.time()
            version: str | None = None
            try:
                snapshot = self._fetch()
                if snapshot is None:  # "Unchanged since your last fetch"
                    self._record_answer(confirmed=False)
                    return False
                version, digest = snapshot.version, content_version(snapshot.content)
                served = self._served
                same_label = served is not None and version == served.version
                if same_label and digest == self._served_digest:
                    self._record_answer(confirmed=True)  # The source serves what is served.
                    return False
                new = self._compile(snapshot.content, snapshot.version)
                if same_label and served is not None and new.document == served.document:
                    self._served_digest = digest  # The same document, written differently.
                    self._record_answer(confirmed=True)
                    return False
            except FlagkitError as exc:
                self._record_failure(exc, version)
                raise
            with self._swap_lock:
                if self._closed.is_set():
                    return False  # close() returned while this fetch was in flight: drop it.
                old = self._served
                if not self._put(new):
                    return False  # The Flags is gone.
                self._served_digest = digest
                self._refreshes += 1
                self._origin = self.source.description
                self._loaded_at = self._fresh_at = self._last_attempt
                resolved, unreachable = self._rejection, self._unreachable
                self._failures = self._unreachable = 0
                self._last_error = self._logged_error = self._rejection = None
                changed = frozenset() if old is None else changed_flags(old.document, new.document)
                if old is not None:
                    self._announcer.queue(old, new, changed)
            log_swap(
                self.source.description,
                None if old is None else old.version,
                new.version,
                changed,
                resolved=resolved,
                failed_attempts=unreachable,
            )
            self._save_backup(new)
        self._announcer.announce()
        return True

    def close(self) -> None:
        """Fetch nothing more: a fetch in flight is dropped when it ends, not waited for."""
        with self._swap_lock:
            self._closed.set()

    def close_source(self) -> None:
        """Close the source's own connections (the boto3 client flagkit made for AppConfig)."""
        close_source = getattr(self.source, "close", None)
        if close_source is not None:
            close_source()

    def reset_after_fork(self) -> None:
        """In a forked child: fresh locks (the parent's may have been held), a fresh source
        connection and session (a boto3 client and its tokens must not be shared)."""
        self._refresh_lock = threading.RLock()
        self._swap_lock = threading.Lock()
        self._next_poll_at = 0.0  # The child starts a session of its own.
        self._announcer.reset_after_fork()
        reset = getattr(self.source, "reset_after_fork", None)
        if reset is not None:
            reset()

    # -- status -----------------------------------------------------------------------------

    @property
    def status(self) -> FlagsStatus:
        """Source, origin, version and freshness of the served document, and the last error."""
        rejection = self._rejection
        stale = self._failures or rejection is not None
        return FlagsStatus(
            source=self.source.description,
            origin=self._origin,
            version=self._served_version(),
            loaded_at=self._loaded_at,
            last_attempt=self._last_attempt,
            last_error=self._last_error,
            consecutive_failures=self._failures,
            stale_for=(time.time() - self._fresh_at) if stale else 0.0,
            confirmed_at=self._fresh_at,
            refreshes=self._refreshes,
            failed_refreshes=self._failed_refreshes,
            rejected_version=None if rejection is None else rejection.version,
            rejected_problems=() if rejection is None else rejection.problems,
        )

    def on_status(self, callback: StatusCallback) -> Callable[[], None]:
        """Add a status callback; returns a function that removes it."""
        self.status_callbacks.append(callback)
        return unsubscriber(self.status_callbacks, callback)

    def _report_status(self) -> None:
        status = self.status
        for callback in list(self.status_callbacks):
            try:
                callback(status)
            except Exception:
                _logger().exception("flagkit on_status callback %r failed", callback)

    # -- internals --------------------------------------------------------------------------

    def _put(self, flagset: FlagSet) -> bool:
        """Hand `flagset` to the readers; False when the `Flags` no longer exists."""
        install = self._install()
        if install is None:
            return False
        install(flagset)
        self._served = flagset
        return True

    def _served_version(self) -> str | None:
        return None if self._served is None else self._served.version

    def _compile(self, content: bytes, version: str | None) -> FlagSet:
        try:
            checked = load_document(content)
        except DocumentError as exc:
            exc.source = self.source.description
            raise
        for warning in checked.warnings:
            _logger().warning(
                "flag document %s (%s): %s", version, self.source.description, warning
            )
        return compile_document(checked, version=version)

    def _save_backup(self, flagset: FlagSet) -> None:
        if self._backup_path is None:
            return
        try:
            save_backup(
                self._backup_path,
                flagset.document,
                source=self.source.description,
                version=flagset.version,
            )
        except OSError as exc:
            _logger().warning("flagkit: cannot write the backup %s: %s", self._backup_path, exc)

    def _interval(self) -> float:
        """What the source last asked for (AppConfig's NextPollIntervalInSeconds), else ours."""
        asked = getattr(self.source, "next_poll_interval", None)
        return float(asked) if asked else self._poll_interval

    def _retry_delay(self, at_least: float = 0.0) -> float:
        backoff = Backoff(cap=max(self._poll_interval, 30.0))
        return backoff.delay(self._failures, at_least=at_least)

    def _fetch(self, timeout: float | None = None) -> Snapshot | None:
        """The source's answer (within `timeout` seconds, for a `BoundedSource`); notes when
        the source takes its next poll: AppConfig's `next_poll_interval` after it answers."""
        source = self.source
        try:
            if timeout is not None and isinstance(source, BoundedSource):
                snapshot = source.fetch(timeout=timeout)
            else:
                snapshot = source.fetch()
        except SourceError as exc:
            if exc.retry_after:
                self._next_poll_at = max(self._next_poll_at, time.monotonic() + exc.retry_after)
            raise
        except DocumentError:
            self._next_poll_at = time.monotonic() + self._pace()  # It answered, unreadably.
            raise
        self._next_poll_at = time.monotonic() + self._pace()
        return snapshot

    def _pace(self) -> float:
        """Seconds the source wants between polls (AppConfig's); 0 for the others."""
        return float(getattr(self.source, "next_poll_interval", 0) or 0)

    def _record_answer(self, *, confirmed: bool) -> None:
        """The source answered: with nothing new, or (`confirmed`) with the served document.

        Either way it is reachable again. A confirmation resolves a rejection; "nothing
        new" does not (the source will not send the rejected document again, and the
        served one stays older than the deployed one until the next deployment).
        """
        self._refreshes += 1
        unreachable, self._unreachable, resolved = self._unreachable, 0, None
        if confirmed:
            self._origin = self.source.description
            resolved, self._rejection = self._rejection, None
        if self._rejection is None:
            self._fresh_at = self._last_attempt
            self._failures, self._last_error = 0, None
        else:
            self._last_error = self._rejection.message  # The transport error is over.
        self._logged_error = None
        log_answering_again(
            self.source.description,
            self._served_version(),
            failed_attempts=unreachable,
            resolved=resolved,
            standing=self._rejection,
        )

    def _record_failure(self, exc: Exception, version: str | None) -> None:
        self._failures += 1
        self._failed_refreshes += 1
        self._last_error = str(exc)
        if isinstance(exc, DocumentError):
            self._rejection = Rejection.of(exc, version)
        elif isinstance(exc, SourceError):
            self._unreachable += 1

    def _log_failure(self, exc: FlagkitError) -> None:
        """Log a refresh failure nobody else will see, once until a different one happens."""
        message = str(exc)
        if message == self._logged_error:
            return
        self._logged_error = message
        if isinstance(exc, DocumentError):
            rejection = self._rejection or Rejection.of(exc, None)
            log_rejection(self.source.description, rejection, self._served_version())
        else:
            _logger().warning(
                "flagkit: refresh from %s failed: %s", self.source.description, message
            )


def _logger() -> logging.Logger:
    return logging.getLogger(LOGGER_NAME)
