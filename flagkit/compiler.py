"""Checked document → `FlagSet`: resolve references, precompute sets, thresholds and decisions."""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from typing import Any

from flagkit.bucketing import rollout_threshold
from flagkit.conditions import NOW, compile_condition
from flagkit.document import (
    RESERVED_FLAG_KEYS,
    CheckedDocument,
    flag_items,
    reported_as_document_error,
)
from flagkit.evaluation import decider_for
from flagkit.flagset import (
    USE_DEFAULT,
    CompiledFlag,
    Decision,
    FlagSet,
    Outcome,
    Rule,
    Split,
    TimeBoundaries,
)
from flagkit.model import ErrorCode, Reason
from flagkit.prerequisites import prerequisites_first

__all__ = ["compile_document", "time_boundaries"]

NO_ROLLOUT = -1
"""`CompiledFlag.threshold` of a flag without `percentage`."""


@reported_as_document_error
def compile_document(
    checked: CheckedDocument,
    *,
    version: str | None = None,
    clock: Callable[[], float] = time.time,
) -> FlagSet:
    """Compile a checked document; flags are built prerequisites first, so references resolve.

    `clock` is what conditions on `now` and launch windows read (seconds since the epoch).
    Raises `DocumentError` and nothing else (an unexpected exception becomes one).
    """
    document = checked.document
    raw_segments: Mapping[str, list[str]] = document.get("_segments", {})
    segments = {name: frozenset(ids) for name, ids in raw_segments.items()}
    raw_flags = dict(flag_items(document))
    compiled: dict[str, CompiledFlag] = {}
    requires = {key: raw.get("requires", []) for key, raw in raw_flags.items()}
    for key in prerequisites_first(requires):
        compiled[key] = _FlagCompiler(key, raw_flags[key], segments, compiled).build()
    ordered = {key: compiled[key] for key in raw_flags}
    deciders = {key: decider_for(flag, clock) for key, flag in ordered.items()}
    return FlagSet(
        ordered, version, segments, deciders, document, clock, time_boundaries(ordered.values())
    )


def time_boundaries(flags: Iterable[CompiledFlag]) -> TimeBoundaries:
    """Every instant at which the time alone may change an answer of these flags."""
    instants: set[float] = set()
    schedules = []
    for flag in flags:
        if not flag.enabled:
            continue  # The kill switch answers before any time is read.
        instants.update(t for t in (flag.active_from, flag.active_until) if math.isfinite(t))
        for rule in flag.rules:
            for condition in rule.conditions:
                instants.update(condition.instants)
                if condition.schedule is not None:
                    schedules.append(condition.schedule)
    return TimeBoundaries(tuple(sorted(instants)), tuple(schedules))


