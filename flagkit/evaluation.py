"""FlagSet + flag + tenant → answer: the evaluation order of docs/flag-document.md, in `decide`.

Pure functions: no I/O, no locks, no logging. `decide` returns a precomputed
`Decision` (only a weighted split chooses among several), so the hot path
allocates nothing; `evaluate` turns it into a public `Evaluation`.
"""

from __future__ import annotations

import time
from bisect import bisect_left
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from mmh3 import hash as _murmur3_32

from flagkit.bucketing import RANK_OF_RESIDUE, VARIANT_SEED, rollout_lookup
from flagkit.flagset import (
    USE_DEFAULT,
    CompiledFlag,
    Decision,
    FlagSet,
    Outcome,
    Rule,
    Split,
)
from flagkit.model import (
    EMPTY_ATTRIBUTES,
    ErrorCode,
    Evaluation,
    Reason,
    Tenant,
    context_parts,
    tenant_problem,
)

__all__ = [
    "Decider",
    "decide",
    "decider_for",
    "decision_for",
    "evaluate",
    "evaluate_all",
    "evaluation_of",
    "hash32",
    "prerequisite_error",
    "tenant_parts",
]

Decider = Callable[[str | None, str | None, "Mapping[str, Any]"], Decision]
"""`decider(tenant_id, tier, attributes)`: one flag's `decide`, bound and possibly specialised."""

_ID_KEYS = ("id", "tenant", "targetingKey")
_RANK = RANK_OF_RESIDUE


def decide(
    flag: CompiledFlag,
    tenant_id: str | None,
    tier: str | None,
    attributes: Mapping[str, Any],
    now: float = 0.0,
) -> Decision:
    """The first step that decides, decides (docs/flag-document.md, "Evaluation order").

    `now` is the evaluation instant in seconds since the epoch; only a flag that reads
    the clock (`CompiledFlag.reads_clock`) looks at it.
    """
    if not flag.enabled:
        return flag.disabled
    # `flag.outside_window_at(now)`, inlined: a call costs more than the test itself.
    if flag.reads_clock and not flag.active_from <= now < flag.active_until:
        return flag.outside_window  # type: ignore[return-value]  # set for every flag
    if flag.requires:
        failed = _failed_prerequisite(flag, tenant_id, tier, attributes, now, None)
        if failed is not None:
            return failed
    return _decide_targeting(flag, tenant_id, tier, attributes, now)


def _failed_prerequisite(
    flag: CompiledFlag,
    tenant_id: str | None,
    tier: str | None,
    attributes: Mapping[str, Any],
    now: float,
    known: dict[str, Decision] | None,
) -> Decision | None:
    """`flag`'s answer when one of its prerequisites is not on for the tenant; else None.

    `known` holds the prerequisites with prerequisites of their own already decided in
    this evaluation (made when the first is met): each is decided once, however many
    paths of `requires` lead to it, so an answer costs at most one decision per link.
    The recursion is as deep as the longest chain of `requires`, which the document
    checks cap (`flagkit.prerequisites.MAX_PREREQUISITE_DEPTH`).
    """
    for prerequisite, failed in flag.requires:
        if not prerequisite.enabled:
            answer = prerequisite.disabled
        elif prerequisite.reads_clock and not (  # outside_window_at(now), inlined
            prerequisite.active_from <= now < prerequisite.active_until
        ):
            answer = prerequisite.outside_window  # type: ignore[assignment]  # always set
        elif not prerequisite.requires:  # Nothing below it to share: decided at once.
            answer = _decide_targeting(prerequisite, tenant_id, tier, attributes, now)
        else:
            if known is None:
                known = {}
            shared = known.get(prerequisite.key)
            if shared is None:
                shared = _failed_prerequisite(
                    prerequisite, tenant_id, tier, attributes, now, known
                ) or _decide_targeting(prerequisite, tenant_id, tier, attributes, now)
                known[prerequisite.key] = shared
            answer = shared
        if not answer.on:
            return failed if answer.on is False else prerequisite_error(flag, answer)
    return None


