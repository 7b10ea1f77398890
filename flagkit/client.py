"""`Flags`: the object applications hold. Loads a source, serves answers, swaps documents whole."""

from __future__ import annotations

import os
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Mapping
from functools import partial

from flagkit._frozen import Frozen
from flagkit.compiler import compile_document
from flagkit.document import DEFAULT_MAX_DOCUMENT_BYTES, changed_flags, load_document
from flagkit.errors import ConfigurationError, DocumentError, FlagkitError, SourceError
from flagkit.evaluation import _error as evaluation_error
from flagkit.evaluation import evaluate, tenant_parts
from flagkit.flagset import USE_DEFAULT, FlagSet
from flagkit.model import EMPTY_ATTRIBUTES, ErrorCode, Evaluation, Tenant
from flagkit.sources.file import FileSource
from flagkit.sources.memory import MemorySource

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing: see flagkit._frozen
if TYPE_CHECKING:
    import logging
    from types import TracebackType
    from typing import Any, Literal, TypeAlias

    from flagkit.refresh import RefreshThread
    from flagkit.sources.base import Source
    from flagkit.sources.snapshot import Snapshot

__all__ = ["ChangeCallback", "Flags", "FlagsStatus", "RefreshMode", "StatusCallback"]

LOGGER_NAME = "flagkit"

ChangeCallback = Callable[[str | None, str | None, frozenset[str]], None]
"""Called as `callback(old_version, new_version, changed_flag_keys)` after a new document is in.

Callbacks run one at a time, in the order of the swaps (each call's `old_version` is
the previous call's `new_version`), never under a lock that readers or `refresh()` wait for.
"""

StatusCallback = Callable[["FlagsStatus"], None]
"""Called as `callback(status)` after every refresh attempt: a swap, "unchanged" or a failure."""

_LAST_ATTEMPT = 0.25
"""At start-up, the least time (seconds) worth a last attempt before `startup_timeout` ends."""


if TYPE_CHECKING:
    RefreshMode: TypeAlias = Literal["thread", "on_read", "manual"]
    """`thread`: a background thread polls; `on_read`: a read that finds the document older
    than the poll interval fetches once (AWS Lambda); `manual`: only `refresh()` fetches."""
else:

    def __getattr__(name: str) -> object:
        """`RefreshMode` on first use: `import flagkit` need not load typing."""
        if name == "RefreshMode":
            from typing import Literal

            return Literal["thread", "on_read", "manual"]
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return sorted({*globals(), "RefreshMode"})


class FlagsStatus(Frozen):
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


