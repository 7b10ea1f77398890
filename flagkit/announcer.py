"""`ChangeAnnouncer`: runs `on_change` callbacks for each document swap, in order, one at a time.

The refresher queues every swap while it holds its swap lock and announces after
releasing it, so readers and `refresh()` never wait for a callback. Whoever finds
the announcer free announces every queued swap, oldest first; a thread that swaps
while another announces leaves its swap queued for that one, so no thread waits on
a slow callback and no callback sees the versions out of order.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from functools import partial
from typing import Any

from flagkit.document import changed_flags
from flagkit.flagset import FlagSet

__all__ = ["LOGGER_NAME", "ChangeAnnouncer", "ChangeCallback", "unsubscriber"]

LOGGER_NAME = "flagkit"
"""The logger every part of the library logs to."""

ChangeCallback = Callable[[str | None, str | None, frozenset[str]], None]
"""Called as `callback(old_version, new_version, changed_flag_keys)` after a new document is in.

Callbacks run one at a time, in the order of the swaps (each call's `old_version` is
the previous call's `new_version`), never under a lock that readers or `refresh()` wait for.
"""


def unsubscriber(callbacks: list[Any], callback: object) -> Callable[[], None]:
    """A function that removes `callback` from `callbacks` (a no-op when already removed)."""
    return partial(_discard, callbacks, callback)


def _discard(callbacks: list[Any], callback: object) -> None:
    if callback in callbacks:
        callbacks.remove(callback)


class ChangeAnnouncer:
    """The ordered queue of swaps not yet announced, and the callbacks that hear of them."""

    def __init__(self) -> None:
        self.callbacks: list[ChangeCallback] = []
        self._pending: deque[tuple[FlagSet, FlagSet, frozenset[str] | None]] = deque()
        self._lock = threading.Lock()  # held by whoever runs the callbacks
        self._announcing: int | None = None  # the thread that holds _lock
        self._closed = threading.Event()

    def subscribe(self, callback: ChangeCallback) -> Callable[[], None]:
        """Add `callback`; returns a function that removes it."""
        self.callbacks.append(callback)
        return unsubscriber(self.callbacks, callback)

    def queue(self, old: FlagSet, new: FlagSet, changed: frozenset[str] | None = None) -> None:
        """Remember the swap of `old` for `new`, in swap order (call under the swap lock).

        `changed` is the keys of the flags that differ, when the caller has them already;
        otherwise they are worked out when the swap is announced.
        """
        self._pending.append((old, new, changed))

    def announce(self) -> None:
        """Run the callbacks for every queued swap, unless another thread is doing so."""
        while self._pending and not self._closed.is_set():
            if not self._lock.acquire(blocking=False):
                return  # The announcing thread will find this swap after its current one.
            self._announcing = threading.get_ident()
            try:
                while self._pending:
                    old, new, changed = self._pending.popleft()
                    if changed is None:
                        changed = changed_flags(old.document, new.document)
                    for callback in list(self.callbacks):
                        if self._closed.is_set():
                            return
                        try:
                            callback(old.version, new.version, changed)
                        except Exception:
                            logging.getLogger(LOGGER_NAME).exception(
                                "flagkit on_change callback %r failed", callback
                            )
            finally:
                self._announcing = None
                self._lock.release()
            # A swap queued after the inner loop ended, while the lock was still held, finds
            # the lock free or is seen by the loop test above: it is never left unannounced.

    def close(self) -> None:
        """Announce nothing more; wait for a callback that is running (unless called from one)."""
        self._closed.set()
        if self._announcing == threading.get_ident():
            self._pending.clear()  # Called from a callback: the loop announcing stops after it.
            return
        with self._lock:  # Waits for a callback that is running now.
            self._pending.clear()

    def reset_after_fork(self) -> None:
        """In a forked child: a fresh lock (a parent's thread may have held it)."""
        self._lock = threading.Lock()
        self._announcing = None
