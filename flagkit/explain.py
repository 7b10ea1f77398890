"""Why a tenant gets the answer it gets: one flag's evaluation order, walked step by step.

`explain(flagset, key, tenant)` returns an `Explanation`: the `Evaluation` the walk
ends in (the very answer `flagkit.evaluation.evaluate` gives; a property test holds
the two equal) and every step of docs/flag-document.md's evaluation order, in order:
kill switch, launch window, prerequisites, excludedTenants, each rule (each condition
with the tenant's value and whether it held), tenants/segments, tiers, percentage (the
tenant's bucket rank and the threshold) and default. Each step says what it did
(`decided: on`, `passed`, `skipped: not used by this flag`, `not reached`) in a word
and in a sentence.

The data are in `flagkit.explanation`. This is a separate, slower walk over the compiled
flag for people reading an answer (the `flagkit explain` command, the service's explain
page); the hot path never calls it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, NoReturn

from flagkit.bucketing import bucket_rank, variant_bucket
from flagkit.evaluation import _evaluation as evaluation_of
from flagkit.evaluation import evaluate, tenant_parts
from flagkit.explanation import (
    NOT_REACHED,
    PASSED,
    SKIPPED,
    BucketCheck,
    ConditionCheck,
    Explanation,
    PrerequisiteAnswer,
    Step,
)
from flagkit.flagset import USE_DEFAULT, CompiledFlag, Decision, FlagSet, Outcome, Rule, Split
from flagkit.model import EMPTY_ATTRIBUTES, ErrorCode, Evaluation, Reason

__all__ = ["explain"]


def explain(flagset: FlagSet, key: str, tenant: object, *, now: float | None = None) -> Explanation:
    """Explain flag `key`'s answer for `tenant` (any form `evaluate` accepts) at `now`
    (seconds since the epoch; the flagset's clock by default).

    A flag the document does not have gets `evaluate`'s FLAG_NOT_FOUND answer and no steps.
    """
    instant = flagset.clock() if now is None else now
    flag = flagset.flags.get(key) if isinstance(key, str) else None
    if flag is None:
        return Explanation(evaluate(flagset, key, tenant), (), instant)
    decision, steps = _FlagWalk(flagset, flag, tenant, instant).walk()
    return Explanation(_evaluation(flagset, flag, decision), steps, instant)


def _evaluation(flagset: FlagSet, flag: CompiledFlag, decision: Decision) -> Evaluation:
    """The public answer of `decision` (the caller's default being None), made as
    `evaluate` makes it: there is one construction of an `Evaluation`."""
    return evaluation_of(flagset, flag, decision, None)


def _percent(threshold: int) -> str:
    return f"{threshold / 100:g}%"


_ORDER = ("kill switch", "launch window", "prerequisites", "excludedTenants")
_AFTER_RULES = ("tenants/segments", "tiers", "percentage", "default")


class _Decided(Exception):
    """Raised inside a walk by the step that decides; carries its decision."""

    def __init__(self, decision: Decision) -> None:
        self.decision = decision


class _FlagWalk:
    """The walk of one flag for one tenant: each step appends itself to `steps`."""

    def __init__(self, flagset: FlagSet, flag: CompiledFlag, tenant: object, now: float) -> None:
        self.flagset = flagset
        self.flag = flag
        self.raw: Mapping[str, Any] = flagset.document[flag.key]
        self.tenant = tenant
        self.now = now
        self.steps: list[Step] = []
        parts = tenant_parts(tenant)
        self.problem = parts if isinstance(parts, str) else None
        self.tenant_id, self.tier, self.attributes = (
            (None, None, EMPTY_ATTRIBUTES) if isinstance(parts, str) else parts
        )

    # -- the walk ---------------------------------------------------------------------------

    def walk(self) -> tuple[Decision, tuple[Step, ...]]:
        """The decision and every step: those before the deciding one, it, then the rest
        marked not reached."""
        try:
            self._kill_switch()
            if self.problem is not None:
                invalid = self._error(ErrorCode.INVALID_CONTEXT, self.problem)
                self._decide("tenant", invalid, f"the tenant cannot be read: {self.problem}")
            self._launch_window()
            self._prerequisites()
            self._excluded()
            self._rules()
            self._lists()
            self._tiers()
            self._percentage()
            self._default()
        except _Decided as decided:
            names = [*_ORDER, *self._rule_names(), *_AFTER_RULES]
            last = self.steps[-1].name
            rest = names[names.index(last) + 1 :] if last in names else names[1:]
            self.steps.extend(Step(name, NOT_REACHED, "an earlier step decided") for name in rest)
            return decided.decision, tuple(self.steps)
        raise AssertionError("the default step always decides")  # pragma: no cover

    def _rule_names(self) -> list[str]:
        return [f"rule {rule.label}" for rule in self.flag.rules] or ["rules"]

    def _pass(self, name: str, sentence: str, **details: Any) -> None:
        self.steps.append(Step(name, PASSED, sentence, **details))

    def _skip(self, name: str, sentence: str) -> None:
        self.steps.append(Step(name, SKIPPED, sentence))

    def _decide(self, name: str, decision: Decision, sentence: str, **details: Any) -> NoReturn:
        self.steps.append(Step(name, self._verdict(decision), sentence, **details))
        raise _Decided(decision)

    def _verdict(self, decision: Decision) -> str:
        if decision.error_code is not None:
            return f"decided: error {decision.error_code.value}"
        if self.flag.variants is None or decision.variant is None:
            return f"decided: {'on' if decision.on else 'off'}"
        return f"decided: variant {decision.variant}{'' if decision.on else ' (off)'}"

    def _error(self, code: ErrorCode, message: str) -> Decision:
        return Decision(None, USE_DEFAULT, None, Reason.ERROR, None, code, message)

    @property
    def who(self) -> str:
        return f"tenant {self.tenant_id!r}" if self.tenant_id else "a tenant without an id"

    # -- steps 1 to 3 -----------------------------------------------------------------------

    def _kill_switch(self) -> None:
        if not self.flag.enabled:
            sentence = f"{self.flag.key} is switched off (enabled: false) for every tenant"
            self._decide("kill switch", self.flag.disabled, sentence)
        self._pass("kill switch", f"{self.flag.key} is enabled")

    def _launch_window(self) -> None:
        from flagkit.timestamps import format_timestamp

        start, end = self.flag.active_from, self.flag.active_until
        if not (math.isfinite(start) or math.isfinite(end)):
            self._skip("launch window", f"{self.flag.key} has no launch window")
            return
        at = format_timestamp(self.now)
        outside = self.flag.outside_window
        assert outside is not None  # Set for every flag.
        if self.now < start:
            sentence = f"{at} is before activeFrom {format_timestamp(start)}"
            self._decide("launch window", outside, sentence)
        if self.now >= end:
            sentence = f"{at} is at or after activeUntil {format_timestamp(end)}"
            self._decide("launch window", outside, sentence)
        self._pass("launch window", f"{at} is inside the launch window")

    def _prerequisites(self) -> None:
        if not self.flag.requires:
            self._skip("prerequisites", f"{self.flag.key} requires no other flag")
            return
        answers = []
        for prerequisite, failed in self.flag.requires:
            walk = _FlagWalk(self.flagset, prerequisite, self.tenant, self.now)
            answer, _ = walk.walk()
            evaluation = _evaluation(self.flagset, prerequisite, answer)
            answers.append(PrerequisiteAnswer(prerequisite.key, evaluation))
            checked = tuple(answers)
            if answer.on is None:
                code = ErrorCode.INVALID_CONTEXT
                decision = self.flag.invalid_key
                if answer.error_code is not code:
                    code, decision = ErrorCode.TARGETING_KEY_MISSING, self.flag.missing_key
                sentence = f"requires {prerequisite.key}, which cannot answer: {code.value}"
                self._decide("prerequisites", decision, sentence, prerequisites=checked)
            if not answer.on:
                sentence = (
                    f"requires {prerequisite.key}, which is off for {self.who} "
                    f"(its rule: {answer.rule})"
                )
                self._decide("prerequisites", failed, sentence, prerequisites=checked)
        names = ", ".join(answer.flag for answer in answers)
        every = tuple(answers)
        self._pass("prerequisites", f"every prerequisite is on: {names}", prerequisites=every)

    def _excluded(self) -> None:
        if not self.flag.excluded:
            self._skip("excludedTenants", f"{self.flag.key} excludes no tenant")
            return
        if self.tenant_id in self.flag.excluded:
            sentence = f"{self.who} is in excludedTenants"
            self._decide("excludedTenants", self.flag.excluded_decision, sentence)
        self._pass("excludedTenants", f"{self.who} is not in excludedTenants")

    # -- step 4: rules ----------------------------------------------------------------------

    def _rules(self) -> None:
        if not self.flag.rules:
            self._skip("rules", f"{self.flag.key} has no rules")
            return
        for index, rule in enumerate(self.flag.rules):
            name = f"rule {rule.label}"
            checks = self._conditions(index, rule)
            failed = [number for number, check in enumerate(checks, 1) if not check.held]
            if failed:
                sentence = f"condition {failed[0]} of {len(checks)} does not hold"
                self._pass(name, sentence, conditions=checks)
                continue
            held = {0: "the rule has no conditions", 1: "its condition holds"}.get(
                len(checks), f"all {len(checks)} conditions hold"
            )
            if rule.threshold is None:
                decision, bucket, why = self._serve(rule.outcome)
                self._decide(name, decision, f"{held}{why}", conditions=checks, bucket=bucket)
            decision, bucket, why = self._rollout(rule.threshold, rule.outcome, rule.off)
            self._decide(name, decision, f"{held}; {why}", conditions=checks, bucket=bucket)

    def _conditions(self, index: int, rule: Rule) -> tuple[ConditionCheck, ...]:
        written = self.raw["rules"][index].get("when", [])
        checks = []
        for condition, raw in zip(rule.conditions, written, strict=True):
            test = next(k for k in raw if k not in ("attribute", "ignoreCase", "negate"))
            present, value = self._value_of(condition.attribute)
            held = condition.holds(self.tenant_id, self.tier, self.attributes, self.now)
            checks.append(
                ConditionCheck(
                    attribute=condition.attribute,
                    test=test,
                    operand=raw[test],
                    negate=bool(raw.get("negate", False)),
                    ignore_case=bool(raw.get("ignoreCase", False)),
                    present=present,
                    value=value,
                    held=held,
                )
            )
        return tuple(checks)

    def _value_of(self, attribute: str) -> tuple[bool, Any]:
        if attribute == "id":
            return self.tenant_id is not None, self.tenant_id
        if attribute == "tier":
            return self.tier is not None, self.tier
        if attribute == "now":
            from flagkit.timestamps import format_timestamp

            return True, format_timestamp(self.now)
        if attribute in self.attributes:
            return True, self.attributes[attribute]
        return False, None

    # -- steps 5 to 8 -----------------------------------------------------------------------

    def _lists(self) -> None:
        if not (self.raw.get("tenants") or self.raw.get("segments")):
            self._skip("tenants/segments", f"{self.flag.key} lists no tenants and no segments")
            return
        target = self.flag.targets.get(self.tenant_id) if self.tenant_id else None
        if target is None:
            self._pass("tenants/segments", f"{self.who} is in no list of {self.flag.key}")
            return
        listing = (target if isinstance(target, Decision) else target.decisions[0]).rule or ""
        where = "tenants" if listing == "tenants" else f"segment {listing.partition(':')[2]}"
        decision, bucket, why = self._serve(target)
        sentence = f"{self.who} is listed in {where}{why}"
        self._decide("tenants/segments", decision, sentence, bucket=bucket)

    def _tiers(self) -> None:
        if not self.flag.tiers:
            self._skip("tiers", f"{self.flag.key} lists no tiers")
            return
        if self.tier is None:
            self._pass("tiers", "the tenant has no tier")
            return
        if self.tier not in self.flag.tiers:
            self._pass("tiers", f"tier {self.tier!r} is not in tiers")
            return
        decision, bucket, why = self._serve(self.flag.tier_outcome)
        self._decide("tiers", decision, f"tier {self.tier!r} is in tiers{why}", bucket=bucket)

    def _percentage(self) -> None:
        if self.flag.threshold < 0:
            self._skip("percentage", f"{self.flag.key} has no percentage")
            return
        flag = self.flag
        decision, bucket, why = self._rollout(flag.threshold, flag.rollout_on, flag.rollout_off)
        self._decide("percentage", decision, why, bucket=bucket)

    def _default(self) -> None:
        decision, bucket, why = self._serve(self.flag.fallthrough)
        if decision.rule == "static":
            sentence = f"{self.flag.key} has no targeting: the same answer for every tenant{why}"
        else:
            sentence = f"no step above decided: the flag's default{why}"
        self._decide("default", decision, sentence, bucket=bucket)

    # -- draws: percentages and splits ------------------------------------------------------

    def _rollout(
        self, threshold: int, inside: Outcome, outside: Decision | None
    ) -> tuple[Decision, BucketCheck | None, str]:
        """(decision, the draw, why) of a percentage: by rank against `threshold`."""
        drawn = self._sticky_key()
        if isinstance(drawn, Decision):
            return drawn, None, self._no_key_reason(drawn)
        salt = self.flag.hash_prefix[:-1]
        rank = bucket_rank(salt, drawn)
        bucket = BucketCheck(salt, drawn, rank, threshold, rank < threshold)
        limit = f"the threshold {threshold} ({_percent(threshold)})"
        if rank < threshold:
            decision, _, why = self._serve(inside)
            return decision, bucket, f"bucket {rank} of {drawn!r} is below {limit}: in{why}"
        assert outside is not None  # Every percentage has an "out".
        return outside, bucket, f"bucket {rank} of {drawn!r} is not below {limit}: out"

    def _serve(self, outcome: Outcome) -> tuple[Decision, BucketCheck | None, str]:
        """(decision, None, why) of an outcome; a split picks a variant by the tenant's key."""
        if isinstance(outcome, Decision):
            return outcome, None, ""
        split: Split = outcome
        drawn = self._sticky_key()
        if isinstance(drawn, Decision):
            return drawn, None, f"; the split cannot pick: {self._no_key_reason(drawn)}"
        total = split.total_weight
        picked = variant_bucket(self.flag.hash_prefix[:-1], drawn, total)
        index = next(i for i, weight in enumerate(split.cumulative) if picked <= weight)
        decision = split.decisions[index]
        why = f"; the split puts {drawn!r} at {picked} of {total}: variant {decision.variant}"
        return decision, None, why

    def _sticky_key(self) -> str | Decision:
        """The text a draw hashes (the tenant id or the stickiness attribute's value), or the
        decision when there is none or it cannot be hashed."""
        name = self.flag.stickiness
        if name is None:
            if not self.tenant_id:
                return self.flag.missing_key
            key = self.tenant_id
        else:
            value = self.tier if name == "tier" else self.attributes.get(name)
            if isinstance(value, int) and not isinstance(value, bool):
                value = str(value)
            if not isinstance(value, str) or not value:
                return self.flag.not_in_split
            key = value
        try:
            f"{self.flag.hash_prefix}{key}".encode()
        except UnicodeEncodeError:
            return self.flag.invalid_key
        return key

    def _no_key_reason(self, decision: Decision) -> str:
        if decision is self.flag.missing_key:
            return "the flag draws by tenant id, and none was given"
        if decision is self.flag.invalid_key:
            return "the key to draw by is not valid Unicode text"
        return f"the tenant has no usable {self.flag.stickiness!r} to draw by: not in the draw"
