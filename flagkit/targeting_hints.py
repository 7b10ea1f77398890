"""Warnings about targeting that certainly does nothing useful; the document is still used.

Three kinds, each named by its JSON path (docs/targeting.md, "Warnings"):

- a rule that is never reached, because an earlier rule matches every tenant (no `when`,
  or an empty one: whatever it serves, a `percentage` or a `split` included, it decides);
- conditions of one rule that no tenant can pass together. Only what is certain is
  reported: a list-valued attribute passes a test when any of its elements does, so
  two positive tests on one attribute (`equals: "a"` and `equals: "b"`, `gt: 5` and
  `lt: 3`) can both hold for `["a", "b"]` or `[1, 9]`. What is certain is a finite set
  of values (`equals`, `in`, `inSegment`, `exists: false`) that another condition
  rejects every one of, when that condition is negated (it then needs every element to
  fail) or the attribute holds one value (`id`, `tier`, `now`); bounds on `now` that
  leave no instant; a schedule whose window is empty;
- time on `now` entirely in the past, a clean-up candidate: `activeUntil` passed (the
  flag is off for good), `activeFrom` passed with no `activeUntil`, a bound on `now`
  (`before`, `after`, `lt`, `lte`, `gt`, `gte`) whose answer can no longer change.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from flagkit.conditions import NOW, compile_condition
from flagkit.errors import Problem
from flagkit.fields import flag_items
from flagkit.flagset import Condition, Operator
from flagkit.schema import format_path

__all__ = ["targeting_warnings"]

Path = tuple[str | int, ...]

_MISSING: Any = object()
"""A probe value: the attribute is absent."""

_ABSENT: Mapping[str, list[Any]] = {"id": [None, ""], "tier": [None]}
"""What `exists: false` admits: no id or an empty one, no tier; else missing or null."""

_SINGLE_VALUED = frozenset({"id", "tier", NOW})
"""Attributes that hold one value, never a list."""

_BOUNDS = {
    Operator.LT: (False, False),
    Operator.BEFORE: (False, False),
    Operator.LTE: (False, True),
    Operator.GT: (True, False),
    Operator.AFTER: (True, False),
    Operator.GTE: (True, True),
}
"""The bound a test on `now` sets: (is it a lower bound, does it include the bound)."""


def targeting_warnings(document: Mapping[str, Any], *, now: float) -> Iterator[Problem]:
    """Every warning about the rules and launch windows of a checked document, in order.

    `now` (seconds since the epoch) is the instant "already past" is judged against.
    """
    raw_segments: Mapping[str, list[str]] = document.get("_segments", {})
    segments = {name: frozenset(ids) for name, ids in raw_segments.items()}
    for key, flag in flag_items(document):
        yield from _launch_window_warnings(key, flag, now)
        rules: list[Mapping[str, Any]] = flag.get("rules", [])
        yield from _unreachable_rules(key, rules)
        for index, rule in enumerate(rules):
            path = (key, "rules", index, "when")
            conditions = _compiled_conditions(rule.get("when", []), segments)
            yield from _contradictions(path, conditions)
            yield from _settled_conditions_on_now(path, conditions, now)


# -- launch windows -----------------------------------------------------------------------


def _launch_window_warnings(key: str, flag: Mapping[str, Any], now: float) -> Iterator[Problem]:
    from flagkit.timestamps import format_timestamp, parse_timestamp

    if "activeUntil" in flag:
        field, consequence = "activeUntil", "the flag is off for good"
    elif "activeFrom" in flag:
        field, consequence = "activeFrom", "the launch window no longer matters"
    else:
        return
    instant = parse_timestamp(flag[field])
    if instant <= now:
        yield Problem(
            format_path([key, field]),
            f"{format_timestamp(instant)} is past, so {consequence} (a clean-up candidate)",
        )


# -- unreachable rules --------------------------------------------------------------------


def _unreachable_rules(key: str, rules: Sequence[Mapping[str, Any]]) -> Iterator[Problem]:
    """Every rule after the first one without conditions: that one decides for everyone."""
    catch_all = next((index for index, rule in enumerate(rules) if not rule.get("when")), None)
    if catch_all is None:
        return
    rule_id = rules[catch_all].get("id")
    name = f"rule {json.dumps(rule_id)}" if rule_id is not None else f"rules[{catch_all}]"
    for index in range(catch_all + 1, len(rules)):
        yield Problem(
            format_path([key, "rules", index]), f"never reached: {name} matches every tenant"
        )


# -- contradictions -----------------------------------------------------------------------


def _compiled_conditions(
    raw_conditions: Sequence[Mapping[str, Any]], segments: Mapping[str, frozenset[str]]
) -> list[tuple[int, Condition]]:
    """(position, compiled condition) of the conditions a warning may be about: those on
    `now`, schedules, and those on an attribute that another condition of the rule tests.

    The document checks have refused every operand that does not compile.
    """
    tested = Counter(raw["attribute"] for raw in raw_conditions)
    return [
        (position, compile_condition(raw, segments))
        for position, raw in enumerate(raw_conditions)
        if raw["attribute"] == NOW or "schedule" in raw or tested[raw["attribute"]] > 1
    ]


def _contradictions(path: Path, conditions: Sequence[tuple[int, Condition]]) -> Iterator[Problem]:
    """The first pair of conditions on each attribute that no tenant passes together, and
    every schedule with an empty window."""
    by_attribute: dict[str, list[tuple[int, Condition]]] = {}
    for position, condition in conditions:
        empty_window = condition.operator is Operator.SCHEDULE and condition.operand.never_matches
        if empty_window and not condition.negate:
            yield Problem(
                format_path([*path, position, "schedule"]),
                "the window is empty, so the rule never matches",
            )
        by_attribute.setdefault(condition.attribute, []).append((position, condition))
    for attribute, tests in by_attribute.items():
        name = json.dumps(attribute, ensure_ascii=False)
        pair = _contradicting_pair(attribute, tests, _contradict)
        if pair is not None:
            first, second = pair
            noun = "instant" if attribute == NOW else "tenant"
            yield Problem(
                format_path([*path, second]),
                f"contradicts when[{first}] on {name}: no {noun} passes both, "
                "so the rule never matches",
            )
            continue
        pair = _contradicting_pair(attribute, tests, _disjoint_bounds_on)
        if pair is not None:  # Certain for one value; a list may still span both bounds.
            first, second = pair
            yield Problem(
                format_path([*path, second]),
                f"contradicts when[{first}] on {name}: no value passes both, so the rule "
                "matches only a list with an element in each range",
            )


def _contradicting_pair(
    attribute: str,
    tests: Sequence[tuple[int, Condition]],
    contradict: Callable[[str, Condition, Condition], bool],
) -> tuple[int, int] | None:
    """(earlier position, later position) of the first pair that `contradict`s, if any."""
    for later in range(1, len(tests)):
        for earlier in range(later):
            (first, one), (second, other) = tests[earlier], tests[later]
            if contradict(attribute, one, other) or contradict(attribute, other, one):
                return first, second
    return None


def _disjoint_bounds_on(attribute: str, one: Condition, other: Condition) -> bool:
    """Bounds (numbers, instants) that no single value passes together, on any attribute
    but `now` (whose bounds `_contradict` already holds certain). Not negated ones: a
    negated bound holds for every value that is no number (a string, a bool)."""
    return attribute != NOW and not (one.negate or other.negate) and _disjoint_bounds(one, other)


def _contradict(attribute: str, one: Condition, other: Condition) -> bool:
    """Whether no tenant passes both: `one` admits finitely many values and `other` rejects
    them all (and a list attribute cannot escape that), or bounds on `now` do not meet."""
    if attribute == NOW and _disjoint_bounds(one, other):
        return True
    values = _only_values(attribute, one)
    if not values:
        return False
    applies_to_every_element = (
        attribute in _SINGLE_VALUED
        or one.operator is Operator.EXISTS  # a missing or null value is not a list
        or other.negate  # a negated test needs every element of a list to fail
        or (other.operator is Operator.EXISTS and other.operand is False)
    )
    return applies_to_every_element and not any(
        other.holds(*_probe(attribute, value)) for value in values
    )


def _only_values(attribute: str, condition: Condition) -> list[Any]:
    """The values (or the elements of a list value) under which `condition` may hold, when
    they are finitely many; empty when they are not (or when there is none at all)."""
    operator = condition.operator
    if operator is Operator.EXISTS:
        if condition.operand is not False or attribute == NOW:
            return []
        candidates: list[Any] = _ABSENT.get(attribute, [_MISSING, None])
    elif condition.negate or condition.ignore_case:
        return []
    elif operator in (Operator.EQUALS, Operator.NOT_EQUALS):
        candidates = [condition.operand]
    elif operator in (Operator.IN, Operator.NOT_IN, Operator.IN_SEGMENT, Operator.NOT_IN_SEGMENT):
        candidates = [value for _, value in condition.operand]  # json_keys: (is bool, value)
    else:
        return []
    return [
        value
        for value in candidates
        if _possible(attribute, value) and condition.holds(*_probe(attribute, value))
    ]


def _possible(attribute: str, value: Any) -> bool:
    """Whether `attribute` can hold `value` at all: `now` is a number, `id` and `tier` text."""
    if attribute == NOW:
        return value.__class__ is int or value.__class__ is float
    if attribute in ("id", "tier"):
        return value is None or value.__class__ is str
    return True


def _probe(attribute: str, value: Any) -> tuple[str | None, str | None, Mapping[str, Any], float]:
    """The arguments of `Condition.holds` for a tenant whose `attribute` is `value`."""
    if attribute == "id":
        return value, None, {}, 0.0
    if attribute == "tier":
        return None, value, {}, 0.0
    if attribute == NOW:
        return None, None, {}, value
    return None, None, ({} if value is _MISSING else {attribute: value}), 0.0


def _disjoint_bounds(one: Condition, other: Condition) -> bool:
    """Whether two bounds leave no number (or instant) between them."""
    bounds = [_bound(one), _bound(other)]
    lower = [bound for bound in bounds if bound is not None and bound[0]]
    upper = [bound for bound in bounds if bound is not None and not bound[0]]
    if not lower or not upper:
        return False
    (_, low, low_included), (_, high, high_included) = lower[0], upper[0]
    return low > high or (low == high and not (low_included and high_included))


def _bound(condition: Condition) -> tuple[bool, float, bool] | None:
    """(is it a lower bound, the bound, is it included) of a bound on `now`, negation applied."""
    shape = _BOUNDS.get(condition.operator)
    if shape is None:
        return None
    is_lower, included = shape
    if condition.negate:  # not (now < b) is now >= b; not (now <= b) is now > b
        is_lower, included = not is_lower, not included
    return is_lower, float(condition.operand), included


# -- time already past --------------------------------------------------------------------


def _settled_conditions_on_now(
    path: Path, conditions: Sequence[tuple[int, Condition]], now: float
) -> Iterator[Problem]:
    """Bounds on `now` whose answer can no longer change."""
    from flagkit.timestamps import format_timestamp

    for position, condition in conditions:
        if condition.attribute != NOW or condition.operator not in _BOUNDS:
            continue
        if any(instant > now for instant in condition.instants):
            continue
        past = format_timestamp(float(condition.operand))
        if condition.holds(*_probe(NOW, now)):
            message = f"{past} is past, so this condition always holds (a clean-up candidate)"
        else:
            message = (
                f"{past} is past, so this condition never holds again and the rule never "
                "matches (a clean-up candidate)"
            )
        yield Problem(format_path([*path, position]), message)
