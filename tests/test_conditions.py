"""Every condition test and modifier of targeting v2, through `Flags`, both ways.

One row per case: the condition, the tenant's attributes and whether the rule matches.
The v1 tests (equals, in, segments, exists) keep their own table in test_evaluation.py;
the rows here are the new tests, the modifiers on old and new tests, and the cases
users trip over: missing attributes, wrong types, list-valued attributes.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flagkit import Flags, Tenant

NOW = 1_798_102_800.0  # 2026-12-24T09:00:00Z, a Thursday
SEGMENTS = {"beta": ["acme", "globex"]}


def flags_with(condition: Mapping[str, Any], now: float = NOW) -> Flags:
    document = {
        "_segments": SEGMENTS,
        "f": {"enabled": True, "rules": [{"when": [condition], "serve": True}]},
    }
    return Flags.from_dict(document, clock=lambda: now)


def holds(condition: Mapping[str, Any], attributes: Mapping[str, Any], now: float = NOW) -> bool:
    tenant = Tenant(str(attributes.get("id", "t")), attributes.get("tier"), attributes)
    evaluation = flags_with(condition, now).evaluate("f", tenant)
    assert evaluation.error_code is None, evaluation.error_message
    return evaluation.rule == "rules[0]"


def case(name: str, condition: dict[str, Any], attributes: dict[str, Any], expected: bool) -> Any:
    return pytest.param(condition, attributes, expected, id=name)


CASES = [
    # numbers: strict, never a bool or a numeric string
    case("lt/less", {"attribute": "seats", "lt": 50}, {"seats": 49}, True),
    case("lt/equal", {"attribute": "seats", "lt": 50}, {"seats": 50}, False),
    case("lte/equal", {"attribute": "seats", "lte": 50}, {"seats": 50}, True),
    case("lte/more", {"attribute": "seats", "lte": 50}, {"seats": 50.5}, False),
    case("gt/more", {"attribute": "seats", "gt": 50}, {"seats": 51}, True),
    case("gt/equal", {"attribute": "seats", "gt": 50}, {"seats": 50}, False),
    case("gte/equal-float", {"attribute": "seats", "gte": 50}, {"seats": 50.0}, True),
    case("gte/less", {"attribute": "seats", "gte": 50}, {"seats": 49.99}, False),
    case("gt/numeric-string", {"attribute": "seats", "gt": 5}, {"seats": "51"}, False),
    case("gt/bool-is-not-a-number", {"attribute": "flag", "gt": 0}, {"flag": True}, False),
    case("lt/null", {"attribute": "seats", "lt": 5}, {"seats": None}, False),
    case("gt/list-any", {"attribute": "seats", "gt": 5}, {"seats": [1, 9]}, True),
    case("gt/list-none", {"attribute": "seats", "gt": 5}, {"seats": [1, 2]}, False),
    case("gt/missing", {"attribute": "seats", "gt": 5}, {}, False),
    # text
    case(
        "startsWith/yes", {"attribute": "email", "startsWith": "ops@"}, {"email": "ops@a.io"}, True
    ),
    case("startsWith/no", {"attribute": "email", "startsWith": "ops@"}, {"email": "x@a.io"}, False),
    case(
        "startsWith/any-of-list",
        {"attribute": "region", "startsWith": ["eu-", "us-"]},
        {"region": "us-east-1"},
        True,
    ),
    case(
        "endsWith/yes",
        {"attribute": "email", "endsWith": "@acme.com"},
        {"email": "j@acme.com"},
        True,
    ),
    case(
        "endsWith/case",
        {"attribute": "email", "endsWith": "@acme.com"},
        {"email": "j@ACME.com"},
        False,
    ),
    case("contains/yes", {"attribute": "plan", "contains": "pro"}, {"plan": "team-pro-2"}, True),
    case("contains/no", {"attribute": "plan", "contains": "pro"}, {"plan": "team"}, False),
    case("contains/not-text", {"attribute": "plan", "contains": "1"}, {"plan": 123}, False),
    case(
        "contains/list-attribute",
        {"attribute": "tags", "contains": "beta"},
        {"tags": ["alpha", "beta-1"]},
        True,
    ),
    # matches: an unanchored RE2 search
    case(
        "matches/search", {"attribute": "email", "matches": "acme"}, {"email": "j@acme.com"}, True
    ),
    case(
        "matches/anchored",
        {"attribute": "email", "matches": "^acme"},
        {"email": "j@acme.com"},
        False,
    ),
    case("matches/class", {"attribute": "build", "matches": r"^\d+$"}, {"build": "1234"}, True),
    case("matches/not-text", {"attribute": "build", "matches": r"\d"}, {"build": 1234}, False),
    # versions: strict SemVer 2.0.0 precedence
    case("versionGte/equal", {"attribute": "app", "versionGte": "2.3.0"}, {"app": "2.3.0"}, True),
    case("versionGte/newer", {"attribute": "app", "versionGte": "2.3.0"}, {"app": "2.10.0"}, True),
    case("versionGte/older", {"attribute": "app", "versionGte": "2.3.0"}, {"app": "2.2.9"}, False),
    case(
        "versionGte/pre-release-is-below",
        {"attribute": "app", "versionGte": "2.3.0"},
        {"app": "2.3.0-rc.1"},
        False,
    ),
    case(
        "versionLt/pre-release",
        {"attribute": "app", "versionLt": "2.3.0"},
        {"app": "2.3.0-rc.1"},
        True,
    ),
    case("versionLt/equal", {"attribute": "app", "versionLt": "2.3.0"}, {"app": "2.3.0"}, False),
    case("versionLte/equal", {"attribute": "app", "versionLte": "2.3.0"}, {"app": "2.3.0"}, True),
    case("versionGt/newer", {"attribute": "app", "versionGt": "2.3.0"}, {"app": "2.3.1"}, True),
    case("versionGt/equal", {"attribute": "app", "versionGt": "2.3.0"}, {"app": "2.3.0"}, False),
    case(
        "versionEquals/build-ignored",
        {"attribute": "app", "versionEquals": "2.3.0"},
        {"app": "2.3.0+build.7"},
        True,
    ),
    case(
        "versionEquals/other",
        {"attribute": "app", "versionEquals": "2.3.0"},
        {"app": "2.3.1"},
        False,
    ),
    case(
        "version/v-prefix-fails",
        {"attribute": "app", "versionGte": "1.0.0"},
        {"app": "v2.0.0"},
        False,
    ),
    case(
        "version/two-parts-fails",
        {"attribute": "app", "versionGte": "1.0.0"},
        {"app": "2.0"},
        False,
    ),
    case("version/number-fails", {"attribute": "app", "versionGte": "1.0.0"}, {"app": 2}, False),
    # time: exclusive bounds; RFC 3339 strings with an offset or epoch seconds
    case(
        "before/earlier",
        {"attribute": "signup", "before": "2026-01-01T00:00:00Z"},
        {"signup": "2025-12-31T23:59:59Z"},
        True,
    ),
    case(
        "before/same-instant-is-not-before",
        {"attribute": "signup", "before": "2026-01-01T00:00:00Z"},
        {"signup": "2026-01-01T01:00:00+01:00"},
        False,
    ),
    case(
        "after/epoch-seconds",
        {"attribute": "signup", "after": "2026-01-01T00:00:00Z"},
        {"signup": 1_767_225_601},
        True,
    ),
    case(
        "after/same-instant-is-not-after",
        {"attribute": "signup", "after": "2026-01-01T00:00:00Z"},
        {"signup": 1_767_225_600},
        False,
    ),
    case(
        "after/no-offset-fails",
        {"attribute": "signup", "after": "2020-01-01T00:00:00Z"},
        {"signup": "2026-01-01T00:00:00"},
        False,
    ),
    case(
        "after/bool-fails",
        {"attribute": "signup", "after": "1970-01-01T00:00:00Z"},
        {"signup": True},
        False,
    ),
    # networks
    case("inCidr/v4", {"attribute": "ip", "inCidr": ["10.0.0.0/8"]}, {"ip": "10.1.2.3"}, True),
    case(
        "inCidr/v4-outside",
        {"attribute": "ip", "inCidr": ["10.0.0.0/8"]},
        {"ip": "11.1.2.3"},
        False,
    ),
    case(
        "inCidr/v6", {"attribute": "ip", "inCidr": ["2001:db8::/32"]}, {"ip": "2001:db8::1"}, True
    ),
    case(
        "inCidr/one-address",
        {"attribute": "ip", "inCidr": ["192.0.2.7"]},
        {"ip": "192.0.2.7"},
        True,
    ),
    case(
        "inCidr/not-an-address",
        {"attribute": "ip", "inCidr": ["10.0.0.0/8"]},
        {"ip": "10.x"},
        False,
    ),
    # schedules on a tenant's timestamp
    case(
        "schedule/inside",
        {"attribute": "seen", "schedule": {"days": ["THU"], "from": "09:00", "to": "17:00"}},
        {"seen": "2026-12-24T10:00:00Z"},
        True,
    ),
    case(
        "schedule/other-day",
        {"attribute": "seen", "schedule": {"days": ["FRI"], "from": "09:00", "to": "17:00"}},
        {"seen": "2026-12-24T10:00:00Z"},
        False,
    ),
    case(
        "schedule/time-zone",
        {
            "attribute": "seen",
            "schedule": {"from": "09:00", "to": "10:00", "timezone": "Europe/Berlin"},
        },
        {"seen": "2026-12-24T08:30:00Z"},
        True,
    ),
    # ignoreCase: Unicode case folding on both sides
    case(
        "ignoreCase/equals",
        {"attribute": "country", "equals": "DE", "ignoreCase": True},
        {"country": "de"},
        True,
    ),
    case(
        "ignoreCase/equals-folding",
        {"attribute": "street", "equals": "STRASSE", "ignoreCase": True},
        {"street": "straße"},
        True,
    ),
    case(
        "ignoreCase/in",
        {"attribute": "country", "in": ["DE", "AT"], "ignoreCase": True},
        {"country": "at"},
        True,
    ),
    case(
        "ignoreCase/notIn",
        {"attribute": "country", "notIn": ["DE", "AT"], "ignoreCase": True},
        {"country": "at"},
        False,
    ),
    case(
        "ignoreCase/endsWith",
        {"attribute": "email", "endsWith": "@acme.com", "ignoreCase": True},
        {"email": "J@ACME.COM"},
        True,
    ),
    case(
        "ignoreCase/matches",
        {"attribute": "email", "matches": "^j@", "ignoreCase": True},
        {"email": "J@acme.com"},
        True,
    ),
    case(
        "ignoreCase/off-is-exact",
        {"attribute": "country", "equals": "DE"},
        {"country": "de"},
        False,
    ),
    # negate: inverted for a present attribute; a missing one still fails
    case(
        "negate/equals",
        {"attribute": "region", "equals": "eu", "negate": True},
        {"region": "us"},
        True,
    ),
    case(
        "negate/equals-same",
        {"attribute": "region", "equals": "eu", "negate": True},
        {"region": "eu"},
        False,
    ),
    case(
        "negate/missing-fails", {"attribute": "region", "equals": "eu", "negate": True}, {}, False
    ),
    case(
        "negate/notEquals",
        {"attribute": "region", "notEquals": "eu", "negate": True},
        {"region": "eu"},
        True,
    ),
    case(
        "negate/gt-wrong-type",
        {"attribute": "seats", "gt": 5, "negate": True},
        {"seats": "x"},
        True,
    ),
    case(
        "negate/list-none-match",
        {"attribute": "tags", "contains": "beta", "negate": True},
        {"tags": ["alpha", "gamma"]},
        True,
    ),
    case(
        "negate/list-one-matches",
        {"attribute": "tags", "contains": "beta", "negate": True},
        {"tags": ["alpha", "beta"]},
        False,
    ),
    case(
        "negate/inSegment",
        {"attribute": "id", "inSegment": "beta", "negate": True},
        {"id": "initech"},
        True,
    ),
    case(
        "negate/version-missing",
        {"attribute": "app", "versionLt": "2.0.0", "negate": True},
        {},
        False,
    ),
    # `now` is the clock's, never the tenant's
    case(
        "now/after",
        {"attribute": "now", "after": "2026-12-24T08:59:59Z"},
        {},
        True,
    ),
    case(
        "now/before",
        {"attribute": "now", "before": "2026-12-24T09:00:00Z"},
        {},
        False,
    ),
    case(
        "now/tenant-attribute-ignored",
        {"attribute": "now", "before": "2026-12-24T09:00:00Z"},
        {"now": "2020-01-01T00:00:00Z"},
        False,
    ),
    case("now/gte-seconds", {"attribute": "now", "gte": NOW}, {}, True),
    case("now/exists", {"attribute": "now", "exists": True}, {}, True),
    case(
        "now/schedule",
        {"attribute": "now", "schedule": {"days": ["THU"], "from": "09:00", "to": "09:01"}},
        {},
        True,
    ),
    case(
        "now/schedule-negated",
        {"attribute": "now", "schedule": {"days": ["THU"], "from": "09:00"}, "negate": True},
        {},
        False,
    ),
]


@pytest.mark.parametrize(("condition", "attributes", "expected"), CASES)
def test_condition(condition: dict[str, Any], attributes: dict[str, Any], expected: bool) -> None:
    assert holds(condition, attributes) is expected


def test_a_catastrophic_pattern_for_python_re_answers_in_microseconds() -> None:
    """`(a+)+$` backtracks for about 2**30 steps in Python's `re`; RE2 is linear."""
    flags = flags_with({"attribute": "name", "matches": "(a+)+$"})
    tenant = Tenant("t", attributes={"name": "a" * 30 + "!"})
    assert flags.enabled("f", tenant) is False
    start = time.perf_counter()
    for _ in range(1_000):
        flags.enabled("f", tenant)
    assert (time.perf_counter() - start) / 1_000 < 100e-6  # microseconds, not minutes


