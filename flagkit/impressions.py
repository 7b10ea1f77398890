"""Impressions: who saw which answer, delivered to callbacks off the caller's thread.

An `Impression` is made on the reading thread (a few attribute reads) and offered to a
bounded queue; one worker thread, started with the first callback, hands each impression
to every callback in turn. The reading thread never waits: when the queue is full the
impression is dropped and counted. A callback that raises is logged once (its first
failure, with the traceback) and counted every time; the others still get the impression.
`close(timeout)` lets the worker drain what is queued, for at most `timeout` seconds.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from flagkit.evaluation import Decider

if TYPE_CHECKING:
    import queue
from flagkit.flagset import Decision, FlagSet
from flagkit.model import Reason

__all__ = [
    "DEFAULT_QUEUE_SIZE",
    "Impression",
    "ImpressionCallback",
    "ImpressionDispatcher",
    "ImpressionStats",
    "with_impressions",
]

DEFAULT_QUEUE_SIZE = 10_000
"""Impressions waiting for the worker at most; beyond that they are dropped and counted."""


@dataclass(frozen=True, slots=True)
class Impression:
    """One answer served: flag, tenant id, variant, reason, deciding rule, document version
    and the evaluation time (seconds since the epoch, from the `Flags` clock)."""

    flag: str
    tenant: str | None
    variant: str | None
    reason: Reason
    rule: str | None
    version: str | None
    time: float
    requested: bool = True
    """Whether the flag asks for impressions (`"impressions": true`); callbacks subscribed
    for every flag also get the answers of flags that do not."""
    context: Any = None
    """The reading thread's OpenTelemetry context, when a callback asked for it
    (`trace_context=True`): what ties the impression to the caller's span."""


ImpressionCallback = Callable[[Impression], object]


@dataclass(frozen=True, slots=True)
class ImpressionStats:
    """Impressions delivered (to every callback), dropped (the queue was full) and
    callback failures (each raise counts once)."""

    delivered: int
    dropped: int
    failures: int


_STOP = object()


class ImpressionDispatcher:
    """A bounded queue and the one worker thread that empties it into the callbacks."""

    def __init__(self, *, queue_size: int = DEFAULT_QUEUE_SIZE, name: str = "flagkit") -> None:
        self._queue_size = queue_size
        self._queue: queue.Queue[object] | None = None  # made with the worker, on demand
        self._full: type[Exception]  # queue.Full, set with the queue
        # (callback, every flag, wants the caller's OpenTelemetry context)
        self._callbacks: list[tuple[ImpressionCallback, bool, bool]] = []
        self._reported: set[int] = set()  # ids of callbacks whose failure was logged
        self._lock = threading.Lock()
        self._worker: threading.Thread | None = None
        self._name = name
        self._closed = False
        self._delivered = 0
        self._dropped = 0
        self._failures = 0

    @property
    def wanted(self) -> Literal["none", "requested", "every"]:
        """Which flags' answers the callbacks want: readers make impressions only for those."""
        callbacks = self._callbacks
        if not callbacks:
            return "none"
        return "every" if any(every for _, every, _ in callbacks) else "requested"

    @property
    def context_capture(self) -> Callable[[], Any] | None:
        """What reads the caller's OpenTelemetry context, when a callback wants it."""
        if not any(wants for _, _, wants in self._callbacks):
            return None
        from opentelemetry.context import get_current

        return get_current

    def subscribe(
        self,
        callback: ImpressionCallback,
        *,
        every_flag: bool = False,
        trace_context: bool = False,
    ) -> Callable[[], None]:
        """Deliver impressions to `callback` (of every flag, or of the flags that ask for
        them; with the caller's OpenTelemetry context when `trace_context`); returns a
        function that unsubscribes it."""
        with self._lock:
            if self._closed:
                raise RuntimeError("these flags are closed: no impression will be delivered")
            self._callbacks = [*self._callbacks, (callback, every_flag, trace_context)]
            if self._worker is None:  # The queue and its worker, at the first callback.
                import queue

                self._queue = queue.Queue(maxsize=self._queue_size)
                self._full = queue.Full
                self._worker = threading.Thread(
                    target=self._deliver, name=f"{self._name} impressions", daemon=True
                )
                self._worker.start()

        def unsubscribe() -> None:
            with self._lock:
                self._callbacks = [entry for entry in self._callbacks if entry[0] is not callback]

        return unsubscribe

    def offer(self, impression: Impression) -> None:
        """Queue `impression` for the worker; never waits (a full queue drops and counts)."""
        assert self._queue is not None  # Readers offer only once a callback subscribed.
        try:
            self._queue.put_nowait(impression)
        except self._full:
            with self._lock:
                self._dropped += 1

    @property
    def stats(self) -> ImpressionStats:
        with self._lock:
            return ImpressionStats(self._delivered, self._dropped, self._failures)

    def close(self, timeout: float = 5.0) -> bool:
        """Stop taking callbacks and let the worker deliver what is queued, for at most
        `timeout` seconds. True when everything queued was delivered."""
        with self._lock:
            self._closed = True
            worker = self._worker
        if worker is None or self._queue is None:
            return True
        try:
            self._queue.put(_STOP, timeout=timeout)
        except self._full:
            return False
        worker.join(timeout)
        return not worker.is_alive()

    def _deliver(self) -> None:
        assert self._queue is not None
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            assert isinstance(item, Impression)
            for callback, every_flag, _ in self._callbacks:
                if not (every_flag or item.requested):
                    continue
                try:
                    callback(item)
                except Exception:
                    self._failed(callback)
            with self._lock:
                self._delivered += 1

    def _failed(self, callback: ImpressionCallback) -> None:
        with self._lock:
            self._failures += 1
            first = id(callback) not in self._reported
            self._reported.add(id(callback))
        if first:
            logging.getLogger("flagkit").exception(
                "flagkit: impression callback %r failed (logged once; later failures are "
                "counted in flags.impression_stats)",
                callback,
            )


def with_impressions(
    flagset: FlagSet, dispatcher: ImpressionDispatcher, clock: Callable[[], float]
) -> FlagSet:
    """`flagset` whose deciders also offer an impression of each answer, for the flags the
    callbacks want; `flagset` itself when they want none. Other flags keep their deciders."""
    wanted = dispatcher.wanted
    if wanted == "none":
        return flagset
    deciders = dict(flagset.deciders)
    capture = dispatcher.context_capture
    for key, flag in flagset.flags.items():
        if wanted == "every" or flag.impressions:
            deciders[key] = _impressing(
                key,
                deciders[key],
                dispatcher.offer,
                (flagset.version, clock, flag.impressions, capture),
            )
    return dataclasses.replace(flagset, deciders=deciders)


def _impressing(
    key: str,
    decide: Decider,
    offer: Callable[[Impression], None],
    made: tuple[str | None, Callable[[], float], bool, Callable[[], Any] | None],
) -> Decider:
    version, clock, requested, capture = made

    def decide_and_offer(tenant_id: str | None, tier: str | None, attributes: Any) -> Decision:
        decision = decide(tenant_id, tier, attributes)
        offer(
            Impression(
                key,
                tenant_id,
                decision.variant,
                decision.reason,
                decision.rule,
                version,
                clock(),
                requested,
                None if capture is None else capture(),
            )
        )
        return decision

    return decide_and_offer