class _FlagCompiler:
    """Builds one flag; knows how "on" and "off" read for a boolean or a variant flag."""

    def __init__(
        self,
        key: str,
        raw: Mapping[str, Any],
        segments: Mapping[str, frozenset[str]],
        compiled: Mapping[str, CompiledFlag],
    ) -> None:
        self.key = key
        self.raw = raw
        self.segments = segments
        self.compiled = compiled
        self.variants: Mapping[str, Any] | None = raw.get("variants")
        self.off_variant: str | None = raw.get("offVariant")
        salt = raw.get("salt", key)
        self.hash_salt = salt

    def build(self) -> CompiledFlag:
        raw = self.raw
        percentage = raw.get("percentage")
        has_targeting = any(
            raw.get(field) for field in ("rules", "tenants", "segments", "tiers")
        ) or (percentage is not None)
        rules = tuple(self.rule(index, rule) for index, rule in enumerate(raw.get("rules", [])))
        active_from, active_until = self.launch_window()
        reads_clock = (
            math.isfinite(active_from)
            or math.isfinite(active_until)
            or any(c.attribute == NOW for rule in rules for c in rule.conditions)
            or any(self.compiled[required].reads_clock for required in raw.get("requires", []))
        )
        return CompiledFlag(
            key=self.key,
            enabled=raw["enabled"],
            disabled=self.off(Reason.DISABLED, "kill-switch"),
            requires=tuple(
                (self.compiled[required], self.off(Reason.TARGETING_MATCH, f"requires:{required}"))
                for required in raw.get("requires", [])
            ),
            excluded=frozenset(raw.get("excludedTenants", [])),
            excluded_decision=self.off(Reason.TARGETING_MATCH, "excludedTenants"),
            rules=rules,
            targets=self.targets(),
            tiers=frozenset(raw.get("tiers", [])),
            tier_outcome=self.on(Reason.TARGETING_MATCH, "tiers"),
            threshold=NO_ROLLOUT if percentage is None else rollout_threshold(percentage),
            rollout_on=self.on(Reason.SPLIT, "percentage"),
            rollout_off=self.off(Reason.SPLIT, "percentage"),
            fallthrough=(
                self.off(Reason.DEFAULT, "default")
                if has_targeting
                else self.on(Reason.SPLIT if "split" in raw else Reason.STATIC, "static")
            ),
            missing_key=self.error(
                ErrorCode.TARGETING_KEY_MISSING,
                f"flag {self.key!r} needs a tenant id to decide, and none was given",
            ),
            invalid_key=self.error(
                ErrorCode.INVALID_CONTEXT,
                f"flag {self.key!r} hashes a tenant id or attribute that is not valid Unicode "
                "text (it has a lone surrogate)",
            ),
            not_in_split=self.off(Reason.DEFAULT, "percentage"),
            # "id" names the tenant id, which is what no stickiness means.
            stickiness=None if raw.get("stickiness", "id") == "id" else raw["stickiness"],
            hash_prefix=f"{self.hash_salt}:",
            attributes=MappingProxyType(
                {name: value for name, value in raw.items() if name not in RESERVED_FLAG_KEYS}
            ),
            variants=None if self.variants is None else MappingProxyType(dict(self.variants)),
            active_from=active_from,
            active_until=active_until,
            outside_window=self.off(Reason.DISABLED, "schedule"),
            reads_clock=reads_clock,
            impressions=raw.get("impressions", False),
        )

    def launch_window(self) -> tuple[float, float]:
        """`[activeFrom, activeUntil)` in seconds since the epoch; unbounded where absent."""
        start, end = self.raw.get("activeFrom"), self.raw.get("activeUntil")
        if start is None and end is None:
            return -math.inf, math.inf
        from flagkit.timestamps import parse_timestamp

        return (
            -math.inf if start is None else parse_timestamp(start),
            math.inf if end is None else parse_timestamp(end),
        )

    # -- outcomes ---------------------------------------------------------------------------

    def served(self, variant: str, reason: Reason, rule: str) -> Decision:
        assert self.variants is not None
        return Decision(
            on=variant != self.off_variant,
            value=self.variants[variant],
            variant=variant,
            reason=reason,
            rule=rule,
        )

    def on(self, reason: Reason, rule: str) -> Outcome:
        """What the flag serves a tenant that is in: true, its split, or its default variant."""
        if self.variants is None:
            return Decision(True, True, "on", reason, rule)
        split = self.raw.get("split")
        if split is not None:
            return self.split(split, reason, rule)
        return self.served(self.raw["defaultVariant"], reason, rule)

    def off(self, reason: Reason, rule: str) -> Decision:
        """What the flag serves a tenant that is out: false, offVariant, or the caller's default."""
        if self.variants is None:
            return Decision(False, False, "off", reason, rule)
        if self.off_variant is not None:
            return self.served(self.off_variant, reason, rule)
        return Decision(False, USE_DEFAULT, None, reason, rule)

    def error(self, code: ErrorCode, message: str) -> Decision:
        return Decision(None, USE_DEFAULT, None, Reason.ERROR, None, code, message)

    def split(self, weights: Mapping[str, int], reason: Reason, rule: str) -> Split:
        kept = [(name, weight) for name, weight in weights.items() if weight > 0]
        cumulative = tuple(itertools.accumulate(weight for _, weight in kept))
        return Split(cumulative, tuple(self.served(name, reason, rule) for name, _ in kept))

    # -- steps ------------------------------------------------------------------------------

    def targets(self) -> Mapping[str, Outcome]:
        """Tenant id → outcome for `tenants` and then `segments`; the first listing wins."""
        targets: dict[str, Outcome] = {}
        # Lowest priority first, so that each later update overrides: the last segment
        # listed, ..., the first segment, then `tenants`.
        for segment in reversed(self.raw.get("segments", [])):
            outcome = self.on(Reason.TARGETING_MATCH, f"segments:{segment}")
            targets.update(dict.fromkeys(self.segments[segment], outcome))
        tenants = self.raw.get("tenants", [])
        if tenants:
            targets.update(dict.fromkeys(tenants, self.on(Reason.TARGETING_MATCH, "tenants")))
        return MappingProxyType(targets)

    def rule(self, index: int, raw: Mapping[str, Any]) -> Rule:
        label = raw.get("id", f"rules[{index}]")
        conditions = tuple(
            compile_condition(condition, self.segments) for condition in raw.get("when", [])
        )
        tests = tuple(condition.holds for condition in conditions)
        if "percentage" in raw:
            return Rule(
                label,
                conditions,
                outcome=self.on(Reason.SPLIT, label),
                threshold=rollout_threshold(raw["percentage"]),
                off=self.off(Reason.SPLIT, label),
                tests=tests,
            )
        if "split" in raw:
            outcome: Outcome = self.split(raw["split"], Reason.SPLIT, label)
        elif raw["serve"] is True:
            outcome = self.on(Reason.TARGETING_MATCH, label)
        elif raw["serve"] is False:
            outcome = self.off(Reason.TARGETING_MATCH, label)
        else:
            outcome = self.served(raw["serve"], Reason.TARGETING_MATCH, label)
        return Rule(label, conditions, outcome, tests=tests)