class Flags:
    """Feature flags for one document source.

    ```
    flags = Flags.from_file("flags.json")
    if flags.enabled("featureA", tenant):
        ...
    ```

    Reading never locks and never raises on data: the current document is one
    immutable `FlagSet`, replaced whole by `refresh()` only after the new
    document passed every check.
    """

    def __new__(cls, source: Source, **options: Any) -> Flags:
        """`Flags(source, refresh_mode="on_read")` makes the subclass whose reads refresh."""
        if cls is Flags and options.get("refresh_mode") == "on_read":
            cls = _ReadRefreshingFlags
        return object.__new__(cls)

    def __init__(
        self,
        source: Source,
        *,
        refresh_mode: RefreshMode = "manual",
        poll_interval: float = 60.0,
        backup_path: str | os.PathLike[str] | None = None,
        fallback: str | os.PathLike[str] | Mapping[str, Any] | None = None,
        startup_timeout: float = 0.0,
    ) -> None:
        """Load `source`, or else the backup, or else the fallback; then start refreshing.

        Retryable source errors are retried for `startup_timeout` seconds first; a
        source that can bound its requests (`BoundedSource`) is held to that time even
        when it hangs. With no document from any of them this raises `SourceError` (or
        the `DocumentError` of the source's document).
        """
        if refresh_mode not in ("thread", "on_read", "manual"):
            raise ConfigurationError(
                f"refresh_mode must be 'thread', 'on_read' or 'manual', got {refresh_mode!r}"
            )
        self._source = source
        self._poll_interval = poll_interval
        self._backup_path = None if backup_path is None else os.fspath(backup_path)
        self._refresh_lock = threading.Lock()  # one fetch at a time
        self._swap_lock = threading.Lock()  # held only to install a document; close() takes it
        self._notify_lock = threading.Lock()  # held by whoever runs the callbacks
        self._notifier: int | None = None  # the thread that holds _notify_lock
        self._pending: deque[tuple[FlagSet, FlagSet]] = deque()  # swaps not yet announced
        self._closed = threading.Event()
        self._callbacks: list[ChangeCallback] = []
        self._status_callbacks: list[StatusCallback] = []
        self._refreshes = self._failed_refreshes = 0
        self._last_error: str | None = None
        self._last_error_is_document = False
        self._failed_version: str | None = None
        self._logged_error: str | None = None
        self._failures = 0
        self._last_attempt = time.time()
        self._origin = source.description
        flagset, as_of = self._load_initial(fallback, startup_timeout)
        self._install(flagset)
        self._loaded_at = self._fresh_at = self._last_attempt
        if as_of is not None:  # A backup: as old as when it was saved.
            self._fresh_at = min(as_of, self._fresh_at)
        self._refresher: RefreshThread | None = None
        _live_flags.add(self)  # fresh locks in a forked child, whatever the mode
        if refresh_mode == "thread":
            from flagkit.refresh import RefreshThread

            first = self._retry_delay() if self._failures else self._interval()
            self._refresher = RefreshThread(
                self._poll_once, name=f"flagkit-refresh {source.description}", first_delay=first
            )
            self._refresher.start()

    # -- construction -----------------------------------------------------------------------

    @classmethod
    def from_file(
        cls, path: str | os.PathLike[str], *, max_document_bytes: int = DEFAULT_MAX_DOCUMENT_BYTES
    ) -> Flags:
        """Flags from a local JSON document; `refresh()` re-reads the file."""
        return cls(FileSource(path, max_bytes=max_document_bytes))

    @classmethod
    def from_appconfig(
        cls,
        application: str,
        environment: str,
        profile: str,
        *,
        poll_interval: float = 60,
        client: Any = None,
        session: Any = None,
        fallback: str | os.PathLike[str] | Mapping[str, Any] | None = None,
        backup_path: str | os.PathLike[str] | None = None,
        refresh_mode: RefreshMode = "thread",
        startup_timeout: float = 0.0,
        request_timeout: float = 10.0,
    ) -> Flags:
        """Flags deployed with AWS AppConfig, read through the AppConfig Data API.

        `client` is any boto3 `appconfigdata` client; otherwise one is made from
        `session` or boto3's defaults (install `flagkit[aws]`). `poll_interval`
        (15 s at least) is the session's required minimum; AppConfig's own
        `NextPollIntervalInSeconds` paces the polls.

        The client flagkit makes sends each request once (flagkit retries with its
        own backoff) and gives up on it after `request_timeout` seconds, and within
        `startup_timeout` at start. A `client` you pass keeps its own timeouts and
        retries: flagkit cannot shorten a request it has sent.
        """
        from flagkit.sources.appconfig import AppConfigSource

        if not request_timeout > 0:
            raise ConfigurationError(f"request_timeout must be positive, got {request_timeout}")
        source = AppConfigSource(
            application,
            environment,
            profile,
            poll_interval=poll_interval,
            client=client,
            session=session,
            timeout=request_timeout,
        )
        return cls._polled(
            source, poll_interval, refresh_mode, backup_path, fallback, startup_timeout
        )

    @classmethod
    def from_agent(
        cls,
        application: str,
        environment: str,
        profile: str,
        *,
        base_url: str = "http://localhost:2772",
        poll_interval: float = 15,
        token: str | None = None,
        fallback: str | os.PathLike[str] | Mapping[str, Any] | None = None,
        backup_path: str | os.PathLike[str] | None = None,
        refresh_mode: RefreshMode = "thread",
        startup_timeout: float = 30.0,
        request_timeout: float = 5.0,
    ) -> Flags:
        """Flags served by the AWS AppConfig Agent (sidecar or Lambda extension) at `base_url`.

        The agent starts after the application on ECS and EKS, so a refused
        connection is retried for `startup_timeout` seconds before the backup, the
        fallback, or a `SourceError`. Each request gives up after `request_timeout`
        seconds without an answer (sooner when `startup_timeout` ends first).
        """
        from flagkit.sources.agent import AgentSource

        if poll_interval <= 0:
            raise ConfigurationError(f"poll_interval must be positive, got {poll_interval}")
        if not request_timeout > 0:
            raise ConfigurationError(f"request_timeout must be positive, got {request_timeout}")
        source = AgentSource(
            application,
            environment,
            profile,
            base_url=base_url,
            token=token,
            timeout=request_timeout,
        )
        return cls._polled(
            source, poll_interval, refresh_mode, backup_path, fallback, startup_timeout
        )

    @classmethod
    def _polled(
        cls,
        source: Source,
        poll_interval: float,
        refresh_mode: RefreshMode,
        backup_path: str | os.PathLike[str] | None,
        fallback: str | os.PathLike[str] | Mapping[str, Any] | None,
        startup_timeout: float,
    ) -> Flags:
        return cls(
            source,
            refresh_mode=refresh_mode,
            poll_interval=poll_interval,
            backup_path=backup_path,
            fallback=fallback,
            startup_timeout=startup_timeout,
        )

    @classmethod
    def from_dict(cls, document: Mapping[str, Any], *, version: str | None = None) -> Flags:
        """Flags from a document already in memory (tests, bootstrapping, generated documents)."""
        return cls(MemorySource(document, version=version))

    # -- reading ----------------------------------------------------------------------------

    def enabled(self, flag: str, tenant: object, default: bool = False) -> bool:
        """Whether `flag` is on for `tenant`; `default` on any error (unknown flag, bad tenant).

        `tenant` is a tenant id, a `Tenant`, a mapping with `id` (or `tenant` or
        `targetingKey`) and optional `tier`, or any object with `.id` and optional `.tier`.
        """
        try:
            decider = self._deciders[flag]
        except (KeyError, TypeError):  # TypeError: an unhashable key (a list, a dict)
            return default
        if tenant.__class__ is str:
            on = decider(tenant, None, EMPTY_ATTRIBUTES).on
        elif tenant.__class__ is Tenant and tenant._problem is None:
            # Tenant.__init__ made `attributes` a mapping and found no problem with the fields.
            on = decider(tenant.id, tenant.tier, tenant.attributes).on
        else:
            parts = tenant_parts(tenant)
            if isinstance(parts, str):  # A malformed tenant: only the kill switch still answers.
                compiled = self._flagset.flags.get(flag)  # None if a swap just removed it
                return False if compiled is not None and not compiled.enabled else default
            on = decider(*parts).on
        return default if on is None else on

    def evaluate(self, flag: str, tenant: object, default: Any = None) -> Evaluation:
        """Everything about one evaluation: value, variant, reason, deciding rule, error.

        An unknown flag, or a key that is no flag key at all (an unhashable list or
        dict), gets `FLAG_NOT_FOUND` and the caller's `default`.
        """
        flagset = self._flagset
        try:
            return evaluate(flagset, flag, tenant, default)
        except TypeError:
            try:
                hash(flag)
            except TypeError:  # The flag lookup itself failed: no flag has this key.
                message = f"no flag {flag!r}: a flag key is a str, not {type(flag).__name__}"
                return evaluation_error(flagset, flag, default, ErrorCode.FLAG_NOT_FOUND, message)
            raise

    def value(self, flag: str, tenant: object, default: Any = None) -> Any:
        """The served value: a variant's value for variant flags, True/False for boolean ones.

        `default` for an unknown flag or a bad tenant (`evaluate()` says why).
        """
        try:
            decider = self._flagset.deciders.get(flag)
        except TypeError:  # an unhashable key (a list, a dict): no such flag
            return default
        if decider is None:
            return default
        parts = tenant_parts(tenant)
        if isinstance(parts, str):
            return self.evaluate(flag, tenant, default).value
        served = decider(*parts).value
        return default if served is USE_DEFAULT else served

    def enabled_flags(self, tenant: object) -> list[str]:
        """The keys of every flag that is on for `tenant`, in document order."""
        parts = tenant_parts(tenant)
        if isinstance(parts, str):
            return []
        return [key for key, decider in self._flagset.deciders.items() if decider(*parts).on]

    @property
    def flagset(self) -> FlagSet:
        """The compiled document being served now."""
        return self._flagset

    @property
    def version(self) -> str | None:
        """The version label of the document being served."""
        return self._flagset.version

    @property
    def keys(self) -> tuple[str, ...]:
        """Every flag key of the document being served, in document order."""
        return self._flagset.keys

    @property
    def status(self) -> FlagsStatus:
        """Source, origin, version and freshness of the served document, and the last error."""
        now = time.time()
        return FlagsStatus(
            source=self._source.description,
            origin=self._origin,
            version=self._flagset.version,
            loaded_at=self._loaded_at,
            last_attempt=self._last_attempt,
            last_error=self._last_error,
            consecutive_failures=self._failures,
            stale_for=(now - self._fresh_at) if self._failures else 0.0,
            confirmed_at=self._fresh_at,
            refreshes=self._refreshes,
            failed_refreshes=self._failed_refreshes,
        )

    def evaluate_all(self, tenant: object, default: Any = None) -> list[Evaluation]:
        """`evaluate()` of every flag for `tenant`, in document order, all from one document.

        A swap while this runs does not mix two documents into one answer.
        """
        flagset = self._flagset
        return [evaluate(flagset, key, tenant, default) for key in flagset.keys]

    # -- changing ---------------------------------------------------------------------------

    def refresh(self) -> bool:
        """Fetch the source again; swap in its document if it changed. True when it did.

        A document that fails its checks raises `DocumentError` (and a source that
        cannot be reached `SourceError`); the document served before stays served.
        After `close()` this fetches nothing and returns False. The `on_change`
        callbacks have run when this returns, unless another thread is running them
        (for an earlier swap): that thread then runs them for this swap too, in order.
        The `on_status` callbacks run after every attempt, whatever its outcome.
        """
        try:
            return self._fetch_and_swap()
        except FlagkitError:
            raise  # Recorded where it happened.
        except Exception as exc:  # A bug, not the source: still a failed attempt, reported.
            self._record_failure(exc, None)
            raise
        finally:
            if self._status_callbacks and not self._closed.is_set():
                self._report_status()

    def _fetch_and_swap(self) -> bool:
        with self._refresh_lock:
            if self._closed.is_set():
                return False
            self._last_attempt = time.time()
            version: str | None = None
            try:
                snapshot = self._source.fetch()
                if snapshot is not None:
                    version = snapshot.version
                if snapshot is None:  # "Unchanged since your last fetch"
                    self._refreshes += 1
                    self._record_contact()
                    return False
                if version is not None and version == self._flagset.version:
                    self._origin = self._source.description  # The source confirms it.
                    self._last_error_is_document = False
                    self._refreshes += 1
                    self._record_contact()
                    return False
                new = self._compile(snapshot.content, snapshot.version)
            except FlagkitError as exc:
                self._record_failure(exc, version)
                raise
            with self._swap_lock:
                if self._closed.is_set():
                    return False  # close() returned while this fetch was in flight: drop it.
                old = self._flagset
                self._install(new)
                self._refreshes += 1
                self._origin = self._source.description
                self._loaded_at = self._fresh_at = self._last_attempt
                self._failures, self._last_error, self._logged_error = 0, None, None
                self._pending.append((old, new))
            self._save_backup(new)
        self._announce()
        return True

    def on_change(self, callback: ChangeCallback) -> Callable[[], None]:
        """Call `callback(old_version, new_version, changed_keys)` after each swap.

        Callbacks run one at a time, in the order of the swaps, on the thread that
        made the swap (or one that made an earlier swap and is still announcing it).
        One that raises is logged; the others still run, and refreshing goes on.
        Returns a function that unsubscribes `callback`.
        """
        self._callbacks.append(callback)
        return partial(_discard, self._callbacks, callback)

    def on_status(self, callback: StatusCallback) -> Callable[[], None]:
        """Call `callback(flags.status)` after every refresh attempt, whatever its outcome.

        This is how to notice a source going down, or coming back with nothing new,
        as soon as it happens (`on_change` hears only of new documents). It runs on
        the refreshing thread, after any `on_change` callbacks of that refresh and
        outside every lock; attempts on two threads at once may report concurrently.
        One that raises is logged. Returns a function that unsubscribes `callback`.
        """
        self._status_callbacks.append(callback)
        return partial(_discard, self._status_callbacks, callback)

    def close(self) -> None:
        """Stop refreshing; reading keeps working, from the document served now.

        Once this returns, no document is swapped in and no `on_change` callback
        runs: a fetch still in flight is dropped when it ends (close() does not wait
        for it), a callback that is running is waited for (unless close() is called
        from it), and swaps not yet announced are not announced. `refresh()` does
        nothing afterwards. A source's own connections (the boto3 client flagkit made
        for AppConfig) are closed.
        """
        with self._swap_lock:
            self._closed.set()
        if self._refresher is not None:
            self._refresher.stop()
        close_source = getattr(self._source, "close", None)
        if close_source is not None:
            close_source()  # flagkit's own boto3 client and its connections
        if self._notifier == threading.get_ident():
            self._pending.clear()  # Called from a callback: the loop announcing stops after it.
            return
        with self._notify_lock:  # Waits for a callback that is running now.
            self._pending.clear()

    def __enter__(self) -> Flags:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Flags {self._source.description} version={self.version!r} flags={len(self.keys)}>"

    # -- internals --------------------------------------------------------------------------

    def _load_initial(
        self,
        fallback: str | os.PathLike[str] | Mapping[str, Any] | None,
        startup_timeout: float,
    ) -> tuple[FlagSet, float | None]:
        """The source's document; else, once the source has had its chance, backup, fallback.

        With it, when the document is older than now, the time it was last known current.
        A source that can bound its requests is given only the start-up time left, so
        a hanging one cannot hold start-up past `startup_timeout`.
        """
        deadline = time.monotonic() + startup_timeout
        source = self._source
        bounded = None
        if startup_timeout > 0:
            from flagkit.sources.base import BoundedSource  # a Protocol: typing, so not at import

            bounded = source if isinstance(source, BoundedSource) else None
        last = min(_LAST_ATTEMPT, startup_timeout / 4)  # the time kept for a last attempt
        while True:
            self._last_attempt = time.time()
            try:
                snapshot: Snapshot | None
                if bounded is not None:
                    snapshot = bounded.fetch(timeout=deadline - time.monotonic())
                else:
                    snapshot = source.fetch()
                if snapshot is None:
                    raise SourceError(f"{self._source.description} delivered no document")
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
                self._record_failure(exc, None)
                primary = exc
            else:
                self._failures, self._last_error, self._last_error_is_document = 0, None, False
                self._refreshes += 1
                self._save_backup(flagset)
                return flagset, None
            break
        described = str(primary).startswith(self._source.description)
        reasons = [str(primary) if described else f"{self._source.description}: {primary}"]
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
                self._source.description,
            )
            return flagset, standby_snapshot.as_of
        if isinstance(primary, DocumentError) and len(reasons) == 1:
            raise primary
        raise SourceError("no flag document to start from:\n  " + "\n  ".join(reasons))

    def _standby_sources(
        self, fallback: str | os.PathLike[str] | Mapping[str, Any] | None
    ) -> list[tuple[str, Source]]:
        """(origin, source) of the backup and the fallback, in the order they are tried."""
        standby: list[tuple[str, Source]] = []
        if self._backup_path is not None:
            from flagkit.backup import BackupSource

            backup = BackupSource(self._backup_path)
            standby.append((backup.description, backup))
        if isinstance(fallback, Mapping):
            standby.append(("fallback:memory", MemorySource(fallback)))
        elif fallback is not None:
            source = FileSource(fallback)
            standby.append((f"fallback:{source.description}", source))
        return standby

    def _poll_once(self) -> float:
        """One refresh for the refresher; returns the seconds to wait before the next."""
        try:
            self.refresh()
        except SourceError as exc:
            self._log_failure(exc)
            return self._retry_delay(at_least=exc.retry_after or 0.0)
        except DocumentError as exc:
            self._log_failure(exc)
            return self._interval()  # The source will not resend it: wait for the next one.
        except Exception:  # A bug must not kill the thread: log it and back off.
            _logger().exception("flagkit: refreshing %s failed", self._source.description)
            return self._retry_delay()  # refresh() recorded the failure.
        return self._interval()

    def _reset_after_fork(self) -> None:
        """In a forked child: fresh locks (the parent's may have been held), a fresh source
        connection and session (a boto3 client and its tokens must not be shared)."""
        self._refresh_lock = threading.Lock()
        self._swap_lock = threading.Lock()
        self._notify_lock = threading.Lock()
        self._notifier = None
        reset = getattr(self._source, "reset_after_fork", None)
        if reset is not None:
            reset()

    def _log_failure(self, exc: FlagkitError) -> None:
        """Log a refresh failure nobody else will see, once until a different one happens."""
        message = str(exc)
        if message == self._logged_error:
            return
        self._logged_error = message
        if isinstance(exc, DocumentError):
            _logger().warning(
                "flagkit: rejected flag document version %s from %s; still serving version %s:\n%s",
                self._failed_version,
                self._source.description,
                self._flagset.version,
                message,
            )
        else:
            _logger().warning(
                "flagkit: refresh from %s failed: %s", self._source.description, message
            )

    def _interval(self) -> float:
        """What the source last asked for (AppConfig's NextPollIntervalInSeconds), else ours."""
        asked = getattr(self._source, "next_poll_interval", None)
        return float(asked) if asked else self._poll_interval

    def _retry_delay(self, at_least: float = 0.0) -> float:
        from flagkit.refresh import Backoff

        return Backoff(cap=max(self._poll_interval, 30.0)).delay(self._failures, at_least=at_least)

    def _record_contact(self) -> None:
        """The source answered and has nothing new: the served document is current.

        A rejected document stays reported: the source will not send it again, and
        the served document is older than the deployed one until the next deployment.
        """
        if self._last_error_is_document:
            return  # The source holds a newer document than the one served: still stale.
        self._fresh_at = self._last_attempt
        self._failures, self._last_error, self._logged_error = 0, None, None

    def _record_failure(self, exc: Exception, version: str | None) -> None:
        self._failures += 1
        self._failed_refreshes += 1
        self._last_error = str(exc)
        self._last_error_is_document = isinstance(exc, DocumentError)
        self._failed_version = version

    def _save_backup(self, flagset: FlagSet) -> None:
        if self._backup_path is None:
            return
        from flagkit.backup import save_backup

        try:
            save_backup(
                self._backup_path,
                flagset.document,
                source=self._source.description,
                version=flagset.version,
            )
        except OSError as exc:
            _logger().warning("flagkit: cannot write the backup %s: %s", self._backup_path, exc)

    def _compile(self, content: bytes, version: str | None) -> FlagSet:
        try:
            checked = load_document(content)
        except DocumentError as exc:
            exc.source = self._source.description
            raise
        for warning in checked.warnings:
            _logger().warning(
                "flag document %s (%s): %s", version, self._source.description, warning
            )
        return compile_document(checked, version=version)

    def _install(self, flagset: FlagSet) -> None:
        """Serve `flagset` from now on. Readers use one attribute or the other, never both,
        so every answer comes from one whole document."""
        self._flagset = flagset
        self._deciders = flagset.deciders

    def _report_status(self) -> None:
        status = self.status
        for callback in list(self._status_callbacks):
            try:
                callback(status)
            except Exception:
                _logger().exception("flagkit on_status callback %r failed", callback)

    def _announce(self) -> None:
        """Run the callbacks for every swap not yet announced, oldest first, one at a time.

        Whoever finds `_notify_lock` free announces; a thread that swapped while
        another one announces leaves its swap queued for that one, so it never waits
        on a slow callback, and no callback sees the versions out of order.
        """
        while self._pending and not self._closed.is_set():
            if not self._notify_lock.acquire(blocking=False):
                return  # The announcing thread will find this swap after its current one.
            self._notifier = threading.get_ident()
            try:
                while self._pending:
                    old, new = self._pending.popleft()
                    changed = changed_flags(old.document, new.document)
                    for callback in list(self._callbacks):
                        if self._closed.is_set():
                            return
                        try:
                            callback(old.version, new.version, changed)
                        except Exception:
                            _logger().exception("flagkit on_change callback %r failed", callback)
            finally:
                self._notifier = None
                self._notify_lock.release()
            # A swap queued after the inner loop ended, while the lock was still held, finds
            # the lock free or is seen by the loop test above: it is never left unannounced.


