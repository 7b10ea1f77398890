"""Compiled flag data: immutable, with everything the evaluator needs precomputed.

A `FlagSet` is built once per document version by `flagkit.compiler` and never
changes; `Flags` replaces it whole. Every possible answer of a flag that does
not depend on a split is a `Decision` built at compile time, so evaluating a
flag allocates nothing.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from flagkit.model import ErrorCode, Reason

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


@dataclass(frozen=True, slots=True, eq=False)
class Condition:
    """`attribute` (`id`, `tier` or a tenant attribute) tested with `operator` against `operand`.

    `operand` is the scalar for (not)equals, a frozenset of `json_key`s for (not)in and
    segments,
    a bool for exists.
    """

    attribute: str
    operator: Operator
    operand: Any


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

    @property
    def is_variant_flag(self) -> bool:
        return self.variants is not None

    def __repr__(self) -> str:
        return f"<CompiledFlag {self.key!r}>"


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

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(self.flags)
