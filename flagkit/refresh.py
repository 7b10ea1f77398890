"""Keeping a `Flags` current: a background thread, fork awareness, and backoff.

The thread starts when its `Flags` is made (never at import), sleeps on an
`Event` so `close()` stops it at once (a poll in flight is not waited for: it
ends on its own and the `Flags` drops what it fetched), and is started afresh in a child process
after `fork()` (gunicorn, uvicorn workers, Celery), where threads do not survive.
On failure it backs off exponentially with full jitter, capped, and the `Flags`
keeps serving its last good document.
"""

from __future__ import annotations

import os
import random
import threading
import weakref
from collections.abc import Callable

from flagkit._frozen import Frozen

__all__ = ["Backoff", "RefreshThread"]


class Backoff(Frozen):
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


_restart_after_fork: weakref.WeakSet[RefreshThread] = weakref.WeakSet()


def _restart_refreshers_in_child() -> None:
    for refresher in list(_restart_after_fork):
        refresher._after_fork_in_child()


os.register_at_fork(after_in_child=_restart_refreshers_in_child)
