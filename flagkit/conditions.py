"""A rule's condition, compiled once per document version into one fast function.

`compile_condition` turns `{"attribute": NAME, <test>: OPERAND, <modifiers>}` into a
`Condition` whose `holds(tenant_id, tier, attributes, now)` answers for one
evaluation. Every operand (pattern, version, timestamp, network, schedule) is
parsed here, never per evaluation; the document checks have already refused the
ones that do not parse, so a failure here is a bug.

The rules every test shares (docs/targeting.md):
- `id` is the tenant id, `tier` its tier, `now` the evaluation instant (a tenant
  attribute named `now` is never read); anything else is a tenant attribute.
- A missing attribute fails every test, negated or not; only `"exists": false`
  matches it.
- A list-valued attribute passes when any of its elements does (lists inside it
  included); `negate` then inverts that answer.
- A value of the wrong type for the test fails it; nothing raises.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from flagkit.fields import CONDITION_MODIFIERS
from flagkit.flagset import Condition, Holds, Operator, Test

__all__ = ["NOW", "compile_condition", "json_key"]

NOW = "now"
"""The attribute that names the evaluation instant, in seconds since the Unix epoch."""

_MISSING: Any = object()

_NEGATIONS = {
    Operator.NOT_EQUALS: Operator.EQUALS,
    Operator.NOT_IN: Operator.IN,
    Operator.NOT_IN_SEGMENT: Operator.IN_SEGMENT,
}
"""v1's negative tests are their positive twin, negated."""


def compile_condition(raw: Mapping[str, Any], segments: Mapping[str, frozenset[str]]) -> Condition:
    """The `Condition` of one checked condition object."""
    attribute = raw["attribute"]
    (name,) = (key for key in raw if key != "attribute" and key not in CONDITION_MODIFIERS)
    operator = Operator(name)
    ignore_case = bool(raw.get("ignoreCase", False))
    negate = bool(raw.get("negate", False))
    operand = raw[name]
    if operator is Operator.EXISTS:
        holds_exists = _exists(attribute, operand)
        return Condition(attribute, operator, operand, negate, ignore_case, holds_exists)
    positive = _NEGATIONS.get(operator, operator)
    if positive is not operator:
        negate = not negate
    test, compiled = _test(positive, operand, ignore_case, segments)
    holds = _holds(attribute, test, negate)
    instants: tuple[float, ...] = ()
    schedule = None
    if attribute == NOW:
        instants = _instants(positive, compiled)
        if positive is Operator.SCHEDULE:
            schedule = compiled
            holds = _cached_schedule_on_now(compiled, negate)
    return Condition(attribute, operator, compiled, negate, ignore_case, holds, instants, schedule)


# -- reading the attribute ----------------------------------------------------------------


def _holds(attribute: str, test: Test, negate: bool) -> Holds:
    """`test` applied to the attribute's value: missing fails, a list passes when any element
    does, and `negate` inverts what a present attribute gave."""
    if attribute == "id":

        def holds_on_id(
            tenant_id: str | None, tier: str | None, attributes: Mapping[str, Any], now: float
        ) -> bool:
            return bool(tenant_id) and test(tenant_id) is not negate

        return holds_on_id
    if attribute == "tier":

        def holds_on_tier(
            tenant_id: str | None, tier: str | None, attributes: Mapping[str, Any], now: float
        ) -> bool:
            return tier is not None and test(tier) is not negate

        return holds_on_tier
    if attribute == NOW:

        def holds_on_now(
            tenant_id: str | None, tier: str | None, attributes: Mapping[str, Any], now: float
        ) -> bool:
            return test(now) is not negate

        return holds_on_now

    def holds(
        tenant_id: str | None, tier: str | None, attributes: Mapping[str, Any], now: float
    ) -> bool:
        value = attributes.get(attribute, _MISSING)
        if value is _MISSING:
            return False
        if value.__class__ is list or value.__class__ is tuple:
            return _any_element(test, value) is not negate
        return test(value) is not negate

    return holds


def _exists(attribute: str, wanted: bool) -> Holds:
    if attribute == "id":
        return lambda tenant_id, tier, attributes, now: bool(tenant_id) is wanted
    if attribute == "tier":
        return lambda tenant_id, tier, attributes, now: (tier is not None) is wanted
    if attribute == NOW:
        return lambda tenant_id, tier, attributes, now: wanted
    return lambda tenant_id, tier, attributes, now: (
        (attributes.get(attribute) is not None) is wanted
    )


