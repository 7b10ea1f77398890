"""What a flag's change depends on that a tenants file does not carry.

A diff evaluates both documents for the tenants of a tenants file, so it sees a
change only through what those tenants carry. A tenant without a `plan` matches no
rule on `plan` and is in no percentage hashed on a `plan` stickiness: when no tenant of
the file has `plan`, a change to such a rule or percentage shows "no tenant's answer
changes" while real tenants' answers change. `ChangeCoverage.missing(key)` names, per
flag, every such input; the diff reports the flag as not assessed.

Which inputs count follows the evaluation order (docs/flag-document.md). Steps before
the first step the change touches are the same in both documents: they decide a tenant
the same way in both (no change), or pass it on in both. So they matter only where a
tenant lacking an input is decided there while a tenant having it would be passed on:
a rule condition `"exists": false`, and the flag's prerequisites (whose answer, off for
a tenant without their stickiness attribute, turns the flag off). From the first
touched step on, every input a step reads counts. Tenant ids count when the change
adds or removes them from a list, a segment the flag uses, or a rule condition on `id`,
and the tenants file does not list them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from flagkit.conditions import NOW
from flagkit.document import changed_flags, segments_used
from flagkit.model import Tenant

__all__ = ["ChangeCoverage", "InputKind", "MissingInput", "TenantsCoverage"]

InputKind = Literal["attribute", "tier", "tenant"]
"""What a tenants file may lack: an attribute (by name), tiers, or a tenant (by id)."""

_Read = tuple[InputKind, str, str]
"""(kind, name, where in the flag it is read): `("attribute", "plan", "rules")`."""

_STEPS = {
    "enabled": 1,
    "variants": 1,
    "defaultVariant": 1,
    "offVariant": 1,
    "split": 1,
    "requires": 2,
    "excludedTenants": 3,
    "rules": 4,
    "tenants": 5,
    "segments": 5,
    "tiers": 6,
    "percentage": 7,
}
"""The evaluation step each field decides at (docs/flag-document.md, "Evaluation order");
what "on" and "off" serve (variants, split) counts from step 1, since which tenants are
on depends on every step. `stickiness` and `salt` count at every step that hashes."""

_OUTSIDE = 9
"""The step of a change no step reads (`description`, attributes): it changes no answer."""


@dataclass(frozen=True, slots=True)
class MissingInput:
    """Something a flag's change depends on that no tenant of the tenants file carries.

    `kind` is `attribute` (`name` is its name), `tier` (`name` is `tier`) or `tenant`
    (`name` is the id); `read_by` lists where in the flag it is read (`rules`,
    `percentage`, `tiers`, `tenants`...; `payments.rules` for a flag it requires).
    """

    kind: InputKind
    name: str
    read_by: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: `{"input": kind, "name": ..., "readBy": [...]}`."""
        return {"input": self.kind, "name": self.name, "readBy": list(self.read_by)}


@dataclass(frozen=True, slots=True)
class TenantsCoverage:
    """What the tenants of a tenants file carry: their ids, whether any has a tier, and
    the attribute names some tenant has."""

    ids: frozenset[str]
    has_tiers: bool
    attributes: frozenset[str]

    @classmethod
    def of(cls, tenants: Iterable[Tenant]) -> TenantsCoverage:
        """The coverage of `tenants`."""
        listed = tuple(tenants)
        return cls(
            ids=frozenset(tenant.id for tenant in listed if tenant.id),
            has_tiers=any(tenant.tier is not None for tenant in listed),
            attributes=frozenset(name for tenant in listed for name in tenant.attributes),
        )

    def carries(self, kind: InputKind, name: str) -> bool:
        """Whether some tenant has this input."""
        if kind == "attribute":
            return name in self.attributes
        if kind == "tier":
            return self.has_tiers
        return name in self.ids


