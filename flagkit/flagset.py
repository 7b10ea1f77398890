"""Compiled flag data: immutable, with everything the evaluator needs precomputed.

A `FlagSet` is built once per document version by `flagkit.compiler` and never
changes; `Flags` replaces it whole. Every possible answer of a flag that does
not depend on a split is a `Decision` built at compile time, so evaluating a
flag allocates nothing.
"""

from __future__ import annotations

import enum
import itertools
import math
import time
from bisect import bisect_right
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from flagkit.model import ErrorCode, Evaluation, Reason

__all__ = [
    "USE_DEFAULT",
    "CompiledFlag",
    "Condition",
    "Decision",
    "FlagSet",
    "Operator",
    "Outcome",
    "Rule",
    "Split",
    "Test",
    "TimeBoundaries",
    "decisions_of",
]


class _UseDefault:
    __slots__ = ()

    def __repr__(self) -> str:
        return "USE_DEFAULT"


USE_DEFAULT: Final = _UseDefault()
"""A decision's value when the caller's default is what gets served."""


@dataclass(frozen=True, slots=True)
class Decision:
    """One precomputed answer of one flag: on/off, value, variant, reason and the deciding rule.

    `on` is None when the caller's default applies because of an error.
    """

    on: bool | None
    value: Any
    variant: str | None
    reason: Reason
    rule: str | None
    error_code: ErrorCode | None = None
    error_message: str | None = None
    uses: Iterator[int] = field(default_factory=itertools.count, compare=False, repr=False)
    """How often this answer was served: each read calls `next(uses)` (atomic in CPython,
    so no count is lost between threads); `flagkit.usage` reads the counts."""


@dataclass(frozen=True, slots=True, eq=False)
class Split:
    """A weighted split of variants: `cumulative[i]` is the running weight up to `decisions[i]`."""

    cumulative: tuple[int, ...]
    decisions: tuple[Decision, ...]

    @property
    def total_weight(self) -> int:
        return self.cumulative[-1]


Outcome = Decision | Split
"""What a step serves: a fixed decision, or a split that picks one per tenant."""


class Operator(enum.Enum):
    """How a rule's condition tests a context attribute."""

    EQUALS = "equals"
    NOT_EQUALS = "notEquals"
    IN = "in"
    NOT_IN = "notIn"
    IN_SEGMENT = "inSegment"
    NOT_IN_SEGMENT = "notInSegment"
    EXISTS = "exists"
    LT = "lt"
    LTE = "lte"
    GT = "gt"
    GTE = "gte"
    STARTS_WITH = "startsWith"
    ENDS_WITH = "endsWith"
    CONTAINS = "contains"
    MATCHES = "matches"
    VERSION_EQUALS = "versionEquals"
    VERSION_LT = "versionLt"
    VERSION_LTE = "versionLte"
    VERSION_GT = "versionGt"
    VERSION_GTE = "versionGte"
    BEFORE = "before"
    AFTER = "after"
    IN_CIDR = "inCidr"
    SCHEDULE = "schedule"


Test = Callable[[Any], bool]
"""One condition's test of one value (an element of a list attribute, or the value itself)."""

Holds = Callable[[str | None, str | None, "Mapping[str, Any]", float], bool]
"""`holds(tenant_id, tier, attributes, now)`: whether a condition holds for one evaluation."""


@dataclass(frozen=True, slots=True, eq=False)
class Condition:
    """`attribute` (`id`, `tier`, `now` or a tenant attribute) tested with `operator`.

    `operand` is the test's operand as compiled: the scalar for equals, a frozenset of
    `json_key`s for in and segments, a bool for exists, a parsed version, timestamp,
    network list or schedule. `holds` is the whole condition, modifiers included, as
    one function (`flagkit.conditions`). A condition on `now` lists the `instants` at
    which its answer may change, or the `schedule` that says when.
    """

    attribute: str
    operator: Operator
    operand: Any
    negate: bool
    ignore_case: bool
    holds: Holds
    instants: tuple[float, ...] = ()
    schedule: Any = None


@dataclass(frozen=True, slots=True, eq=False)
class Rule:
    """A compiled rule: when every condition holds, serve `outcome`, or split by `threshold`.

    With a `threshold` (a percentage rule), tenants ranked below it get `outcome`
    and the rest `off`.
    """

    label: str
    conditions: tuple[Condition, ...]
    outcome: Outcome
    threshold: int | None = None
    off: Decision | None = None
    tests: tuple[Holds, ...] = ()
    """Each condition's `holds`, in order: what the evaluator calls."""