def _any_element(test: Test, values: list[Any] | tuple[Any, ...]) -> bool:
    return any(test(item) for item in _elements(values))


def _elements(values: list[Any] | tuple[Any, ...]) -> Iterator[Any]:
    """The items of a list attribute, and of the lists inside it at any depth, in order.

    With an explicit stack: a tenant's attribute nested thousands of lists deep must not
    make an evaluation raise `RecursionError`.
    """
    stack = [iter(values)]
    while stack:
        for item in stack[-1]:
            if isinstance(item, list | tuple):
                stack.append(iter(item))
                break
            yield item
        else:
            stack.pop()


# -- the tests ----------------------------------------------------------------------------


def _test(
    operator: Operator, operand: Any, ignore_case: bool, segments: Mapping[str, frozenset[str]]
) -> tuple[Test, Any]:
    """(test of one scalar value, the compiled operand kept on the `Condition`)."""
    if operator is Operator.EQUALS:
        return _equals(operand, ignore_case), operand
    if operator is Operator.IN:
        return _member_of(operand, ignore_case)
    if operator is Operator.IN_SEGMENT:
        return _member_of(sorted(segments[operand]), False)
    if operator in _NUMBER_COMPARISONS:
        return _number_test(operator, operand), operand
    if operator in _TEXT_AFFIXES:
        return _affix_test(operator, operand, ignore_case)
    if operator is Operator.MATCHES:
        from flagkit.patterns import compile_pattern

        search = compile_pattern(operand, ignore_case=ignore_case)
        return (lambda value: value.__class__ is str and search(value)), operand
    if operator in _VERSION_COMPARISONS:
        return _version_test(operator, operand)
    if operator in (Operator.BEFORE, Operator.AFTER):
        return _time_test(operator, operand)
    if operator is Operator.IN_CIDR:
        from flagkit.networks import parse_networks

        networks = parse_networks(operand)
        return networks.contains, networks
    if operator is Operator.SCHEDULE:
        from flagkit.timestamps import timestamp_of
        from flagkit.weekly_schedule import WeeklySchedule

        schedule = WeeklySchedule.parse(operand)
        contains = schedule.contains

        def in_schedule(value: Any) -> bool:
            instant = timestamp_of(value)
            return instant is not None and contains(instant)

        return in_schedule, schedule
    raise AssertionError(f"no test for {operator}")  # pragma: no cover - the schema lists them


def json_key(value: Any) -> tuple[bool, Any]:
    """A key under which values compare as JSON's do: `true` and `1` differ, `1` and `1.0` not.

    Python's own `True == 1` would otherwise merge them in sets and comparisons.
    """
    return (value.__class__ is bool, value)


def _equals(expected: Any, ignore_case: bool) -> Test:
    if expected.__class__ is str:
        if ignore_case:
            folded = expected.casefold()
            return lambda value: value.__class__ is str and value.casefold() == folded
        return lambda value: value.__class__ is str and value == expected
    wanted = json_key(expected)

    def equals(value: Any) -> bool:
        return bool(json_key(value) == wanted)

    return equals


def _member_of(members: list[Any], ignore_case: bool) -> tuple[Test, frozenset[Any]]:
    """Membership among `json_key`s (so that true and 1 stay apart); an object is in no list."""
    if ignore_case:
        members = [m.casefold() if m.__class__ is str else m for m in members]
    keys = frozenset(json_key(member) for member in members)
    texts = frozenset(member for member in members if member.__class__ is str)

    def member_of(value: Any) -> bool:
        if value.__class__ is str:
            return (value.casefold() if ignore_case else value) in texts
        try:
            return json_key(value) in keys
        except TypeError:  # Unhashable (a JSON object) is in no list.
            return False

    return member_of, keys


def _is_number(value: Any) -> bool:
    return value.__class__ is int or value.__class__ is float


_NUMBER_COMPARISONS = frozenset({Operator.LT, Operator.LTE, Operator.GT, Operator.GTE})


