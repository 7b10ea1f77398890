"""The service's one `Flags`, loaded in the background so health checks answer while it loads."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from flagkit.client import Flags
from flagkit.errors import ConfigurationError, FlagkitError

__all__ = ["FlagsLoader"]

_log = logging.getLogger("flagkit.service")

FIRST_RETRY, MAX_RETRY = 1.0, 30.0
"""Seconds before the first retry of a failed start, doubling up to the cap."""


class FlagsLoader:
    """Builds `Flags` with `open_flags` on a thread, retrying until it succeeds or `stop()`.

    `flags` is None until a valid document is loaded (so `/readyz` says 503 and the
    evaluation routes 503); `error` says why the last attempt failed. A
    `ConfigurationError` (a poll interval AppConfig refuses, say) is not retried; any
    other exception is, even one that is not flagkit's (it is logged with its traceback). A `Flags`
    given up front is served at once and left open at `stop()`: its owner closes it.
    """

    def __init__(
        self, open_flags: Callable[[], Flags] | None = None, *, flags: Flags | None = None
    ) -> None:
        if (open_flags is None) == (flags is None):
            raise TypeError("give exactly one of open_flags and flags")
        self.flags: Flags | None = flags
        self.error: str | None = None
        self._open = open_flags
        self._owned = flags is None
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start loading in the background (a no-op when `Flags` were given)."""
        if self.flags is None and self._thread is None:
            self._thread = threading.Thread(target=self._load, name="flagkit-load", daemon=True)
            self._thread.start()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until loaded (or stopped); True when `flags` is ready."""
        if self._thread is not None:
            self._thread.join(timeout)
        return self.flags is not None

    def stop(self) -> None:
        """Stop retrying, and close the `Flags` this loader made."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join()
        if self._owned and self.flags is not None:
            self.flags.close()

    def _load(self) -> None:
        assert self._open is not None
        delay = FIRST_RETRY
        while not self._stopping.is_set():
            try:
                flags = self._open()
            except ConfigurationError as exc:  # Retrying cannot fix a setting.
                self.error = f"configuration error, not retrying: {exc}"
                _log.critical(
                    "flagkit service: cannot load flags: %s; fix the setting and restart", exc
                )
                return
            except FlagkitError as exc:
                self.error = str(exc)
                _log.error("flagkit service: cannot load flags, retrying in %.0f s: %s", delay, exc)
            except Exception as exc:  # A bug must not end the loader: report it, retry.
                self.error = f"{type(exc).__name__}: {exc}"
                _log.exception("flagkit service: cannot load flags, retrying in %.0f s", delay)
            else:
                if self._stopping.is_set():
                    flags.close()
                    return
                self.flags, self.error = flags, None
                _log.info(
                    "flagkit service: serving flags version %s from %s",
                    flags.version,
                    flags.status.origin,
                )
                return
            self._stopping.wait(delay)
            delay = min(delay * 2, MAX_RETRY)
