"""When a `Flags` refreshes: a background thread, or reads that catch up; backoff; fork safety.

Both schedulers call a `poll()` that refreshes once and returns the seconds to wait
before the next call. The thread starts when its `Flags` is made (never at import),
sleeps on an `Event` so `close()` stops it at once (a poll in flight is not waited
for: it ends on its own and the refresher drops what it fetched), and is started
afresh in a child process after `fork()` (gunicorn, uvicorn workers, Celery), where
threads do not survive. On failure the refresher backs off exponentially, each delay
drawn from the upper half of its step (`Backoff`), capped, and keeps serving its last
good document. A read that finds a poll due on a thread running an asyncio event loop
does not poll there: it starts the poll on a thread of its own and answers at once.
"""

from __future__ import annotations

import functools
import os
import random
import sys
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

__all__ = ["Backoff", "ForkAware", "ReadScheduler", "RefreshThread", "reset_after_fork"]

_Read = TypeVar("_Read", bound=Callable[..., Any])


@dataclass(frozen=True, slots=True)
class Backoff:
    """Delay before retry number `failures` (1, 2, ...): `base * 2**(failures-1)`, capped, jittered.

    The jitter draws from [delay/2, delay], so a fleet of processes that failed
    together does not retry together.
    """

    base: float = 1.0
    cap: float = 300.0

    def delay(self, failures: int, *, at_least: float = 0.0) -> float:
        ceiling = min(self.cap, self.base * 2 ** max(failures - 1, 0))
        return max(at_least, random.uniform(ceiling / 2, ceiling))  # noqa: S311 - jitter, not secrecy


class RefreshThread:
    """Calls `poll()` on a daemon thread; `poll()` returns the seconds to wait before the next call.

    Holds its owner weakly through `poll`'s bound object, so an abandoned `Flags`
    is collected and its thread ends.
    """

    def __init__(self, poll: Callable[[], float], *, name: str, first_delay: float) -> None:
        self._poll = weakref.WeakMethod(poll)
        self._name = name
        self._first_delay = first_delay
        self._stop = threading.Event()
        self._state = threading.Lock()  # guards _polling against stop()
        self._polling = False
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()
        _restart_after_fork.add(self)

    def start(self) -> None:
        """Start the thread (again, in a forked child, where the parent's thread does not exist)."""
        self._pid = os.getpid()
        self._stop = threading.Event()
        self._state = threading.Lock()
        self._polling = False
        self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the thread; safe to call more than once.

        A thread between polls ends at once and is waited for (up to `timeout`
        seconds); one in the middle of a poll is not: it ends when the poll returns,
        and starts no other.
        """
        with self._state:
            self._stop.set()
            polling = self._polling
        _restart_after_fork.discard(self)
        thread = self._thread
        if not polling and thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive() and self._pid == os.getpid()

    def _run(self) -> None:
        delay = self._first_delay
        stop, state = self._stop, self._state
        while not stop.wait(delay):
            poll = self._poll()
            if poll is None:  # The Flags is gone.
                return
            with state:
                if stop.is_set():
                    return
                self._polling = True
            try:
                delay = poll()
            finally:
                self._polling = False
            del poll

    def _after_fork_in_child(self) -> None:
        if not self._stop.is_set():
            self.start()


class ReadScheduler:
    """`refresh_mode="on_read"`: no standing thread; a read that finds the document due polls once.

    For AWS Lambda, where a background thread is frozen between invocations: there a
    due read catches up first, then answers. A read on a thread that runs an asyncio
    event loop must not block it: it answers from the current document at once and
    the poll runs on a short-lived thread (`name`), so a later read sees what it
    fetched. Only one poll runs at a time; readers that find one under way answer
    from the current document.
    """

    def __init__(
        self, poll: Callable[[], float], *, first_delay: float, name: str = "flagkit-refresh"
    ) -> None:
        self._poll = poll
        self._name = name
        self._due = time.monotonic() + first_delay
        self._lock = threading.Lock()  # held while a poll runs, on whichever thread
        self._stopped = False
        reset_after_fork(self)

    def reading(self, read: _Read) -> _Read:
        """`read`, catching up first when a poll is due (in the background on an event loop)."""
        clock = time.monotonic

        @functools.wraps(read)
        def read_after_catching_up(*args: Any, **kwargs: Any) -> Any:
            if clock() >= self._due:  # The hot path pays for this test only.
                if _event_loop_running():
                    self.catch_up_in_background()
                else:
                    self.catch_up()
            return read(*args, **kwargs)

        return read_after_catching_up  # type: ignore[return-value]

    def catch_up(self) -> None:
        """Poll now, unless a poll is under way (then answer from the current document)."""
        if self._lock.acquire(blocking=False):
            self._poll_holding_the_lock()

    def catch_up_in_background(self) -> None:
        """Start a poll on a thread of its own and return at once, unless one is under way."""
        if not self._lock.acquire(blocking=False):
            return
        try:
            threading.Thread(
                target=self._poll_holding_the_lock, name=self._name, daemon=True
            ).start()
        except RuntimeError:  # No thread to be had (interpreter shutdown, a thread limit):
            self._lock.release()  # the read still answers; the next due read tries again.

    def _poll_holding_the_lock(self) -> None:
        try:
            if time.monotonic() >= self._due:
                wait = self._poll()
                self._due = float("inf") if self._stopped else time.monotonic() + wait
        finally:
            self._lock.release()

    def stop(self) -> None:
        """Reads never poll again."""
        self._stopped = True
        self._due = float("inf")

    def reset_after_fork(self) -> None:
        self._lock = threading.Lock()


def _event_loop_running() -> bool:
    """Whether this thread is running an asyncio event loop. A program that has not imported
    asyncio runs none, so this never imports it."""
    if "asyncio" not in sys.modules:
        return False
    import asyncio

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


class ForkAware(Protocol):
    """What `reset_after_fork` takes: an object with locks (or sessions) a child must not share."""

    def reset_after_fork(self) -> None: ...


_reset_in_child: weakref.WeakSet[ForkAware] = weakref.WeakSet()
_restart_after_fork: weakref.WeakSet[RefreshThread] = weakref.WeakSet()


def reset_after_fork(value: ForkAware) -> None:
    """Call `value.reset_after_fork()` in every child forked while `value` lives."""
    _reset_in_child.add(value)


def _after_fork_in_child() -> None:
    # Fresh locks and sessions first, so the restarted threads find them.
    for value in list(_reset_in_child):
        value.reset_after_fork()
    for refresher in list(_restart_after_fork):
        refresher._after_fork_in_child()


os.register_at_fork(after_in_child=_after_fork_in_child)