class ChangeCoverage:
    """Per flag, what a change from `old` to `new` (two checked documents) depends on that
    `coverage` lacks."""

    def __init__(
        self, old: Mapping[str, Any], new: Mapping[str, Any], coverage: TenantsCoverage
    ) -> None:
        self._old, self._new, self._coverage = old, new, coverage
        self._changed = changed_flags(old, new)

    def missing(self, key: str, *, time_moves: bool = False) -> tuple[MissingInput, ...]:
        """What flag `key`'s change (its own, or through a flag it requires) depends on that
        no tenant of the file carries; empty when the diff's answer for it is complete.

        `time_moves`: the documents are evaluated as of two instants between which the
        time may change the flag's answers (a launch window, a condition on `now`), so
        whatever it reads counts, as for a flag just added, and every tenant it names.
        """
        reads: list[_Read] = []
        for document, other in ((self._new, self._old), (self._old, self._new)):
            if key not in document:
                continue
            steps = self._changed_steps(document, other, key)
            if time_moves and document[key]["enabled"]:
                steps |= {1}
                reads.extend(_every_named_tenant(document, key))
            if steps:
                reads.extend(_prerequisite_reads(document, key))
                reads.extend(_flag_reads(document[key], steps))
                reads.extend(self._named_tenants(document, other, key))
        return _merged(read for read in reads if not self._coverage.carries(read[0], read[1]))

    def _changed_steps(
        self, document: Mapping[str, Any], other: Mapping[str, Any], key: str
    ) -> frozenset[int]:
        """The evaluation steps at which flag `key` of `document` differs from `other`'s;
        none when no answer can differ (off in both, by the kill switch or by being absent,
        or only attributes changed)."""
        flag, before = document[key], other.get(key)
        if not flag["enabled"] and (before is None or not before["enabled"]):
            return frozenset()
        if before is None:
            return frozenset({1})
        steps = []
        if _requirements(document, key) & self._changed:
            steps.append(2)
        for field in set(flag) | set(before):
            if _json(flag.get(field)) != _json(before.get(field)):
                if field in ("stickiness", "salt"):
                    steps.extend(_hashing_steps(flag) | _hashing_steps(before))
                else:
                    steps.append(_STEPS.get(field, _OUTSIDE))
        in_rules = _segments_in_rules(flag) | _segments_in_rules(before)
        segments, old_segments = document.get("_segments", {}), other.get("_segments", {})
        steps.extend(
            4 if name in in_rules else 5
            for name in segments_used(flag) | segments_used(before)
            if _json(segments.get(name)) != _json(old_segments.get(name))
        )
        return frozenset(steps) - {_OUTSIDE}

    def _named_tenants(
        self, document: Mapping[str, Any], other: Mapping[str, Any], key: str
    ) -> Iterator[_Read]:
        """The ids the change adds to or removes from where flag `key` (or a changed flag it
        requires) names tenants, each with where."""
        for name in [key, *sorted(_requirements(document, key) & self._changed)]:
            prefix = "" if name == key else name + "."
            theirs = set(_tenant_places(other, other.get(name)))
            for place, tenant_id in _tenant_places(document, document.get(name)):
                if (place, tenant_id) not in theirs:
                    yield "tenant", tenant_id, prefix + place[0]


def _every_named_tenant(document: Mapping[str, Any], key: str) -> Iterator[_Read]:
    """Every tenant id flag `key` and the flags it requires name, each with where."""
    for name in [key, *sorted(_requirements(document, key))]:
        prefix = "" if name == key else name + "."
        for place, tenant_id in _tenant_places(document, document[name]):
            yield "tenant", tenant_id, prefix + place[0]


def _flag_reads(flag: Mapping[str, Any], steps: frozenset[int]) -> Iterator[_Read]:
    """The tier and attributes that decide whether flag `flag`'s answer changes when it
    differs at evaluation `steps`.

    The changed steps, and every later one when a changed step can decide "off" whatever
    a later step says (1 to 4: the kill switch, a prerequisite, an exclusion, a rule).
    Steps 5 to 8 otherwise: an unchanged one reading what a tenant lacks (its tier, a
    stickiness attribute) can only fail to turn it on, so a tenant without them can show
    a change its real self does not have (more is reported), never the reverse. A flag's
    `split` hashes whatever step turns it on; an earlier rule matters where it tests
    `"exists": false`, which a tenant lacking the attribute matches.
    """
    step = min(steps)
    later = step <= 4
    sticky = _stickiness(flag)
    for rule in flag.get("rules", ()):
        for condition in rule.get("when", ()):
            if step <= 4 or condition.get("exists") is False:
                yield from _input(condition["attribute"], "rules")
        if step <= 4 and _rule_hashes(flag, rule):
            yield from _input(sticky, "rules")
    if "variants" in flag and "split" in flag:
        yield from _input(sticky, "split")
    if (later or 6 in steps) and flag.get("tiers"):
        yield "tier", "tier", "tiers"
    if (later or 7 in steps) and "percentage" in flag:
        yield from _input(sticky, "percentage")