PRESENT_VALUES = st.one_of(
    st.integers(-100, 100),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.booleans(),
    st.text(max_size=8),
    st.sampled_from(["2.3.0", "2.3.0-rc.1", "10.0.0.1", "2026-12-24T09:00:00Z", "DE", "de"]),
    st.lists(st.sampled_from(["eu", "us", "DE", "beta", 3, 7.5]), max_size=3),
)
TESTS = [
    {"equals": "DE", "ignoreCase": True},
    {"in": ["eu", 3]},
    {"notIn": ["eu"]},
    {"gt": 5},
    {"lte": 5.5},
    {"startsWith": ["b", "D"]},
    {"contains": "e"},
    {"matches": "^[a-z]+$"},
    {"versionGte": "2.3.0"},
    {"after": "2026-01-01T00:00:00Z"},
    {"inCidr": ["10.0.0.0/8"]},
    {"schedule": {"days": ["THU"]}},
]


@given(test=st.sampled_from(TESTS), value=PRESENT_VALUES)
def test_negate_inverts_exactly_for_a_present_attribute(
    test: dict[str, Any], value: object
) -> None:
    plain = holds({"attribute": "x", **test}, {"x": value})
    negated = holds({"attribute": "x", **test, "negate": True}, {"x": value})
    assert negated is (not plain)


@pytest.mark.parametrize("test", TESTS, ids=lambda test: next(iter(test)))
def test_a_missing_attribute_fails_every_test_negated_or_not(test: dict[str, Any]) -> None:
    assert holds({"attribute": "x", **test}, {}) is False
    assert holds({"attribute": "x", **test, "negate": True}, {}) is False
    assert holds({"attribute": "x", "exists": False}, {}) is True
