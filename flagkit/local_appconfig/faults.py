"""Faults to inject into the Data API and the Agent path, and the log of what they answered.

Kinds: `throttle` (429 ThrottlingException; the Agent answers 502, as an agent whose
upstream call failed would - GUESS), `internal` (500), `drop` (the connection is closed
without a response), `delay` (wait `seconds`, then answer normally) and `hold` (wait until
`release()`, then answer normally). `fail_next` injects one for the next `count`
matching requests, `set_fault` for every one until `clear`; either for one operation only.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Final, Literal, NamedTuple, get_args

__all__ = [
    "AGENT",
    "GET_CONFIGURATION",
    "START_SESSION",
    "UNKNOWN",
    "FaultKind",
    "Faults",
    "Operation",
    "RequestLog",
    "RequestRecord",
]

START_SESSION: Final = "StartConfigurationSession"
GET_CONFIGURATION: Final = "GetLatestConfiguration"
AGENT: Final = "Agent"
UNKNOWN: Final = "Unknown"
"""The operation name logged for requests that match no route."""

Operation = Literal["StartConfigurationSession", "GetLatestConfiguration", "Agent"]
FaultKind = Literal["throttle", "internal", "drop", "delay", "hold"]


class RequestRecord(NamedTuple):
    """One answered (or dropped) request of the Data API or the Agent path."""

    operation: str
    status: int | None
    """None when the connection was dropped without a response."""
    token: str | None
    """The configuration token a GetLatestConfiguration call presented; None for others."""
    time: float
    """The store's clock when the request was answered."""


@dataclass
class Fault:
    """An injected fault; `remaining` is None for one that stays until cleared."""

    kind: FaultKind
    operation: str | None
    seconds: float
    remaining: int | None


class Faults:
    """The faults waiting for requests, and the requests held in a `hold` fault."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._one_shot: list[Fault] = []
        self._persistent: list[Fault] = []
        self._held = 0  # requests waiting in a "hold" fault now
        self._releases = 0  # how many times release() was called
        self.closing = threading.Event()
        """Set when the server closes: every wait ends, without an answer."""

    def fail_next(
        self, kind: FaultKind, count: int, operation: Operation | None, seconds: float
    ) -> None:
        """The next `count` requests (of `operation`, or of any) fail with `kind`."""
        _check(kind, operation)
        if count < 1:
            raise ValueError("count must be at least 1")
        with self._cond:
            self._one_shot.append(Fault(kind, operation, seconds, count))

    def set_fault(self, kind: FaultKind, operation: Operation | None, seconds: float) -> None:
        """Every request (of `operation`, or of any) fails with `kind` until `clear`."""
        _check(kind, operation)
        with self._cond:
            self._persistent.append(Fault(kind, operation, seconds, None))

    def clear(self) -> None:
        """No more faults."""
        with self._cond:
            self._one_shot.clear()
            self._persistent.clear()

    def take(self, operation: str) -> Fault | None:
        """The fault for this request of `operation`, if any (a one-shot one is used up)."""
        with self._cond:
            for fault in self._one_shot:
                if fault.operation in (None, operation):
                    assert fault.remaining is not None
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        self._one_shot.remove(fault)
                    return fault
            for fault in self._persistent:
                if fault.operation in (None, operation):
                    return fault
        return None

    def wait(self, fault: Fault) -> bool:
        """Wait out a `delay` or `hold` fault; False when the server closes first."""
        if fault.kind == "delay":
            return not self.closing.wait(fault.seconds)
        with self._cond:
            released = self._releases
            self._held += 1
            self._cond.notify_all()
            try:
                self._cond.wait_for(lambda: self._releases != released or self.closing.is_set())
            finally:
                self._held -= 1
            return not self.closing.is_set()

    def wait_for_held(self, count: int, timeout: float) -> bool:
        """Block until `count` requests wait in a `hold` fault; False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: self._held >= count, timeout)

    def release(self) -> None:
        """Let every request waiting in a `hold` fault go on and be answered."""
        with self._cond:
            self._releases += 1
            self._cond.notify_all()

    def close(self) -> None:
        """End every wait (the server is closing)."""
        self.closing.set()
        with self._cond:
            self._cond.notify_all()


def _check(kind: str, operation: str | None) -> None:
    if kind not in get_args(FaultKind):
        raise ValueError(f"unknown fault kind {kind!r}; one of {get_args(FaultKind)}")
    if operation is not None and operation not in get_args(Operation):
        raise ValueError(f"unknown operation {operation!r}; one of {get_args(Operation)}")


class RequestLog:
    """Every request of the Data API and the Agent path, logged just before its answer goes
    out: once a client has its answer, the log has its request."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._log: list[RequestRecord] = []
        self._counts: dict[str, int] = {}

    def record(self, record: RequestRecord) -> None:
        """Log one request and wake whoever waits for it."""
        with self._cond:
            self._log.append(record)
            self._counts[record.operation] = self._counts.get(record.operation, 0) + 1
            self._cond.notify_all()

    @property
    def requests(self) -> list[RequestRecord]:
        """A copy of the log, oldest first."""
        with self._cond:
            return list(self._log)

    @property
    def counts(self) -> dict[str, int]:
        """Requests answered (or dropped) so far, per operation."""
        with self._cond:
            return dict(self._counts)

    def wait_for(self, operation: str | None, count: int, timeout: float) -> bool:
        """Block until `count` requests of `operation` (any, if None) were logged in all,
        since the start; False on timeout."""

        def enough() -> bool:
            seen = len(self._log) if operation is None else self._counts.get(operation, 0)
            return seen >= count

        with self._cond:
            return self._cond.wait_for(enough, timeout)