def _decide_targeting(
    flag: CompiledFlag,
    tenant_id: str | None,
    tier: str | None,
    attributes: Mapping[str, Any],
    now: float,
) -> Decision:
    """Steps 3 to 8 of `decide`: for an enabled flag, in its window, whose prerequisites are on."""
    if tenant_id in flag.excluded:  # A tenant without an id is in no list.
        return flag.excluded_decision
    if flag.rules:
        for rule in flag.rules:
            for holds in rule.tests:
                if not holds(tenant_id, tier, attributes, now):
                    break
            else:
                return _serve_rule(flag, rule, tenant_id, tier, attributes)  # All held.
    target = flag.targets.get(tenant_id) if tenant_id else None
    if target is not None:
        return _serve(flag, target, tenant_id, tier, attributes)
    if tier is not None and tier in flag.tiers:
        return _serve(flag, flag.tier_outcome, tenant_id, tier, attributes)
    if flag.threshold >= 0:
        h = _sticky_hash(flag, 0, tenant_id, tier, attributes)
        if isinstance(h, Decision):
            return h
        if _RANK[h % 10_000] < flag.threshold:
            return _serve(flag, flag.rollout_on, tenant_id, tier, attributes)
        return flag.rollout_off
    return _serve(flag, flag.fallthrough, tenant_id, tier, attributes)


def decider_for(flag: CompiledFlag, clock: Callable[[], float] = time.time) -> Decider:
    """A function that answers exactly as `decide(flag, ..., now=clock())` does, as fast as
    the flag allows.

    Flags of the shape AppConfig's console edits (kill switch, excluded tenants,
    tenants and segments, tiers, a percentage keyed on the tenant id) get a closure
    over precomputed locals; a flag that reads the time reads `clock` once per
    answer; every other flag is `decide` itself, bound. A property test holds them equal.
    """
    if not flag.enabled:
        disabled = flag.disabled
        return lambda tenant_id, tier, attributes: disabled
    if flag.reads_clock:

        def decide_now(
            tenant_id: str | None, tier: str | None, attributes: Mapping[str, Any]
        ) -> Decision:
            return decide(flag, tenant_id, tier, attributes, clock())

        return decide_now
    if (
        flag.requires
        or flag.rules
        or flag.stickiness is not None
        or (flag.variants is not None and _has_split(flag))
    ):
        return partial(decide, flag)
    return _lists_and_rollout(flag)


def _has_split(flag: CompiledFlag) -> bool:
    """Whether any outcome of a variant flag is a split (boolean flags never have one)."""
    outcomes = [flag.tier_outcome, flag.rollout_on, flag.fallthrough, *flag.targets.values()]
    return any(outcome.__class__ is Split for outcome in outcomes)


def _lists_and_rollout(flag: CompiledFlag) -> Decider:
    """Steps 3, 5, 6, 7 and 8 of `decide`, for a flag whose every outcome is a fixed Decision.

    With no rules between them, excluded tenants (step 3) and listed tenants
    (step 5) become one lookup, exclusions overriding listings.
    """
    listed: dict[str, Decision] = dict(flag.targets)  # type: ignore[arg-type]
    listed.update(dict.fromkeys(flag.excluded, flag.excluded_decision))
    tiers, on_tier = flag.tiers, flag.tier_outcome
    threshold, prefix = flag.threshold, flag.hash_prefix
    rollout_on, rollout_off = flag.rollout_on, flag.rollout_off
    fallthrough, missing_key, invalid_key = flag.fallthrough, flag.missing_key, flag.invalid_key
    lookup, limit = rollout_lookup(threshold) if threshold >= 0 else (b"", 0)
    murmur3 = _murmur3_32

    def decide_lists_and_rollout(
        tenant_id: str | None, tier: str | None, attributes: Mapping[str, Any]
    ) -> Decision:
        if tenant_id in listed:  # Ids in lists are never empty; None is in no list.
            return listed[tenant_id]
        if tier is not None and tier in tiers:
            return on_tier  # type: ignore[return-value]
        if threshold >= 0:
            if not tenant_id:
                return missing_key
            text = prefix + tenant_id
            if text.isascii():  # hash32, inlined: isascii() is O(1) and ASCII always hashes
                h: int | None = murmur3(text, 0, False)
            else:
                h = hash32(text, 0)
                if h is None:
                    return invalid_key
            if lookup[h % 10_000] < limit:  # type: ignore[operator]
                return rollout_on  # type: ignore[return-value]
            return rollout_off
        return fallthrough  # type: ignore[return-value]

    return decide_lists_and_rollout


