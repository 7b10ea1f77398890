"""How often each flag served each answer: what `Flags.usage()` returns.

Every precomputed answer (`flagkit.flagset.Decision`) counts the reads that served it
(`next(decision.uses)`, which costs about one attribute read and one call, and loses no
count between threads). A `UsageLedger` turns those counters into counts per flag,
variant and reason over an interval, and keeps the counts of a document that a refresh
replaced until the next `take`, so a swap loses nothing.

Not counted: an unknown flag (it has no answers to count), a tenant that is not one
(`INVALID_CONTEXT` is decided afresh), and an answer forced by a local override
(rule `override`), which says nothing about whether the flag is still in use.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from flagkit.flagset import Decision, FlagSet, decisions_of
from flagkit.model import Reason

__all__ = ["OVERRIDE_RULE", "Usage", "UsageCount", "UsageLedger"]

OVERRIDE_RULE = "override"
"""The deciding rule of an answer forced by a local override: never counted."""

UsageKey = tuple[str, str | None, Reason]
"""(flag, variant, reason)."""


@dataclass(frozen=True, slots=True)
class UsageCount:
    """How many reads of `flag` served `variant` ("on"/"off" for a boolean flag; None when
    the caller's default was served) for `reason`."""

    flag: str
    variant: str | None
    reason: Reason
    count: int


@dataclass(frozen=True, slots=True)
class Usage:
    """The evaluations counted from `start` to `end` (seconds since the epoch).

    `counts` lists every (flag, variant, reason) served at least once, in document
    order; `flags` is every flag of the document served at `end`, counted or not.
    """

    start: float
    end: float
    counts: tuple[UsageCount, ...]
    flags: tuple[str, ...]

    def total(self, flag: str) -> int:
        """How many times `flag` was evaluated in the interval."""
        return sum(count.count for count in self.counts if count.flag == flag)

    @property
    def unused(self) -> tuple[str, ...]:
        """The flags of the document that were not evaluated once in the interval."""
        counted = {count.flag for count in self.counts}
        return tuple(flag for flag in self.flags if flag not in counted)

    @property
    def single_answer(self) -> tuple[str, ...]:
        """The flags evaluated in the interval that served every read the same variant:
        clean-up candidates, when the interval is long enough to be sure."""
        variants: dict[str, set[str | None]] = {}
        for count in self.counts:
            variants.setdefault(count.flag, set()).add(count.variant)
        return tuple(flag for flag, served in variants.items() if len(served) == 1)


class UsageLedger:
    """Reads the counters of the documents a `Flags` serves, one interval at a time."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._start = clock()
        self._read: dict[int, tuple[Decision, int, int]] = {}
        """id → (decision, reads of its counter so far, uses already reported)."""
        self._carried: dict[UsageKey, int] = {}
        """Counts of documents replaced since the last `take`."""

    def retire(self, flagset: FlagSet) -> None:
        """`flagset` is being replaced: keep what it counted for the next `take`."""
        with self._lock:
            for key, count in self._new_uses(flagset, forget=True):
                self._carried[key] = self._carried.get(key, 0) + count

    def take(self, flagset: FlagSet) -> Usage:
        """The counts since the last `take` (or since the ledger was made), `flagset` being
        the document served now; the next interval starts here."""
        with self._lock:
            counts = dict(self._carried)
            self._carried.clear()
            for key, count in self._new_uses(flagset, forget=False):
                counts[key] = counts.get(key, 0) + count
            start, end = self._start, self._clock()
            self._start = end
        order = {flag: index for index, flag in enumerate(flagset.flags)}
        listed = sorted(
            (
                UsageCount(flag, variant, reason, count)
                for (flag, variant, reason), count in counts.items()
            ),
            key=lambda c: (order.get(c.flag, len(order)), c.flag, c.variant or "", c.reason.value),
        )
        return Usage(start, end, tuple(listed), tuple(flagset.flags))

    def _new_uses(self, flagset: FlagSet, *, forget: bool) -> Iterable[tuple[UsageKey, int]]:
        for key, flag in flagset.flags.items():
            for decision in _counted(decisions_of(flag)):
                seen = (
                    self._read.pop(id(decision), None) if forget else self._read.get(id(decision))
                )
                reads, reported = (0, 0) if seen is None else seen[1:]
                uses = next(decision.uses) - reads  # This read is a call to next() too.
                if not forget:
                    self._read[id(decision)] = (decision, reads + 1, uses)
                if uses > reported:
                    yield (key, decision.variant, decision.reason), uses - reported


def _counted(decisions: Iterable[Decision]) -> Iterable[Decision]:
    return (decision for decision in decisions if decision.rule != OVERRIDE_RULE)