def _discard(callbacks: list[Any], callback: object) -> None:
    """Unsubscribe `callback` (a no-op when it already was)."""
    if callback in callbacks:
        callbacks.remove(callback)


def _logger() -> logging.Logger:
    """The `flagkit` logger, imported on first use: most processes never log from here."""
    import logging

    return logging.getLogger(LOGGER_NAME)


_live_flags: weakref.WeakSet[Flags] = weakref.WeakSet()
"""Every `Flags` made: a forked child gives each fresh locks and a fresh source session."""


def _reset_live_flags_in_child() -> None:
    # Registered before flagkit.refresh's handler, so locks are fresh before threads restart.
    for flags in list(_live_flags):
        flags._reset_after_fork()


os.register_at_fork(after_in_child=_reset_live_flags_in_child)


class _ReadRefreshingFlags(Flags):
    """`refresh_mode="on_read"`: no thread; a read that finds the document due fetches once.

    For AWS Lambda, where a background thread is frozen between invocations. Only
    one reader fetches at a time; the others keep answering from the current
    document.
    """

    def __init__(self, source: Source, **options: Any) -> None:
        super().__init__(source, **options)
        self._reader_lock = threading.Lock()
        self._due = time.monotonic() + (self._retry_delay() if self._failures else self._interval())

    def _reset_after_fork(self) -> None:
        super()._reset_after_fork()
        self._reader_lock = threading.Lock()

    def close(self) -> None:
        super().close()
        self._due = float("inf")  # Reads never fetch again.

    def _catch_up(self) -> None:
        if not self._reader_lock.acquire(blocking=False):
            return  # Another reader is fetching; answer from the current document.
        try:
            if time.monotonic() >= self._due:
                wait = self._poll_once()
                self._due = float("inf") if self._closed.is_set() else time.monotonic() + wait
        finally:
            self._reader_lock.release()

    def enabled(self, flag: str, tenant: object, default: bool = False) -> bool:
        if time.monotonic() >= self._due:
            self._catch_up()
        return super().enabled(flag, tenant, default)

    def evaluate(self, flag: str, tenant: object, default: Any = None) -> Evaluation:
        if time.monotonic() >= self._due:
            self._catch_up()
        return super().evaluate(flag, tenant, default)

    def value(self, flag: str, tenant: object, default: Any = None) -> Any:
        if time.monotonic() >= self._due:
            self._catch_up()
        return super().value(flag, tenant, default)

    def enabled_flags(self, tenant: object) -> list[str]:
        if time.monotonic() >= self._due:
            self._catch_up()
        return super().enabled_flags(tenant)

    def evaluate_all(self, tenant: object, default: Any = None) -> list[Evaluation]:
        if time.monotonic() >= self._due:
            self._catch_up()
        return super().evaluate_all(tenant, default)