def _prerequisite_reads(document: Mapping[str, Any], key: str) -> Iterator[_Read]:
    """Everything the flags `key` requires (directly or not) read, as `payments.rules`."""
    for name in sorted(_requirements(document, key)):
        for kind, input_name, where in _flag_reads(document[name], frozenset({1})):
            yield kind, input_name, f"{name}.{where}"


def _requirements(document: Mapping[str, Any], key: str) -> set[str]:
    """The flags `key` requires, directly or through others (without recursion)."""
    found: set[str] = set()
    pending = list(document[key].get("requires", ())) if key in document else []
    while pending:
        name = pending.pop()
        if name not in found:
            found.add(name)
            pending.extend(document[name].get("requires", ()))
    return found


def _stickiness(flag: Mapping[str, Any]) -> str:
    return str(flag.get("stickiness", "id"))


def _input(attribute: str, where: str) -> Iterator[_Read]:
    """The input an attribute name reads: none for `id` (every listed tenant has one) nor
    for `now` (the evaluation instant, never a tenant's)."""
    if attribute == "tier":
        yield "tier", "tier", where
    elif attribute not in ("id", NOW):
        yield "attribute", attribute, where


def _hashing_steps(flag: Mapping[str, Any]) -> set[int]:
    """The steps that hash the tenant's stickiness key: a rule's percentage or split (4),
    a split that serves "on" (5, and the later steps that turn it on), the percentage (7)."""
    steps = {4} if any(_rule_hashes(flag, rule) for rule in flag.get("rules", ())) else set()
    if "variants" in flag and "split" in flag:
        steps.add(5)
    if "percentage" in flag:
        steps.add(7)
    return steps


def _rule_hashes(flag: Mapping[str, Any], rule: Mapping[str, Any]) -> bool:
    """Whether a matching rule hashes the tenant: a percentage, a split, or `serve: true`
    on a variant flag whose "on" is a split."""
    serves_split = rule.get("serve") is True and "variants" in flag and "split" in flag
    return "percentage" in rule or "split" in rule or serves_split


def _segments_in_rules(flag: Mapping[str, Any]) -> set[str]:
    return segments_used({"rules": flag.get("rules", ())})


def _tenant_places(
    document: Mapping[str, Any], flag: Mapping[str, Any] | None
) -> list[tuple[tuple[str, ...], str]]:
    """((place, ...), id) for every tenant id flag `flag` names: in `tenants`,
    `excludedTenants`, a segment of `segments`, or a rule condition on `id` (the place
    of which is the rule, as JSON, and its position: moving or editing it counts)."""
    if flag is None:
        return []
    segments = document.get("_segments", {})
    places: list[tuple[tuple[str, ...], str]] = []
    for field in ("tenants", "excludedTenants"):
        places.extend(((field,), tenant_id) for tenant_id in flag.get(field, ()))
    for name in flag.get("segments", ()):
        places.extend((("segments", name), tenant_id) for tenant_id in segments[name])
    for position, rule in enumerate(flag.get("rules", ())):
        place = ("rules", str(position), _json(rule))
        for condition in rule.get("when", ()):
            if condition["attribute"] == "id":
                places.extend((place, tenant_id) for tenant_id in _ids_tested(condition, segments))
    return places


def _ids_tested(condition: Mapping[str, Any], segments: Mapping[str, Any]) -> Iterator[str]:
    for operator in ("equals", "notEquals"):
        if isinstance(condition.get(operator), str):
            yield condition[operator]
    for operator in ("in", "notIn"):
        yield from (value for value in condition.get(operator, ()) if isinstance(value, str))
    for operator in ("inSegment", "notInSegment"):
        if operator in condition:
            yield from segments[condition[operator]]


def _merged(reads: Iterable[_Read]) -> tuple[MissingInput, ...]:
    """One MissingInput per input, in first-seen order, with every place that reads it."""
    places: dict[tuple[InputKind, str], dict[str, None]] = {}
    for kind, name, where in reads:
        places.setdefault((kind, name), {})[where] = None
    return tuple(MissingInput(kind, name, tuple(where)) for (kind, name), where in places.items())


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True)