@dataclass(frozen=True, slots=True, eq=False)
class CompiledFlag:
    """A flag ready to evaluate; fields follow the evaluation order in docs/flag-document.md."""

    key: str
    enabled: bool
    disabled: Decision
    requires: tuple[tuple[CompiledFlag, Decision], ...]
    excluded: frozenset[str]
    excluded_decision: Decision
    rules: tuple[Rule, ...]
    targets: Mapping[str, Outcome]
    tiers: frozenset[str]
    tier_outcome: Outcome
    threshold: int
    rollout_on: Outcome
    rollout_off: Decision
    fallthrough: Outcome
    missing_key: Decision
    invalid_key: Decision
    not_in_split: Decision
    stickiness: str | None
    hash_prefix: str
    attributes: Mapping[str, Any]
    variants: Mapping[str, Any] | None
    active_from: float = -math.inf
    active_until: float = math.inf
    """The launch window `[activeFrom, activeUntil)` in seconds since the epoch."""
    outside_window: Decision | None = None
    """What the flag answers outside its launch window (as its kill switch would)."""
    reads_clock: bool = False
    """Whether an answer may depend on the time: a launch window, a condition on `now`,
    or a prerequisite that reads the clock."""
    impressions: bool = False
    """`"impressions": true`: each answer is an impression for `Flags.on_evaluation`."""

    def outside_window_at(self, now: float) -> bool:
        """Whether `now` is outside the launch window `[activeFrom, activeUntil)`."""
        return not self.active_from <= now < self.active_until

    @property
    def is_variant_flag(self) -> bool:
        return self.variants is not None

    def __repr__(self) -> str:
        return f"<CompiledFlag {self.key!r}>"


def decisions_of(flag: CompiledFlag) -> list[Decision]:
    """Every precomputed answer of `flag`, each once, in evaluation order."""
    outcomes: list[Outcome | None] = [flag.disabled, flag.outside_window]
    outcomes += [failed for _, failed in flag.requires]
    outcomes.append(flag.excluded_decision)
    for rule in flag.rules:
        outcomes += [rule.outcome, rule.off]
    outcomes += list(flag.targets.values())
    outcomes += [flag.tier_outcome, flag.rollout_on, flag.rollout_off, flag.fallthrough]
    outcomes += [flag.not_in_split, flag.missing_key, flag.invalid_key]
    found: dict[int, Decision] = {}
    for outcome in outcomes:
        if outcome is None:
            continue
        for decision in outcome.decisions if isinstance(outcome, Split) else (outcome,):
            found.setdefault(id(decision), decision)
    return list(found.values())


@dataclass(frozen=True, slots=True, eq=False)
class TimeBoundaries:
    """When the answers of one document may change with the time alone, found when it is
    compiled: the fixed instants (launch windows, time bounds on `now`) and the weekly
    schedules on `now`, which repeat."""

    instants: tuple[float, ...] = ()
    """Sorted, without duplicates."""
    schedules: tuple[Any, ...] = ()
    """`flagkit.weekly_schedule.WeeklySchedule`s: each knows its own next change."""

    def next_change(self, now: float) -> float:
        """The smallest boundary after `now`, or `math.inf`."""
        index = bisect_right(self.instants, now)
        soonest = self.instants[index] if index < len(self.instants) else math.inf
        for schedule in self.schedules:
            soonest = min(soonest, schedule.next_change(now))
        return soonest


NO_TIME_BOUNDARIES: Final = TimeBoundaries()


@dataclass(frozen=True, slots=True, eq=False)
class FlagSet:
    """Every flag of one document version, by key, plus the segments and the checked
    document they were compiled from.

    `flags` and `deciders` (each flag's `flagkit.evaluation.decider_for`) are plain
    dicts for lookup speed on the hot path; nothing writes to them after compiling.
    """

    flags: Mapping[str, CompiledFlag]
    version: str | None
    segments: Mapping[str, frozenset[str]]
    deciders: Mapping[str, Callable[[str | None, str | None, Mapping[str, Any]], Decision]]
    document: Mapping[str, Any]
    clock: Callable[[], float] = time.time
    """What `now` reads: seconds since the Unix epoch."""
    time_boundaries: TimeBoundaries = NO_TIME_BOUNDARIES
    """When the time alone may change an answer (`answers_change_at`)."""
    evaluations: dict[int, tuple[Decision, Evaluation]] = field(default_factory=dict, repr=False)
    """A memo: the public `Evaluation` of each precomputed `Decision`, by the decision's id,
    made the first time it is served (`flagkit.evaluation`); nothing else writes to it."""

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(self.flags)

    def answers_change_at(self, now: float | None = None) -> float:
        """The first instant after `now` (the clock's, by default) at which the time may change
        some answer of this document; `math.inf` when the time never changes one.

        Until then, every answer that depends on nothing but the document, the tenant and
        the time stays the same: a cache of answers may keep them that long.
        """
        return self.time_boundaries.next_change(self.clock() if now is None else now)