def hash32(text: str, seed: int) -> int | None:
    """Unsigned MurmurHash3 x86_32 of `text` as UTF-8; None when `text` is not valid Unicode.

    mmh3 crashes the process on a str with a lone surrogate (which `json.loads` of
    `"\\udcff"` produces), so non-ASCII text is encoded here first.
    """
    if text.isascii():
        return _murmur3_32(text, seed, False)
    try:
        return _murmur3_32(text.encode("utf-8"), seed, False)
    except UnicodeEncodeError:
        return None


def prerequisite_error(flag: CompiledFlag, prerequisite: Decision) -> Decision:
    """A prerequisite's error (an answer whose `on` is None), reported as `flag`'s."""
    if prerequisite.error_code is ErrorCode.INVALID_CONTEXT:
        return flag.invalid_key
    return flag.missing_key


def evaluate(flagset: FlagSet, key: str, tenant: object, default: Any = None) -> Evaluation:
    """The full `Evaluation` of flag `key` for `tenant`; never raises on data.

    An unknown flag, or a key that is no flag key at all (an unhashable list or
    dict), gets `FLAG_NOT_FOUND` and the caller's `default`.
    """
    try:
        flag = flagset.flags.get(key)
    except TypeError:  # An unhashable key: no flag has it.
        message = f"no flag {key!r}: a flag key is a str, not {type(key).__name__}"
        return _error(flagset, key, default, ErrorCode.FLAG_NOT_FOUND, message)
    if flag is None:
        return _error(flagset, key, default, ErrorCode.FLAG_NOT_FOUND, f"no flag {key!r}")
    decision = _decide_any(flag, flagset.deciders[key], tenant)
    next(decision.uses)
    return evaluation_of(flagset, flag, decision, default)


def evaluate_all(flagset: FlagSet, tenant: object, default: Any = None) -> list[Evaluation]:
    """`evaluate` of every flag for `tenant`, in document order: the tenant is read once."""
    parts = tenant_parts(tenant)
    flags = flagset.flags
    if isinstance(parts, str):  # A malformed tenant: each flag says so, or its kill switch.
        return [evaluate(flagset, key, tenant, default) for key in flags]
    tenant_id, tier, attributes = parts
    known = flagset.evaluations
    evaluations = []
    for key, decider in flagset.deciders.items():
        decision = decider(tenant_id, tier, attributes)
        next(decision.uses)
        entry = known.get(id(decision))
        if entry is not None and entry[0] is decision:
            evaluations.append(entry[1])
        else:
            evaluations.append(evaluation_of(flagset, flags[key], decision, default))
    return evaluations


def evaluation_of(
    flagset: FlagSet, flag: CompiledFlag, decision: Decision, default: Any
) -> Evaluation:
    """The public `Evaluation` of one of `flag`'s decisions, `default` serving where the
    caller's default applies: made once per precomputed decision of a `FlagSet`."""
    serves_default = decision.value is USE_DEFAULT
    if not serves_default:
        entry = flagset.evaluations.get(id(decision))
        if entry is not None and entry[0] is decision:
            return entry[1]
    evaluation = Evaluation(
        flag=flag.key,
        value=default if serves_default else decision.value,
        enabled=bool(decision.on),
        variant=decision.variant,
        reason=decision.reason,
        rule=decision.rule,
        error_code=decision.error_code,
        error_message=decision.error_message,
        attributes=flag.attributes,
        version=flagset.version,
    )
    if not serves_default:
        # A precomputed decision lives as long as its FlagSet; the entry keeps it, so its
        # id names it. Two threads racing here store two equal evaluations: both are right.
        flagset.evaluations[id(decision)] = (decision, evaluation)
    return evaluation


def decision_for(flagset: FlagSet, key: str, tenant: object) -> Decision | None:
    """The `Decision` of flag `key` for a tenant in any accepted form; None for no such flag."""
    try:
        flag = flagset.flags.get(key)
    except TypeError:  # An unhashable key: no flag has it.
        return None
    if flag is None:
        return None
    decision = _decide_any(flag, flagset.deciders[key], tenant)
    next(decision.uses)
    return decision


