"""`Flags`: the object applications hold. Answers from the document served now; a refresher
(`flagkit.refresh`) replaces that document whole, and a scheduler decides when."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any, Literal, Self, TypeAlias

from flagkit.announcer import LOGGER_NAME, ChangeAnnouncer, ChangeCallback
from flagkit.document import DEFAULT_MAX_DOCUMENT_BYTES
from flagkit.errors import ConfigurationError
from flagkit.evaluation import decision_for, evaluate, evaluate_all, tenant_parts
from flagkit.flagset import USE_DEFAULT, FlagSet
from flagkit.impressions import (
    ImpressionCallback,
    ImpressionDispatcher,
    ImpressionStats,
    with_impressions,
)
from flagkit.model import EMPTY_ATTRIBUTES, Evaluation, Tenant
from flagkit.overrides import OverridesLayer, OverridesSpec
from flagkit.refresh import Fallback, FlagsStatus, Refresher, StatusCallback
from flagkit.schedulers import ReadScheduler, RefreshThread
from flagkit.sources.agent import DEFAULT_AGENT_URL
from flagkit.sources.base import Source
from flagkit.sources.file import FileSource
from flagkit.sources.memory import MemorySource
from flagkit.usage import Usage, UsageLedger

__all__ = [
    "LOGGER_NAME",
    "ChangeCallback",
    "Flags",
    "FlagsStatus",
    "RefreshMode",
    "StatusCallback",
]

RefreshMode: TypeAlias = Literal["thread", "on_read", "manual"]
"""`thread`: a background thread polls; `on_read`: a read that finds the document older
than the poll interval fetches once (AWS Lambda; a read on an asyncio event loop answers at
once and fetches on a thread of its own); `manual`: only `refresh()` fetches."""

_READS = ("enabled", "evaluate", "value", "enabled_flags", "evaluate_all")
"""The methods that catch up first under `refresh_mode="on_read"`."""


class Flags:
    """Feature flags for one document source.

    ```
    flags = Flags.from_file("flags.json")
    if flags.enabled("featureA", tenant):
        ...
    ```

    Reading never locks and never raises on data: the current document is one
    immutable `FlagSet`, replaced whole only after a new document passed every check.
    """

    # About 470 lines, over the house's 300: two thirds are the signatures and docstrings
    # of the public constructors, reads and subscriptions. What the facade does itself is
    # `__init__` (pick a scheduler), the hot path, `_install` and `close`; the rest is
    # delegated (refresh, overrides, usage, impressions). Next to split: the five
    # constructors' shared keyword arguments.

    def __init__(
        self,
        source: Source,
        *,
        refresh_mode: RefreshMode = "manual",
        poll_interval: float = 60.0,
        backup_path: str | os.PathLike[str] | None = None,
        fallback: Fallback = None,
        startup_timeout: float = 0.0,
        clock: Callable[[], float] = time.time,
        overrides: OverridesSpec | None = None,
    ) -> None:
        """Load `source`, or else the backup, or else the fallback; then start refreshing.

        `clock` is the time that launch windows and conditions on `now` read, in seconds
        since the Unix epoch (`time.time` unless a test or a preview gives another).

        Retryable source errors are retried for `startup_timeout` seconds first; a
        source that can bound its requests (`BoundedSource`) is held to that time even
        when it hangs. With no document from any of them this raises `SourceError` (or
        the `DocumentError` of the source's document).

        `overrides` forces answers over every document served (docs/overrides.md): a
        file's path, re-read at each refresh when its content changed, or a mapping.
        A bad one raises `OverridesError` (a `DocumentError`) naming the file and the
        JSON path of each problem; on a refresh, the last good overrides stay.
        """
        if refresh_mode not in ("thread", "on_read", "manual"):
            raise ConfigurationError(
                f"refresh_mode must be 'thread', 'on_read' or 'manual', got {refresh_mode!r}"
            )
        layer = None if overrides is None else OverridesLayer.open(overrides)
        self._announcer = ChangeAnnouncer()
        self._usage = UsageLedger(clock)
        self._clock = clock
        self._install_lock = threading.RLock()  # a swap and new impression deciders, in turn
        self._impressions = ImpressionDispatcher(name=f"flagkit {source.description}")
        self._refresher = Refresher(
            source,
            install=self._install,
            announcer=self._announcer,
            poll_interval=poll_interval,
            backup_path=backup_path,
            scheduled=refresh_mode != "manual",
            clock=clock,
            overrides=layer,
        )
        self._refresher.start(fallback, startup_timeout)
        self._scheduler: RefreshThread | ReadScheduler | None = None
        polling_thread = f"flagkit-refresh {source.description}"
        if refresh_mode == "thread":
            self._scheduler = RefreshThread(
                self._refresher.poll_once,
                name=polling_thread,
                first_delay=self._refresher.first_delay(),
            )
            self._scheduler.start()
        elif refresh_mode == "on_read":
            reads = ReadScheduler(
                self._refresher.poll_once,
                first_delay=self._refresher.first_delay(),
                name=polling_thread,  # polls started by reads on an event loop run there
            )
            for name in _READS:  # This instance's reads (a subclass's included) catch up first.
                setattr(self, name, reads.reading(getattr(self, name)))
            self._scheduler = reads

    # -- construction -----------------------------------------------------------------------

    @classmethod
    def from_file(
        cls,
        path: str | os.PathLike[str],
        *,
        max_document_bytes: int = DEFAULT_MAX_DOCUMENT_BYTES,
        refresh_mode: RefreshMode = "manual",
        poll_interval: float = 5.0,
        clock: Callable[[], float] = time.time,
        overrides: OverridesSpec | None = None,
    ) -> Self:
        """Flags from a local JSON document.

        `refresh()` re-reads the file. With `refresh_mode="thread"` a background thread
        re-reads it every `poll_interval` seconds (`"on_read"`: a read that finds the
        document that old does), and a changed document that passes every check is
        swapped in; one that does not is logged, and the last good one keeps serving.
        """
        if poll_interval <= 0:
            raise ConfigurationError(f"poll_interval must be positive, got {poll_interval}")
        source = FileSource(path, max_bytes=max_document_bytes)
        return cls(
            source,
            refresh_mode=refresh_mode,
            poll_interval=poll_interval,
            clock=clock,
            overrides=overrides,
        )

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
        fallback: Fallback = None,
        backup_path: str | os.PathLike[str] | None = None,
        refresh_mode: RefreshMode = "thread",
        startup_timeout: float = 0.0,
        request_timeout: float = 10.0,
        max_document_bytes: int = DEFAULT_MAX_DOCUMENT_BYTES,
        clock: Callable[[], float] = time.time,
        overrides: OverridesSpec | None = None,
    ) -> Self:
        """Flags deployed with AWS AppConfig, read through the AppConfig Data API.

        `client` is any boto3 `appconfigdata` client; otherwise one is made from
        `session` or boto3's defaults (install `flagkit-engine[aws]`). `poll_interval`
        (15 s at least) is the session's required minimum; AppConfig's own
        `NextPollIntervalInSeconds` paces the polls.

        The client flagkit makes sends each request once (flagkit retries with its
        own backoff) and gives up on it after `request_timeout` seconds, and within
        `startup_timeout` at start. A `client` you pass keeps its own timeouts and
        retries: flagkit cannot shorten a request it has sent. A document larger than
        `max_document_bytes` is rejected (and the last good one keeps serving).
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
            max_bytes=max_document_bytes,
        )
        return cls(
            source,
            refresh_mode=refresh_mode,
            poll_interval=poll_interval,
            backup_path=backup_path,
            fallback=fallback,
            startup_timeout=startup_timeout,
            clock=clock,
            overrides=overrides,
        )

    @classmethod
    def from_agent(
        cls,
        application: str,
        environment: str,
        profile: str,
        *,
        base_url: str = DEFAULT_AGENT_URL,
        poll_interval: float = 15,
        token: str | None = None,
        fallback: Fallback = None,
        backup_path: str | os.PathLike[str] | None = None,
        refresh_mode: RefreshMode = "thread",
        startup_timeout: float = 30.0,
        request_timeout: float = 5.0,
        max_document_bytes: int = DEFAULT_MAX_DOCUMENT_BYTES,
        clock: Callable[[], float] = time.time,
        overrides: OverridesSpec | None = None,
    ) -> Self:
        """Flags served by the AWS AppConfig Agent (sidecar or Lambda extension) at `base_url`.

        The agent starts after the application on ECS and EKS, so a refused
        connection is retried for `startup_timeout` seconds before the backup, the
        fallback, or a `SourceError`. Each request gives up after `request_timeout`
        seconds without an answer (sooner when `startup_timeout` ends first). A document
        larger than `max_document_bytes` is rejected.
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
            max_bytes=max_document_bytes,
        )
        return cls(
            source,
            refresh_mode=refresh_mode,
            poll_interval=poll_interval,
            backup_path=backup_path,
            fallback=fallback,
            startup_timeout=startup_timeout,
            clock=clock,
            overrides=overrides,
        )

    @classmethod
    def from_dict(
        cls,
        document: Mapping[str, Any],
        *,
        version: str | None = None,
        max_document_bytes: int = DEFAULT_MAX_DOCUMENT_BYTES,
        clock: Callable[[], float] = time.time,
        overrides: OverridesSpec | None = None,
    ) -> Self:
        """Flags from a document already in memory (tests, bootstrapping, generated documents).

        Every constructor takes `clock`, the time launch windows and `now` read, and
        `overrides`, answers forced over the document (see `Flags`).
        """
        return cls(
            MemorySource(document, version=version, max_bytes=max_document_bytes),
            clock=clock,
            overrides=overrides,
        )

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
            decision = decider(tenant, None, EMPTY_ATTRIBUTES)
        elif tenant.__class__ is Tenant and tenant._problem is None:
            # Tenant.__init__ made `attributes` a mapping and found no problem with the fields.
            decision = decider(tenant.id, tenant.tier, tenant.attributes)
        else:
            answer = decision_for(self._flagset, flag, tenant)  # None if a swap removed it
            return default if answer is None or answer.on is None else answer.on
        next(decision.uses)  # Usage counts (flagkit.usage): atomic, and about 30 ns.
        on = decision.on
        return default if on is None else on

    def evaluate(self, flag: str, tenant: object, default: Any = None) -> Evaluation:
        """Everything about one evaluation: value, variant, reason, deciding rule, error.

        An unknown flag, or a key that is no flag key at all (an unhashable list or
        dict), gets `FLAG_NOT_FOUND` and the caller's `default`.
        """
        return evaluate(self._flagset, flag, tenant, default)

    def value(self, flag: str, tenant: object, default: Any = None) -> Any:
        """The served value: a variant's value for variant flags, True/False for boolean ones.

        `default` for an unknown flag or a bad tenant (`evaluate()` says why).
        """
        decision = decision_for(self._flagset, flag, tenant)
        if decision is None or decision.value is USE_DEFAULT:
            return default
        return decision.value

    def enabled_flags(self, tenant: object) -> list[str]:
        """The keys of every flag that is on for `tenant`, in document order."""
        parts = tenant_parts(tenant)
        if isinstance(parts, str):
            return []  # A malformed tenant: every flag that needs one errs, and the rest are off.
        keys = []
        for key, decider in self._flagset.deciders.items():
            decision = decider(*parts)
            next(decision.uses)
            if decision.on:
                keys.append(key)
        return keys

    def evaluate_all(self, tenant: object, default: Any = None) -> list[Evaluation]:
        """`evaluate()` of every flag for `tenant`, in document order, all from one document.

        A swap while this runs does not mix two documents into one answer.
        """
        return evaluate_all(self._flagset, tenant, default)

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

    def usage(self) -> Usage:
        """How often each flag served each variant, by reason, since the last call (or since
        these `Flags` were made): `Usage.unused` and `Usage.single_answer` are clean-up
        candidates. Every read counts (`enabled`, `evaluate`, `value`, `evaluate_all`,
        `enabled_flags`), across refreshes; answers forced by an override do not."""
        return self._usage.take(self._flagset)

    def on_evaluation(
        self,
        callback: ImpressionCallback,
        *,
        every_flag: bool = False,
        trace_context: bool = False,
    ) -> Callable[[], None]:
        """Call `callback(impression)` for each answer of a flag whose document says
        `"impressions": true` (of every flag with `every_flag=True`): flag, tenant id,
        variant, reason, rule, document version and time (`flagkit.impressions.Impression`).

        Never on the reading thread: impressions wait in a bounded queue for one worker
        thread. A full queue drops them, and a callback that raises is logged once; both
        are counted in `impression_stats`. `close()` lets the queue drain (up to 5 s).
        With `trace_context=True` each impression carries the reading thread's
        OpenTelemetry context (`flagkit.otel` uses it to tie events to spans).
        Returns a function that unsubscribes `callback`.
        """
        unsubscribe = self._impressions.subscribe(
            callback, every_flag=every_flag, trace_context=trace_context
        )
        self._redecorate()

        def stop() -> None:
            unsubscribe()
            self._redecorate()

        return stop

    @property
    def impression_stats(self) -> ImpressionStats:
        """Impressions delivered, dropped (the queue was full) and callback failures."""
        return self._impressions.stats

    @property
    def status(self) -> FlagsStatus:
        """Source, origin, version and freshness of the served document, and the last error."""
        return self._refresher.status

    # -- changing ---------------------------------------------------------------------------

    def refresh(self) -> bool:
        """Fetch the source again; swap in its document if it changed. True when it did.

        A document that fails its checks raises `DocumentError` (and a source that
        cannot be reached `SourceError`); the document served before stays served.

        With `refresh_mode="thread"` or `"on_read"`, refresh() shares the scheduler's
        polls, so it never sends AppConfig a poll AppConfig would refuse: while a poll
        is in flight it waits for that poll and returns True when that poll swapped a
        document in; before the source's next poll is due (AppConfig's poll interval
        since the last one) it fetches nothing and returns False. In both cases it
        raises nothing: `status` says how the last poll went (a rejected document
        included). With `refresh_mode="manual"` every call fetches.
        After `close()` this fetches nothing and returns False. The `on_change`
        callbacks have run when this returns, unless another thread is running them
        (for an earlier swap): that thread then runs them for this swap too, in order.
        The `on_status` callbacks run after every attempt, whatever its outcome.
        """
        return self._refresher.refresh()

    async def refresh_async(self) -> bool:
        """`refresh()` for asyncio programs: the same fetch, result and errors, off the loop.

        The fetch runs in a worker thread (`asyncio.to_thread`), so the event loop keeps
        serving while AppConfig answers or hangs. Cancelling the awaiting task does not
        stop a fetch under way: it completes in its thread and swaps its document in.
        """
        import asyncio

        return await asyncio.to_thread(self.refresh)

    def on_change(self, callback: ChangeCallback) -> Callable[[], None]:
        """Call `callback(old_version, new_version, changed_keys)` after each swap.

        Callbacks run one at a time, in the order of the swaps, on the thread that
        made the swap (or one that made an earlier swap and is still announcing it).
        One that raises is logged; the others still run, and refreshing goes on.
        Returns a function that unsubscribes `callback`.
        """
        return self._announcer.subscribe(callback)

    def on_status(self, callback: StatusCallback) -> Callable[[], None]:
        """Call `callback(flags.status)` after every refresh attempt, whatever its outcome.

        This is how to notice a source going down, or coming back with nothing new,
        as soon as it happens (`on_change` hears only of new documents). It runs on
        the refreshing thread, after any `on_change` callbacks of that refresh and
        outside every lock; attempts on two threads at once may report concurrently.
        One that raises is logged. Returns a function that unsubscribes `callback`.
        """
        return self._refresher.on_status(callback)

    def close(self) -> None:
        """Stop refreshing; reading keeps working, from the document served now.

        Once this returns, no document is swapped in and no `on_change` callback
        runs: a fetch still in flight is dropped when it ends (close() does not wait
        for it), a callback that is running is waited for (unless close() is called
        from it), and swaps not yet announced are not announced. `refresh()` does
        nothing afterwards. A source's own connections (the boto3 client flagkit made
        for AppConfig) are closed. Impressions already queued are delivered first, for
        up to 5 seconds.
        """
        self._refresher.close()
        if self._scheduler is not None:
            self._scheduler.stop()
        self._refresher.close_source()
        self._announcer.close()
        self._impressions.close(timeout=5.0)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        source = self._refresher.source.description
        return f"<Flags {source} version={self.version!r} flags={len(self.keys)}>"

    def _install(self, flagset: FlagSet) -> None:
        """Serve `flagset` from now on (the refresher calls this). Readers use one attribute
        or the other, never both, so every answer comes from one whole document."""
        with self._install_lock:
            served = getattr(self, "_flagset", None)
            if served is not None and served.flags is not flagset.flags:
                # Its counts since the last usage() are kept. New overrides over the same
                # document (flagkit.overrides) keep its answers, and their counters, in place.
                self._usage.retire(served)
            self._undecorated = flagset
            flagset = with_impressions(flagset, self._impressions, self._clock)
            self._flagset = flagset
            self._deciders = flagset.deciders

    def _redecorate(self) -> None:
        """Serve the same document again, with deciders for the impressions now wanted."""
        with self._install_lock:
            undecorated = getattr(self, "_undecorated", None)
        if undecorated is not None:
            self._install(undecorated)
