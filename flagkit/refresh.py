"""The refresher: what keeps a `Flags` supplied with documents, and the status it reports.

A `Refresher` owns a `Flags`'s source and everything about fetching from it: the
start-up policy (the source, retried for `startup_timeout`; else the backup; else
the fallback), one fetch at a time, compiling and installing a new document whole,
writing the backup, backing off, and the `FlagsStatus` that says how fresh the
served document is (kept, with the log lines, by `flagkit.refresh_status`). `Flags`
reads never touch it: they read the document the refresher last installed.

A document is new when its bytes are: one under the served version label with other
content is compiled, and swapped in unless it is the served document written
differently. Who calls `poll_once()` is a scheduler's business (`flagkit.schedulers`):
a background thread, reads that find the document due, or nobody (`refresh()` only);
with a scheduler, `refresh()` shares its polls and sends none the source would refuse.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
import time
import weakref
from collections.abc import Callable, Mapping
from typing import Any

from flagkit.announcer import LOGGER_NAME, ChangeAnnouncer, unsubscriber
from flagkit.compiler import compile_document
from flagkit.document import changed_flags, load_document
from flagkit.errors import DocumentError, FlagkitError, SourceError
from flagkit.flagset import FlagSet
from flagkit.overrides import OverridesLayer
from flagkit.refresh_status import FlagsStatus, StatusCallback, StatusLedger, log_swap
from flagkit.schedulers import Backoff, reset_after_fork
from flagkit.sources.backup import BackupSource, save_backup
from flagkit.sources.base import BoundedSource, Source, max_document_bytes
from flagkit.sources.file import FileSource
from flagkit.sources.memory import MemorySource
from flagkit.sources.snapshot import Snapshot, content_version

__all__ = ["Fallback", "FlagsStatus", "Refresher", "StatusCallback"]

Fallback = str | os.PathLike[str] | Mapping[str, Any] | None
"""A document to start from when the source and the backup have none: a path or a mapping."""

_LAST_ATTEMPT = 0.25
"""At start-up, the least time (seconds) worth a last attempt before `startup_timeout` ends."""


class Refresher:
    """Fetches, checks and installs the documents of one source for one `Flags`.

    `install(flagset)` is how a new document reaches the readers; it is held weakly
    (a bound method of the `Flags`), so a refresher never keeps its `Flags` alive.
    What its attempts came to is kept and reported by its `StatusLedger`.
    """

    # About 320 lines, over the house's 300 on purpose: start-up, refresh() and the
    # scheduler's polls share two locks and the served document, and keeping them in one
    # class keeps the rules about who holds which lock, when, readable in one place.

    def __init__(
        self,
        source: Source,
        *,
        install: Callable[[FlagSet], None],
        announcer: ChangeAnnouncer,
        poll_interval: float,
        backup_path: str | os.PathLike[str] | None,
        scheduled: bool = False,
        clock: Callable[[], float] = time.time,
        overrides: OverridesLayer | None = None,
    ) -> None:
        self.source = source
        self.overrides = overrides  # compiled over every document installed
        self.clock = clock
        self.status_callbacks: list[StatusCallback] = []
        self._install = weakref.WeakMethod(install)
        self._announcer = announcer
        self._poll_interval = poll_interval
        self._backup_path = None if backup_path is None else os.fspath(backup_path)
        self._refresh_lock = threading.RLock()  # one fetch at a time
        self._swap_lock = threading.Lock()  # held only to install a document; close() takes it
        self._closed = threading.Event()
        self._served: FlagSet | None = None
        self._served_digest: str | None = None  # content_version of the served bytes
        self._scheduled = scheduled  # A scheduler polls: refresh() shares its polls.
        self._next_poll_at = 0.0  # time.monotonic() before which the source refuses a poll
        self._ledger = StatusLedger(source.description)
        reset_after_fork(self)

    # -- start-up ---------------------------------------------------------------------------

    def start(self, fallback: Fallback, startup_timeout: float) -> None:
        """Install the source's document; else, once the source has had its chance, the
        backup's, else the fallback's. Raises `SourceError` (or the `DocumentError` of the
        source's document) when none of them has one.

        A source that can bound its requests is given only the start-up time left, so
        a hanging one cannot hold start-up past `startup_timeout`.
        """
        origin, flagset, as_of, digest = self._first_document(fallback, startup_timeout)
        self._put(flagset)
        self._served_digest = digest
        self._ledger.started(origin, as_of)

    def first_delay(self) -> float:
        """Seconds from start-up to the first poll: sooner when start-up failed over."""
        return self._retry_delay() if self._ledger.failures else self._interval()

    def _first_document(
        self, fallback: Fallback, startup_timeout: float
    ) -> tuple[str, FlagSet, float | None, str]:
        """Where the document to start from comes from, the document, as of when (None:
        now), and the digest of its bytes."""
        deadline = time.monotonic() + startup_timeout
        source = self.source
        bounded = source if startup_timeout > 0 and isinstance(source, BoundedSource) else None
        last = min(_LAST_ATTEMPT, startup_timeout / 4)  # the time kept for a last attempt
        while True:
            self._ledger.attempting()
            version: str | None = None
            try:
                timeout = None if bounded is None else deadline - time.monotonic()
                snapshot = self._fetch(timeout)
                if snapshot is None:
                    raise SourceError(f"{source.description} delivered no document")
                version = snapshot.version
                flagset = self._compile(snapshot.content, snapshot.version)
            except SourceError as exc:
                self._ledger.failed(exc, None)
                remaining = deadline - time.monotonic()
                if exc.retryable and remaining > last:
                    # Wake early enough to leave a last attempt some time of its own.
                    self._closed.wait(min(self._retry_delay(), remaining - last))
                    continue
                primary: FlagkitError = exc
            except DocumentError as exc:
                self._ledger.failed(exc, version)
                primary = exc
            else:
                self._ledger.delivered()
                self._save_backup(flagset)
                return source.description, flagset, None, content_version(snapshot.content)
            break
        described = str(primary).startswith(source.description)
        reasons = [str(primary) if described else f"{source.description}: {primary}"]
        limit = max_document_bytes(self.source)
        for origin, standby in _standby_sources(self._backup_path, fallback, limit):
            try:
                standby_snapshot = standby.fetch()
                if standby_snapshot is None:
                    raise SourceError("delivered no document")
                flagset = self._compile(standby_snapshot.content, standby_snapshot.version)
            except FlagkitError as exc:
                reasons.append(f"{origin}: {exc}")
                continue
            _logger().warning(
                "flagkit: serving %s (version %s) until %s answers",
                origin,
                flagset.version,
                source.description,
            )
            digest = content_version(standby_snapshot.content)
            return origin, flagset, standby_snapshot.as_of, digest
        if isinstance(primary, DocumentError) and len(reasons) == 1:
            raise primary
        raise SourceError("no flag document to start from:\n  " + "\n  ".join(reasons))

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
            self._ledger.log_failure(exc, self._served_version())
            return self._retry_delay(at_least=exc.retry_after or 0.0)
        except DocumentError as exc:
            self._ledger.log_failure(exc, self._served_version())
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
            self._ledger.failed(exc, None)
            raise
        finally:
            if self.status_callbacks and not self._closed.is_set():
                self._report_status()

    def _fetch_and_swap(self) -> bool:
        with self._refresh_lock:
            if self._closed.is_set():
                return False
            self._reload_overrides()  # First: an incident's overrides must not wait for the source.
            self._ledger.attempting()
            version: str | None = None
            try:
                snapshot = self._fetch()
                if snapshot is None:  # "Unchanged since your last fetch"
                    self._ledger.answered(self._served_version(), confirmed=False)
                    return False
                version, digest = snapshot.version, content_version(snapshot.content)
                served = self._served
                same_label = served is not None and version == served.version
                if same_label and digest == self._served_digest:
                    self._ledger.answered(version, confirmed=True)  # What is served: current.
                    return False
                new = self._compile(snapshot.content, snapshot.version)
                if same_label and served is not None and new.document == served.document:
                    self._served_digest = digest  # The same document, written differently.
                    self._ledger.answered(version, confirmed=True)
                    return False
            except FlagkitError as exc:
                self._ledger.failed(exc, version)
                raise
            # `_served` changes only under the refresh lock, held here: what changed is
            # worked out before the swap lock, which close() waits for.
            old = self._served
            changed = frozenset() if old is None else changed_flags(old.document, new.document)
            with self._swap_lock:
                if self._closed.is_set():
                    return False  # close() returned while this fetch was in flight: drop it.
                if not self._put(new):
                    return False  # The Flags is gone.
                self._served_digest = digest
                resolved, unreachable = self._ledger.delivered()
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
        status = self._ledger.status(self._served_version())
        if self.overrides is None:
            return status
        return dataclasses.replace(
            status,
            overrides=len(self.overrides.in_force),
            overrides_origin=self.overrides.origin,
            overrides_error=self.overrides.error,
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
        """Hand `flagset` (with the overrides compiled in) to the readers; False when the
        `Flags` no longer exists. `_served` stays the document's own flag set."""
        install = self._install()
        if install is None:
            return False
        install(flagset if self.overrides is None else self.overrides.apply(flagset))
        self._served = flagset
        return True

    def _reload_overrides(self) -> None:
        """Re-read the overrides file (under the refresh lock); serve the served document
        with the new overrides when they changed."""
        if self.overrides is None or not self.overrides.reload() or self._served is None:
            return
        with self._swap_lock:
            if not self._closed.is_set():
                self._put(self._served)
        _logger().info(
            "flagkit: overrides from %s now force %d flags: %s",
            self.overrides.origin,
            len(self.overrides.in_force),
            ", ".join(self.overrides.in_force) or "none",
        )

    def _served_version(self) -> str | None:
        return None if self._served is None else self._served.version

    def _compile(self, content: bytes, version: str | None) -> FlagSet:
        try:  # Both raise DocumentError only, whatever goes wrong (a bug included).
            checked = load_document(
                content, max_bytes=max_document_bytes(self.source), now=self.clock()
            )
            flagset = compile_document(checked, version=version, clock=self.clock)
        except DocumentError as exc:
            exc.source = self.source.description
            raise
        for warning in checked.warnings:
            _logger().warning(
                "flag document %s (%s): %s", version, self.source.description, warning
            )
        return flagset

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
        return self._pace() or self._poll_interval

    def _retry_delay(self, at_least: float = 0.0) -> float:
        backoff = Backoff(cap=max(self._poll_interval, 30.0))
        return backoff.delay(self._ledger.failures, at_least=at_least)

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


def _standby_sources(
    backup_path: str | None, fallback: Fallback, max_bytes: int
) -> list[tuple[str, Source]]:
    """(origin, source) of the backup and the fallback, in the order they are tried; a
    fallback file is held to `max_bytes`, the size limit of the source it stands in for."""
    standby: list[tuple[str, Source]] = []
    if backup_path is not None:
        backup = BackupSource(backup_path)
        standby.append((backup.description, backup))
    if isinstance(fallback, Mapping):
        standby.append(("fallback:memory", MemorySource(fallback)))
    elif fallback is not None:
        source = FileSource(fallback, max_bytes=max_bytes)
        standby.append((f"fallback:{source.description}", source))
    return standby


def _logger() -> logging.Logger:
    return logging.getLogger(LOGGER_NAME)