def _decide_any(flag: CompiledFlag, decider: Decider, tenant: object) -> Decision:
    """`decider`'s answer for a tenant in any form; a malformed tenant is `INVALID_CONTEXT`,
    unless the kill switch answers: it consults no tenant, so none can break it."""
    parts = tenant_parts(tenant)
    if parts.__class__ is not str:
        return decider(*parts)
    if not flag.enabled:
        return flag.disabled
    return Decision(
        on=None,
        value=USE_DEFAULT,
        variant=None,
        reason=Reason.ERROR,
        rule=None,
        error_code=ErrorCode.INVALID_CONTEXT,
        error_message=parts,
    )


def tenant_parts(tenant: object) -> tuple[str | None, str | None, Mapping[str, Any]] | str:
    """(id, tier, attributes) of any accepted tenant form, or a message saying why it is not one."""
    if isinstance(tenant, str) or tenant is None:
        return tenant, None, EMPTY_ATTRIBUTES
    if isinstance(tenant, Tenant):
        if tenant._problem is not None:
            return tenant._problem
        return tenant.id, tenant.tier, tenant.attributes
    tenant_id: object
    tier: object
    attributes: object
    if isinstance(tenant, Mapping):
        id_key = next((name for name in _ID_KEYS if tenant.get(name) is not None), None)
        targeting_key = None if id_key is None else tenant[id_key]
        tenant_id, tier, attributes = context_parts(targeting_key, tenant, skip=_ID_KEYS)
    elif hasattr(tenant, "id"):
        tenant_id, tier = tenant.id, getattr(tenant, "tier", None)
        attributes = getattr(tenant, "attributes", None)
        if attributes is None:
            attributes = EMPTY_ATTRIBUTES
    else:
        return (
            f"a tenant is a str, a flagkit.Tenant, a mapping with 'id' or an object with .id; "
            f"got {type(tenant).__name__}"
        )
    problem = tenant_problem(tenant_id, tier, attributes)
    if problem is not None:
        return problem
    return tenant_id, tier, attributes  # type: ignore[return-value]  # checked just above


def _error(
    flagset: FlagSet,
    key: str,
    default: Any,
    code: ErrorCode,
    message: str,
) -> Evaluation:
    return Evaluation(
        flag=key,
        value=default,
        enabled=False,
        variant=None,
        reason=Reason.ERROR,
        error_code=code,
        error_message=message,
        version=flagset.version,
    )


def _sticky_hash(
    flag: CompiledFlag,
    seed: int,
    tenant_id: str | None,
    tier: str | None,
    attributes: Mapping[str, Any],
) -> int | Decision:
    """The flag's hash of this tenant's stickiness key, or the Decision when there is none.

    The key is the tenant id unless the flag names a `stickiness` attribute (`id` and
    `tier` mean the tenant's own, as in rules); int attribute values count, other
    types do not. No id → TARGETING_KEY_MISSING; no custom attribute → not in the
    split; text mmh3 cannot hash → INVALID_CONTEXT.
    """
    name = flag.stickiness
    if name is None:
        if not tenant_id:
            return flag.missing_key
        key: object = tenant_id
    else:
        key = tier if name == "tier" else attributes.get(name)
        if isinstance(key, int) and not isinstance(key, bool):
            key = str(key)
        if not isinstance(key, str) or not key:
            return flag.not_in_split
    h = hash32(flag.hash_prefix + key, seed)  # type: ignore[operator]
    return flag.invalid_key if h is None else h


def _serve(
    flag: CompiledFlag,
    outcome: Outcome,
    tenant_id: str | None,
    tier: str | None,
    attributes: Mapping[str, Any],
) -> Decision:
    if outcome.__class__ is Decision:
        return outcome
    split: Split = outcome  # type: ignore[assignment]
    h = _sticky_hash(flag, VARIANT_SEED, tenant_id, tier, attributes)
    if isinstance(h, Decision):
        return h
    return split.decisions[bisect_left(split.cumulative, h % split.total_weight + 1)]


def _serve_rule(
    flag: CompiledFlag,
    rule: Rule,
    tenant_id: str | None,
    tier: str | None,
    attributes: Mapping[str, Any],
) -> Decision:
    if rule.threshold is None:
        return _serve(flag, rule.outcome, tenant_id, tier, attributes)
    h = _sticky_hash(flag, 0, tenant_id, tier, attributes)
    if isinstance(h, Decision):
        return h
    if _RANK[h % 10_000] < rule.threshold:
        return _serve(flag, rule.outcome, tenant_id, tier, attributes)
    assert rule.off is not None
    return rule.off