def _number_test(operator: Operator, bound: float) -> Test:
    """A JSON number (an int or a float: never a bool, never a numeric string) compared so."""
    if operator is Operator.LT:
        return lambda value: (value.__class__ is int or value.__class__ is float) and value < bound
    if operator is Operator.LTE:
        return lambda value: (value.__class__ is int or value.__class__ is float) and value <= bound
    if operator is Operator.GT:
        return lambda value: (value.__class__ is int or value.__class__ is float) and value > bound
    return lambda value: (value.__class__ is int or value.__class__ is float) and value >= bound


_TEXT_AFFIXES = frozenset({Operator.STARTS_WITH, Operator.ENDS_WITH, Operator.CONTAINS})


def _affix_test(operator: Operator, operand: Any, ignore_case: bool) -> tuple[Test, Any]:
    texts = (operand,) if isinstance(operand, str) else tuple(operand)
    if ignore_case:
        texts = tuple(text.casefold() for text in texts)

    def fold(value: str) -> str:
        return value.casefold() if ignore_case else value

    if operator is Operator.STARTS_WITH:
        return (lambda value: value.__class__ is str and fold(value).startswith(texts)), texts
    if operator is Operator.ENDS_WITH:
        return (lambda value: value.__class__ is str and fold(value).endswith(texts)), texts

    def contains(value: Any) -> bool:
        if value.__class__ is not str:
            return False
        folded = fold(value)
        return any(text in folded for text in texts)

    return contains, texts


_VERSION_COMPARISONS = frozenset(
    {
        Operator.VERSION_EQUALS,
        Operator.VERSION_LT,
        Operator.VERSION_LTE,
        Operator.VERSION_GT,
        Operator.VERSION_GTE,
    }
)


def _version_test(operator: Operator, operand: str) -> tuple[Test, Any]:
    from flagkit.semver import parse_semver, semver_key

    bound = parse_semver(operand)
    comparisons: dict[Operator, Callable[[Any], bool]] = {
        Operator.VERSION_EQUALS: lambda key: key == bound,
        Operator.VERSION_LT: lambda key: key < bound,
        Operator.VERSION_LTE: lambda key: key <= bound,
        Operator.VERSION_GT: lambda key: key > bound,
        Operator.VERSION_GTE: lambda key: key >= bound,
    }
    compare = comparisons[operator]

    def version_test(value: Any) -> bool:
        key = semver_key(value)
        return key is not None and compare(key)

    return version_test, bound


def _time_test(operator: Operator, operand: str) -> tuple[Test, float]:
    from flagkit.timestamps import parse_timestamp, timestamp_of

    bound = parse_timestamp(operand)
    if operator is Operator.BEFORE:

        def before(value: Any) -> bool:
            instant = value if value.__class__ is float else timestamp_of(value)
            return instant is not None and instant < bound

        return before, bound

    def after(value: Any) -> bool:
        instant = value if value.__class__ is float else timestamp_of(value)
        return instant is not None and instant > bound

    return after, bound


# -- conditions on `now` ------------------------------------------------------------------


def _instants(operator: Operator, operand: Any) -> tuple[float, ...]:
    """The fixed instants at which a condition on `now` may change its answer.

    Intervals are half-open, `[change, next change)`: `now < t` changes at t, `now <= t`
    just after t.
    """
    if operator in (Operator.LT, Operator.GTE, Operator.BEFORE):
        return (float(operand),)
    if operator in (Operator.LTE, Operator.GT, Operator.AFTER):
        return (math.nextafter(float(operand), math.inf),)
    if operator in (Operator.EQUALS, Operator.IN):
        numbers = [key[1] for key in (operand if operator is Operator.IN else [json_key(operand)])]
        return tuple(
            instant
            for number in numbers
            if _is_number(number)
            for instant in (float(number), math.nextafter(float(number), math.inf))
        )
    return ()


def _cached_schedule_on_now(schedule: Any, negate: bool) -> Holds:
    """A schedule tested on `now`: its answer is remembered until the next instant it may
    change (`WeeklySchedule.next_change`), so most evaluations compare two floats."""
    known: tuple[float, float, bool] = (math.inf, -math.inf, False)  # (start, end, answer)

    def holds_on_schedule(
        tenant_id: str | None, tier: str | None, attributes: Mapping[str, Any], now: float
    ) -> bool:
        nonlocal known
        start, end, answer = known
        if start <= now < end:
            return answer
        answer = schedule.contains(now) is not negate
        known = (now, schedule.next_change(now), answer)  # One tuple: a racing reader sees
        return answer  # the old interval or the new one, both true for their instants.

    return holds_on_schedule
