"""The evaluation order of the contract, step by step, and the precedence between the steps.

Every case asserts the whole answer of `Flags.evaluate`:
`(value, enabled, variant, reason, rule, error_code)`. Percentage cases name tenants
whose rank is known from the public formula (`rank = (h % 100) * 100 + (h // 100) % 100`
with `h = murmur3_32(f"{salt}:{id}")`); the ranks are written next to them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any, NamedTuple

import mmh3
import pytest

from flagkit import ErrorCode, Evaluation, Flags, Reason, Tenant

DIS = Reason.DISABLED
TM = Reason.TARGETING_MATCH
SPLIT = Reason.SPLIT
DEF = Reason.DEFAULT
STATIC = Reason.STATIC
ERR = Reason.ERROR
MISSING = ErrorCode.TARGETING_KEY_MISSING

Answer = tuple[Any, bool, str | None, Reason, str | None, ErrorCode | None]

ON_STATIC: Answer = (True, True, "on", STATIC, "static", None)
OFF_DEFAULT: Answer = (False, False, "off", DEF, "default", None)
KILLED: Answer = (False, False, "off", DIS, "kill-switch", None)


def on(reason: Reason, rule: str) -> Answer:
    return (True, True, "on", reason, rule, None)


def off(reason: Reason, rule: str) -> Answer:
    return (False, False, "off", reason, rule, None)


def missing_key(default: Any) -> Answer:
    return (default, False, None, ERR, None, MISSING)


def unhashable(default: Any) -> Answer:
    return (default, False, None, ERR, None, ErrorCode.INVALID_CONTEXT)


ERROR_MESSAGES = {
    None: None,
    MISSING: "flag {!r} needs a tenant id to decide, and none was given",
    ErrorCode.INVALID_CONTEXT: (
        "flag {!r} hashes a tenant id or attribute that is not valid Unicode text "
        "(it has a lone surrogate)"
    ),
}
LONE_SURROGATE = "tenant-\udcff"


def answer(evaluation: Evaluation) -> Answer:
    return (
        evaluation.value,
        evaluation.enabled,
        evaluation.variant,
        evaluation.reason,
        evaluation.rule,
        evaluation.error_code,
    )


# Ranks (0 ... 9999) under the salts used below:
#   salt "pct":    wayne 1932, globex 3958, initech 6221, acme 6559
#   salt "other":  wayne 3725, initech 5474, acme 5688, globex 9266
#   salt "shared": initech 2467, globex 2807, acme 7713
#   salt "sticky": "u-4" 1216, "12" 1582, "7" 3660, "42" 6383, "u-1" 7962, "8" 9595,
#                  cyberdyne 9943
DOC: dict[str, Any] = {
    "$schema": "../schemas/flags.v1.schema.json",
    "_segments": {
        "beta": ["acme", "globex", "hooli"],
        "vip": ["globex", "stark"],
    },
    # Step 1: the kill switch, with every other step that would turn it on.
    "killed": {
        "enabled": False,
        "requires": ["payments"],
        "rules": [{"when": [], "serve": True}],
        "tenants": ["acme"],
        "segments": ["beta"],
        "tiers": ["gold"],
        "percentage": 100,
    },
    # Step 2: prerequisites.
    "payments": {"enabled": True},
    "paymentsOff": {"enabled": False},
    "betaOnly": {"enabled": True, "tenants": ["acme"]},
    "needsPayments": {"enabled": True, "requires": ["payments"]},
    "needsOff": {
        "enabled": True,
        "requires": ["payments", "paymentsOff"],
        "tenants": ["acme"],
        "tiers": ["gold"],
    },
    "needsBeta": {"enabled": True, "requires": ["betaOnly"]},
    "chain": {"enabled": True, "requires": ["needsBeta"]},
    "needsBetaTargeted": {"enabled": True, "requires": ["betaOnly"], "tenants": ["globex"]},
    "needsExcluder": {"enabled": True, "requires": ["staticExcl"]},
    "needsPct": {"enabled": True, "requires": ["pctAll"]},
    # Step 3: excluded tenants beat rules, tenants, segments, tiers and percentage.
    "excl": {
        "enabled": True,
        "excludedTenants": ["acme", "stark", "wayne"],
        "rules": [{"when": [{"attribute": "id", "in": ["acme", "wayne"]}], "serve": True}],
        "tenants": ["acme"],
        "segments": ["vip"],
        "tiers": ["gold"],
        "percentage": 100,
    },
    "staticExcl": {"enabled": True, "excludedTenants": ["initech"]},
    # Step 4: ordered rules, first match wins, then steps 5 ...
    "ruled": {
        "enabled": True,
        "rules": [
            {"id": "no-trials", "when": [{"attribute": "plan", "equals": "trial"}], "serve": False},
            {"when": [{"attribute": "region", "in": ["eu-west-1", "eu-central-1"]}], "serve": True},
            {
                "id": "never",
                "when": [{"attribute": "region", "equals": "eu-west-1"}],
                "serve": False,
            },
        ],
        "tenants": ["hooli"],
        "tiers": ["gold"],
    },
    "rulePct": {
        "enabled": True,
        "salt": "pct",
        "rules": [
            {"id": "half-eu", "when": [{"attribute": "region", "equals": "eu"}], "percentage": 50},
            {"when": [{"attribute": "region", "equals": "us"}], "percentage": 50},
        ],
        "tenants": ["acme", "globex"],
    },
    # Step 5: tenants, then segments in the order the flag lists them.
    "targeted": {"enabled": True, "tenants": ["acme"], "segments": ["beta", "vip"]},
    "segFirst": {"enabled": True, "segments": ["vip", "beta"]},
    "tenantsBeforeTiers": {"enabled": True, "tenants": ["acme"], "tiers": ["gold"]},
    # Step 6: tiers.
    "tiered": {"enabled": True, "tiers": ["gold", "platinum"]},
    "tiersBeforePct": {"enabled": True, "tiers": ["gold"], "percentage": 0},
    # Step 7: percentage, salt and stickiness.
    "pct": {"enabled": True, "percentage": 50},
    "pctSameSalt": {"enabled": True, "percentage": 50, "salt": "pct"},
    "pctOtherSalt": {"enabled": True, "percentage": 50, "salt": "other"},
    "pctShared": {"enabled": True, "percentage": 50, "salt": "shared"},
    "pctEdgeOut": {"enabled": True, "percentage": 65.59, "salt": "pct"},
    "pctEdgeIn": {"enabled": True, "percentage": 65.6, "salt": "pct"},
    "pctZero": {"enabled": True, "percentage": 0},
    "pctAll": {"enabled": True, "percentage": 100},
    "sticky": {"enabled": True, "percentage": 50, "stickiness": "userId"},
    "stickyAll": {"enabled": True, "percentage": 100, "stickiness": "userId", "tenants": ["x"]},
    # Step 8: static on, or default off.
    "static": {"enabled": True, "description": "no targeting at all"},
    "staticEmpty": {
        "enabled": True,
        "rules": [],
        "tenants": [],
        "segments": [],
        "tiers": [],
        "excludedTenants": [],
        "requires": [],
    },
    "withAttrs": {
        "enabled": True,
        "description": "not an attribute",
        "tenants": ["acme"],
        "salt": "not an attribute either",
        "temperature": 0.7,
        "bedrockModelId": "anthropic.claude",
        "limits": {"rpm": 60},
    },
}


class Case(NamedTuple):
    name: str
    flag: str
    tenant: object
    default: Any
    expected: Answer


def gold(tenant_id: str | None) -> Tenant:
    return Tenant(tenant_id, tier="gold")


def attrs(tenant_id: str | None, **attributes: Any) -> Tenant:
    return Tenant(tenant_id, attributes=attributes)


CASES = [
    # -- 1. kill switch: beats everything; a boolean flag ignores the caller's default.
    Case("kill/listed-tenant", "killed", "acme", None, KILLED),
    Case("kill/default-true-ignored", "killed", gold("acme"), True, KILLED),
    Case("kill/no-tenant-id", "killed", None, True, KILLED),
    Case("kill/empty-tenant-id", "killed", "", True, KILLED),
    Case("kill/prerequisite", "needsOff", "acme", None, off(TM, "requires:paymentsOff")),
    # -- 2. requires
    Case("requires/on-prerequisite", "needsPayments", "acme", None, ON_STATIC),
    Case("requires/off-beats-tenants", "needsOff", "acme", None, off(TM, "requires:paymentsOff")),
    Case("requires/off-beats-tiers", "needsOff", gold("x"), True, off(TM, "requires:paymentsOff")),
    Case("requires/targeted-prereq-on", "needsBeta", "acme", None, ON_STATIC),
    Case("requires/targeted-prereq-off", "needsBeta", "globex", True, off(TM, "requires:betaOnly")),
    Case("requires/chain-on", "chain", "acme", None, ON_STATIC),
    Case("requires/chain-names-direct", "chain", "globex", None, off(TM, "requires:needsBeta")),
    Case("requires/prereq-then-own-step", "needsBetaTargeted", "acme", None, OFF_DEFAULT),
    Case(
        "requires/prereq-fails-first",
        "needsBetaTargeted",
        "globex",
        None,
        off(TM, "requires:betaOnly"),
    ),
    Case(
        "requires/prereq-excluded", "needsExcluder", "initech", None, off(TM, "requires:staticExcl")
    ),
    Case("requires/prereq-not-excluded", "needsExcluder", "acme", None, ON_STATIC),
    # A tenant without an id is in no list, so a listing prerequisite is off for it.
    Case("requires/prereq-list-no-id", "needsBeta", None, "D", off(TM, "requires:betaOnly")),
    Case("requires/chain-list-empty-id", "chain", "", True, off(TM, "requires:needsBeta")),
    Case("requires/static-prereq-no-id", "needsPayments", None, None, ON_STATIC),
    # -- 3. excludedTenants beats rules, tenants, segments, tiers and percentage.
    Case("excluded/beats-rule-and-tenants", "excl", "acme", True, off(TM, "excludedTenants")),
    Case("excluded/beats-rule-and-pct", "excl", "wayne", None, off(TM, "excludedTenants")),
    Case(
        "excluded/beats-segment-and-tier", "excl", gold("stark"), None, off(TM, "excludedTenants")
    ),
    Case("excluded/others-segment", "excl", "globex", None, on(TM, "segments:vip")),
    Case("excluded/others-tier", "excl", gold("initech"), None, on(TM, "tiers")),
    Case("excluded/others-percentage", "excl", "initech", None, on(SPLIT, "percentage")),
    Case("excluded/case-sensitive", "excl", "ACME", None, on(SPLIT, "percentage")),
    Case("excluded/static-flag-others-on", "staticExcl", "acme", None, ON_STATIC),
    Case(
        "excluded/static-flag-excluded", "staticExcl", "initech", True, off(TM, "excludedTenants")
    ),
    # -- 4. rules: first match wins, by id or by index; no match falls through to step 5.
    Case(
        "rules/first-match-serve-false-beats-later",
        "ruled",
        attrs("x", plan="trial", region="eu-west-1"),
        None,
        off(TM, "no-trials"),
    ),
    Case(
        "rules/second-rule-by-index",
        "ruled",
        attrs("x", plan="pro", region="eu-west-1"),
        None,
        on(TM, "rules[1]"),
    ),
    Case(
        "rules/serve-false-beats-tenants",
        "ruled",
        attrs("hooli", plan="trial"),
        None,
        off(TM, "no-trials"),
    ),
    Case(
        "rules/fall-through-to-tenants",
        "ruled",
        attrs("hooli", region="us-east-1"),
        None,
        on(TM, "tenants"),
    ),
    Case(
        "rules/fall-through-to-tiers",
        "ruled",
        Tenant("x", "gold", {"region": "ap"}),
        None,
        on(TM, "tiers"),
    ),
    Case(
        "rules/fall-through-to-default", "ruled", attrs("x", region="us-east-1"), True, OFF_DEFAULT
    ),
    Case("rules/no-attributes", "ruled", "x", None, OFF_DEFAULT),
    Case(
        "rules/pct-on-labelled", "rulePct", attrs("globex", region="eu"), None, on(SPLIT, "half-eu")
    ),
    Case(
        "rules/pct-off-labelled", "rulePct", attrs("acme", region="eu"), True, off(SPLIT, "half-eu")
    ),
    Case("rules/pct-on-index", "rulePct", attrs("wayne", region="us"), None, on(SPLIT, "rules[1]")),
    Case(
        "rules/pct-off-index",
        "rulePct",
        attrs("initech", region="us"),
        None,
        off(SPLIT, "rules[1]"),
    ),
    Case(
        "rules/pct-no-match-to-tenants",
        "rulePct",
        attrs("acme", region="ap"),
        None,
        on(TM, "tenants"),
    ),
    Case("rules/pct-needs-id", "rulePct", {"region": "eu"}, "D", missing_key("D")),
    # -- 5. tenants, then segments in the flag's order; the first listing wins.
    Case("targets/tenants-before-segment", "targeted", "acme", None, on(TM, "tenants")),
    Case("targets/first-segment", "targeted", "globex", None, on(TM, "segments:beta")),
    Case("targets/only-in-second-segment", "targeted", "stark", None, on(TM, "segments:vip")),
    Case("targets/segment-order-of-flag", "segFirst", "globex", None, on(TM, "segments:vip")),
    Case("targets/segment-beta", "segFirst", "hooli", None, on(TM, "segments:beta")),
    Case("targets/not-listed", "targeted", "wayne", True, OFF_DEFAULT),
    Case("targets/case-sensitive", "targeted", "Acme", None, OFF_DEFAULT),
    # A tenant without an id is in no list; only hashing needs an id.
    Case("targets/no-id", "targeted", None, "D", OFF_DEFAULT),
    Case("targets/empty-id", "targeted", "", False, OFF_DEFAULT),
    Case(
        "targets/tenants-before-tiers", "tenantsBeforeTiers", gold("acme"), None, on(TM, "tenants")
    ),
    # -- 6. tiers
    Case("tiers/listed", "tiered", gold("x"), None, on(TM, "tiers")),
    Case("tiers/second-listed", "tiered", Tenant("x", "platinum"), None, on(TM, "tiers")),
    Case("tiers/case-sensitive", "tiered", Tenant("x", "Gold"), None, OFF_DEFAULT),
    Case("tiers/none", "tiered", "x", None, OFF_DEFAULT),
    Case("tiers/no-id-needed", "tiered", gold(None), None, on(TM, "tiers")),
    Case("tiers/before-percentage", "tiersBeforePct", gold("wayne"), None, on(TM, "tiers")),
    Case(
        "tiers/then-percentage",
        "tiersBeforePct",
        Tenant("wayne", "silver"),
        None,
        off(SPLIT, "percentage"),
    ),
    # -- 7. percentage: SPLIT both ways; salt defaults to the flag key.
    Case("pct/in", "pct", "globex", None, on(SPLIT, "percentage")),
    Case("pct/out", "pct", "acme", True, off(SPLIT, "percentage")),
    Case("pct/same-salt-in", "pctSameSalt", "globex", None, on(SPLIT, "percentage")),
    Case("pct/same-salt-out", "pctSameSalt", "acme", None, off(SPLIT, "percentage")),
    Case("pct/other-salt-out", "pctOtherSalt", "globex", None, off(SPLIT, "percentage")),
    Case("pct/other-salt-in", "pctOtherSalt", "wayne", None, on(SPLIT, "percentage")),
    Case("pct/shared-salt-in", "pctShared", "initech", None, on(SPLIT, "percentage")),
    Case("pct/shared-salt-out", "pctShared", "acme", None, off(SPLIT, "percentage")),
    Case("pct/rank-equal-threshold-out", "pctEdgeOut", "acme", None, off(SPLIT, "percentage")),
    Case("pct/rank-below-threshold-in", "pctEdgeIn", "acme", None, on(SPLIT, "percentage")),
    Case("pct/zero", "pctZero", "globex", None, off(SPLIT, "percentage")),
    Case("pct/hundred", "pctAll", "acme", None, on(SPLIT, "percentage")),
    Case("pct/no-id", "pct", None, "D", missing_key("D")),
    Case("pct/empty-id", "pctAll", "", True, missing_key(True)),
    Case(
        "sticky/str-in", "sticky", attrs("cyberdyne", userId="u-4"), None, on(SPLIT, "percentage")
    ),
    Case("sticky/str-out", "sticky", attrs("wayne", userId="u-1"), None, off(SPLIT, "percentage")),
    Case("sticky/int-in", "sticky", attrs("acme", userId=7), None, on(SPLIT, "percentage")),
    Case("sticky/int-in-12", "sticky", attrs("acme", userId=12), None, on(SPLIT, "percentage")),
    Case("sticky/int-out", "sticky", attrs("wayne", userId=8), None, off(SPLIT, "percentage")),
    Case(
        "sticky/int-equals-its-text",
        "sticky",
        attrs("wayne", userId="7"),
        None,
        on(SPLIT, "percentage"),
    ),
    Case("sticky/missing-attribute", "sticky", "wayne", True, off(DEF, "percentage")),
    Case("sticky/missing-attribute-all", "stickyAll", "acme", None, off(DEF, "percentage")),
    Case(
        "sticky/bool-does-not-count",
        "stickyAll",
        attrs("acme", userId=True),
        None,
        off(DEF, "percentage"),
    ),
    Case(
        "sticky/float-does-not-count",
        "stickyAll",
        attrs("acme", userId=1.5),
        None,
        off(DEF, "percentage"),
    ),
    Case("sticky/no-tenant-id-needed", "sticky", {"userId": "u-4"}, None, on(SPLIT, "percentage")),
    Case("sticky/no-id-skips-list", "stickyAll", {"userId": "u-4"}, "D", on(SPLIT, "percentage")),
    Case("sticky/tenants-still-first", "stickyAll", "x", None, on(TM, "tenants")),
    # Text that is not valid Unicode cannot be hashed: an error, never a crash.
    Case("unhashable/pct-id", "pct", LONE_SURROGATE, "D", unhashable("D")),
    Case("unhashable/pct-lone-surrogate", "pctAll", "\ud800", True, unhashable(True)),
    Case("unhashable/sticky", "sticky", attrs("acme", userId="\udfff"), "D", unhashable("D")),
    Case(
        "unhashable/sticky-id-unused",
        "sticky",
        attrs(LONE_SURROGATE, userId="u-4"),
        None,
        on(SPLIT, "percentage"),
    ),
    Case(
        "unhashable/rule-pct", "rulePct", attrs(LONE_SURROGATE, region="eu"), "D", unhashable("D")
    ),
    Case("unhashable/prerequisite", "needsPct", LONE_SURROGATE, "D", unhashable("D")),
    Case("unhashable/list-lookup-only", "targeted", LONE_SURROGATE, None, OFF_DEFAULT),
    # -- 8. static on, or default off.
    Case("static/on", "static", "acme", None, ON_STATIC),
    Case("static/default-ignored", "static", "acme", False, ON_STATIC),
    Case("static/no-id", "static", None, None, ON_STATIC),
    Case("static/empty-id", "static", "", None, ON_STATIC),
    Case("static/tier-only", "static", gold(None), None, ON_STATIC),
    Case("static/unhashable-id-not-hashed", "static", LONE_SURROGATE, None, ON_STATIC),
    Case("static/empty-lists-are-absent", "staticEmpty", "acme", None, ON_STATIC),
    Case("static/empty-lists-no-id", "staticEmpty", None, None, ON_STATIC),
    Case("default/targeting-unmatched", "betaOnly", "globex", True, OFF_DEFAULT),
    Case("default/attributes-flag", "withAttrs", "globex", None, OFF_DEFAULT),
]


@pytest.fixture(scope="module")
def flags() -> Flags:
    return Flags.from_dict(DOC, version="v1")


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_evaluation_order(flags: Flags, case: Case) -> None:
    evaluation = flags.evaluate(case.flag, case.tenant, case.default)
    assert answer(evaluation) == case.expected
    assert evaluation.flag == case.flag
    assert evaluation.version == "v1"
    template = ERROR_MESSAGES[case.expected[5]]
    assert evaluation.error_message == (None if template is None else template.format(case.flag))


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_enabled_and_value_agree_with_evaluate(flags: Flags, case: Case) -> None:
    value, enabled, _, reason, _, _ = case.expected
    expected_enabled = case.default if reason is ERR else enabled
    assert flags.enabled(case.flag, case.tenant, bool(case.default)) is bool(expected_enabled)
    assert flags.value(case.flag, case.tenant, case.default) == value


# -- rule conditions: one operator at a time -------------------------------------------------

SEGMENTS = {"beta": ["acme", "globex"]}


def one_rule(condition: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "_segments": SEGMENTS,
        "f": {"enabled": True, "rules": [{"when": [condition], "serve": True}]},
    }


class Condition(NamedTuple):
    name: str
    condition: Mapping[str, Any]
    tenant: object
    matches: bool


def region(value: Any, tenant_id: str = "t") -> dict[str, Any]:
    return {"id": tenant_id, "region": value}


CONDITIONS = [
    Condition("equals/match", {"attribute": "region", "equals": "eu"}, region("eu"), True),
    Condition("equals/other", {"attribute": "region", "equals": "eu"}, region("us"), False),
    Condition(
        "equals/case-sensitive", {"attribute": "region", "equals": "eu"}, region("EU"), False
    ),
    Condition("equals/missing", {"attribute": "region", "equals": "eu"}, {"id": "t"}, False),
    Condition(
        "equals/list-any", {"attribute": "region", "equals": "eu"}, region(["us", "eu"]), True
    ),
    Condition(
        "equals/list-none", {"attribute": "region", "equals": "eu"}, region(["us", "ap"]), False
    ),
    Condition(
        "equals/true-is-not-1", {"attribute": "beta", "equals": True}, {"id": "t", "beta": 1}, False
    ),
    Condition(
        "equals/1-is-not-true", {"attribute": "beta", "equals": 1}, {"id": "t", "beta": True}, False
    ),
    Condition(
        "equals/false-is-not-0", {"attribute": "n", "equals": False}, {"id": "t", "n": 0}, False
    ),
    Condition(
        "equals/true-is-true",
        {"attribute": "beta", "equals": True},
        {"id": "t", "beta": True},
        True,
    ),
    Condition("equals/1-is-1.0", {"attribute": "n", "equals": 1}, {"id": "t", "n": 1.0}, True),
    Condition(
        "equals/number-not-text", {"attribute": "n", "equals": 1}, {"id": "t", "n": "1"}, False
    ),
    Condition("equals/id", {"attribute": "id", "equals": "acme"}, "acme", True),
    Condition("equals/id-other", {"attribute": "id", "equals": "acme"}, "globex", False),
    Condition("equals/tier", {"attribute": "tier", "equals": "gold"}, Tenant("t", "gold"), True),
    Condition("equals/tier-missing", {"attribute": "tier", "equals": "gold"}, "t", False),
    Condition("notEquals/other", {"attribute": "region", "notEquals": "eu"}, region("us"), True),
    Condition("notEquals/same", {"attribute": "region", "notEquals": "eu"}, region("eu"), False),
    Condition("notEquals/missing", {"attribute": "region", "notEquals": "eu"}, {"id": "t"}, False),
    Condition("notEquals/missing-tier", {"attribute": "tier", "notEquals": "gold"}, "t", False),
    Condition("notEquals/missing-id", {"attribute": "id", "notEquals": "acme"}, {"x": 1}, False),
    Condition(
        "notEquals/true-vs-1",
        {"attribute": "beta", "notEquals": True},
        {"id": "t", "beta": 1},
        True,
    ),
    Condition("in/member", {"attribute": "region", "in": ["eu", "us"]}, region("us"), True),
    Condition("in/not-member", {"attribute": "region", "in": ["eu", "us"]}, region("ap"), False),
    Condition("in/missing", {"attribute": "region", "in": ["eu", "us"]}, {"id": "t"}, False),
    Condition("in/list-any", {"attribute": "region", "in": ["eu"]}, region(["ap", "eu"]), True),
    Condition("in/list-none", {"attribute": "region", "in": ["eu"]}, region(["ap", "us"]), False),
    Condition("in/empty-list-attribute", {"attribute": "region", "in": ["eu"]}, region([]), False),
    Condition("in/true-is-not-1", {"attribute": "n", "in": [True]}, {"id": "t", "n": 1}, False),
    Condition("in/1-is-not-true", {"attribute": "n", "in": [1]}, {"id": "t", "n": True}, False),
    Condition("in/0-is-not-false", {"attribute": "n", "in": [0]}, {"id": "t", "n": False}, False),
    Condition("in/bool-is-bool", {"attribute": "n", "in": [False]}, {"id": "t", "n": False}, True),
    Condition("in/number", {"attribute": "n", "in": [2, 3]}, {"id": "t", "n": 3}, True),
    Condition(
        "in/object-is-in-nothing",
        {"attribute": "n", "in": ["a"]},
        {"id": "t", "n": {"a": 1}},
        False,
    ),
    Condition("in/id", {"attribute": "id", "in": ["acme", "globex"]}, "globex", True),
    Condition("notIn/not-member", {"attribute": "region", "notIn": ["eu"]}, region("us"), True),
    Condition("notIn/member", {"attribute": "region", "notIn": ["eu"]}, region("eu"), False),
    Condition("notIn/missing", {"attribute": "region", "notIn": ["eu"]}, {"id": "t"}, False),
    Condition("notIn/true-vs-1", {"attribute": "n", "notIn": [True]}, {"id": "t", "n": 1}, True),
    Condition("notIn/missing-tier", {"attribute": "tier", "notIn": ["gold"]}, "t", False),
    Condition("inSegment/id-member", {"attribute": "id", "inSegment": "beta"}, "globex", True),
    Condition("inSegment/id-not-member", {"attribute": "id", "inSegment": "beta"}, "wayne", False),
    Condition(
        "inSegment/id-missing", {"attribute": "id", "inSegment": "beta"}, {"x": "acme"}, False
    ),
    Condition(
        "inSegment/attribute",
        {"attribute": "parent", "inSegment": "beta"},
        {"id": "t", "parent": "acme"},
        True,
    ),
    Condition(
        "notInSegment/not-member", {"attribute": "id", "notInSegment": "beta"}, "wayne", True
    ),
    Condition("notInSegment/member", {"attribute": "id", "notInSegment": "beta"}, "acme", False),
    Condition(
        "notInSegment/id-missing", {"attribute": "id", "notInSegment": "beta"}, {"x": "y"}, False
    ),
    Condition("notInSegment/missing", {"attribute": "parent", "notInSegment": "beta"}, "t", False),
    Condition("exists/present", {"attribute": "region", "exists": True}, region("eu"), True),
    Condition(
        "exists/present-false",
        {"attribute": "flag", "exists": True},
        {"id": "t", "flag": False},
        True,
    ),
    Condition("exists/missing", {"attribute": "region", "exists": True}, {"id": "t"}, False),
    Condition("exists-false/missing", {"attribute": "region", "exists": False}, {"id": "t"}, True),
    Condition(
        "exists-false/present", {"attribute": "region", "exists": False}, region("eu"), False
    ),
    Condition("exists/tier", {"attribute": "tier", "exists": True}, Tenant("t", "gold"), True),
    Condition("exists-false/tier", {"attribute": "tier", "exists": False}, "t", True),
    Condition("exists/id", {"attribute": "id", "exists": True}, "t", True),
    Condition("exists-false/id-none", {"attribute": "id", "exists": False}, None, True),
    Condition("exists-false/id-empty", {"attribute": "id", "exists": False}, "", True),
]


@pytest.mark.parametrize("case", CONDITIONS, ids=[case.name for case in CONDITIONS])
def test_rule_condition(case: Condition) -> None:
    flags = Flags.from_dict(one_rule(case.condition))
    expected = on(TM, "rules[0]") if case.matches else OFF_DEFAULT
    assert answer(flags.evaluate("f", case.tenant)) == expected


@pytest.mark.parametrize(
    ("tenant", "expected"),
    [
        ({"id": "acme", "region": "eu", "plan": "pro"}, True),
        ({"id": "acme", "region": "eu", "plan": "free"}, False),
        ({"id": "acme", "region": "us", "plan": "pro"}, False),
        ({"id": "wayne", "region": "eu", "plan": "pro"}, False),
        ({"id": "acme", "plan": "pro"}, False),
    ],
    ids=["all-hold", "plan-fails", "region-fails", "segment-fails", "region-missing"],
)
def test_rule_conditions_all_must_hold(tenant: Mapping[str, Any], expected: bool) -> None:
    document = {
        "_segments": SEGMENTS,
        "f": {
            "enabled": True,
            "rules": [
                {
                    "id": "eu-pro-beta",
                    "when": [
                        {"attribute": "region", "equals": "eu"},
                        {"attribute": "plan", "in": ["pro", "enterprise"]},
                        {"attribute": "id", "inSegment": "beta"},
                    ],
                    "serve": True,
                }
            ],
        },
    }
    result = answer(Flags.from_dict(document).evaluate("f", tenant))
    assert result == (on(TM, "eu-pro-beta") if expected else OFF_DEFAULT)


def test_rule_without_conditions_matches_everyone() -> None:
    flags = Flags.from_dict({"f": {"enabled": True, "rules": [{"serve": True}], "tenants": ["a"]}})
    assert answer(flags.evaluate("f", "zzz")) == on(TM, "rules[0]")
    assert answer(flags.evaluate("f", None)) == on(TM, "rules[0]")


# -- errors ---------------------------------------------------------------------------------


class BadAttributes:
    def __init__(self) -> None:
        self.id = "acme"
        self.tier = None
        self.attributes = ["region"]


NOT_A_TENANT = "a tenant is a str, a flagkit.Tenant, a mapping with 'id' or an object with .id; got"


INVALID = [
    (
        "int",
        42,
        f"{NOT_A_TENANT} int",
    ),
    (
        "list",
        ["acme"],
        f"{NOT_A_TENANT} list",
    ),
    (
        "object",
        object(),
        f"{NOT_A_TENANT} object",
    ),
    (
        "float",
        1.5,
        f"{NOT_A_TENANT} float",
    ),
    ("tenant-int-id", Tenant(42), "tenant id must be a str, got int"),  # type: ignore[arg-type]
    ("tenant-int-tier", Tenant("acme", 3), "tenant tier must be a str, got int"),  # type: ignore[arg-type]
    ("mapping-int-id", {"id": 42}, "tenant id must be a str, got int"),
    ("mapping-int-tenant", {"tenant": 7}, "tenant id must be a str, got int"),
    ("mapping-int-tier", {"id": "acme", "tier": 3}, "tenant tier must be a str, got int"),
    ("mapping-list-tier", {"id": "acme", "tier": ["gold"]}, "tenant tier must be a str, got list"),
    ("object-bad-attributes", BadAttributes(), "tenant attributes must be a mapping, got list"),
]


@pytest.mark.parametrize("flag", ["static", "targeted", "pct", "withAttrs"])
@pytest.mark.parametrize(
    ("tenant", "message"),
    [(tenant, message) for _, tenant, message in INVALID],
    ids=[name for name, _, _ in INVALID],
)
def test_invalid_tenant(flags: Flags, flag: str, tenant: object, message: str) -> None:
    evaluation = flags.evaluate(flag, tenant, "D")
    assert answer(evaluation) == ("D", False, None, ERR, None, ErrorCode.INVALID_CONTEXT)
    assert evaluation.error_message == message
    assert evaluation.version == "v1"
    assert flags.value(flag, tenant, "D") == "D"


@pytest.mark.parametrize("default", [None, True, False, "D", 0])
def test_unknown_flag(flags: Flags, default: Any) -> None:
    evaluation = flags.evaluate("nope", "acme", default)
    assert answer(evaluation) == (default, False, None, ERR, None, ErrorCode.FLAG_NOT_FOUND)
    assert evaluation.error_message == "no flag 'nope'"
    assert evaluation.version == "v1"
    assert evaluation.attributes == {}
    assert flags.value("nope", "acme", default) == default


def test_metadata_keys_are_not_flags(flags: Flags) -> None:
    for key in ("_segments", "$schema"):
        assert flags.evaluate(key, "acme").error_code is ErrorCode.FLAG_NOT_FOUND


# -- attributes and version -----------------------------------------------------------------


@pytest.mark.parametrize(
    "tenant", ["acme", "globex", None, Tenant("acme", "gold")], ids=["on", "off", "no-id", "tier"]
)
def test_attributes_handed_back_without_reserved_keys(flags: Flags, tenant: object) -> None:
    evaluation = flags.evaluate("withAttrs", tenant)
    assert dict(evaluation.attributes) == {
        "temperature": 0.7,
        "bedrockModelId": "anthropic.claude",
        "limits": {"rpm": 60},
    }


def test_flags_without_extra_keys_have_no_attributes(flags: Flags) -> None:
    for key in ("static", "excl", "rulePct", "sticky", "killed"):
        assert dict(flags.evaluate(key, "acme").attributes) == {}


def test_attributes_handed_back_when_killed() -> None:
    flags = Flags.from_dict({"f": {"enabled": False, "bedrockModelId": "m", "temperature": 0}})
    evaluation = flags.evaluate("f", "acme")
    assert answer(evaluation) == KILLED
    assert dict(evaluation.attributes) == {"bedrockModelId": "m", "temperature": 0}


def test_version_of_content_when_none_given() -> None:
    flags = Flags.from_dict({"f": {"enabled": True}})
    version = flags.evaluate("f", "acme").version
    assert version is not None
    assert version == flags.version
    assert version.startswith("hash:")
    assert len(version) == len("hash:") + 16
    assert flags.evaluate("nope", "acme").version == version


# -- variant flags --------------------------------------------------------------------------

VARIANT_DOC: dict[str, Any] = {
    "_segments": {"beta": ["globex"]},
    "model": {
        "enabled": True,
        "variants": {
            "control": {"temperature": 0.2},
            "bold": {"temperature": 0.9},
            "off": {"temperature": 0},
        },
        "defaultVariant": "bold",
        "offVariant": "off",
        "tenants": ["acme"],
        "segments": ["beta"],
        "rules": [
            {"id": "calm", "when": [{"attribute": "plan", "equals": "calm"}], "serve": "control"},
            {"id": "silenced", "when": [{"attribute": "plan", "equals": "quiet"}], "serve": "off"},
            {"id": "refused", "when": [{"attribute": "plan", "equals": "no"}], "serve": False},
            {"id": "granted", "when": [{"attribute": "plan", "equals": "yes"}], "serve": True},
        ],
    },
    "modelKilled": {
        "enabled": False,
        "variants": {"a": "A", "b": "B", "z": "Z"},
        "defaultVariant": "a",
        "offVariant": "z",
        "tenants": ["acme"],
    },
    "modelKilledNoOff": {
        "enabled": False,
        "variants": {"a": "A", "b": "B"},
        "defaultVariant": "a",
    },
    "noOff": {
        "enabled": True,
        "variants": {"small": 1, "large": 100},
        "defaultVariant": "large",
        "tenants": ["acme"],
        "tiers": ["gold"],
    },
    "staticVariant": {
        "enabled": True,
        "variants": {"small": 1, "large": 100},
        "defaultVariant": "small",
        "offVariant": "large",
    },
    "pctVariant": {
        "enabled": True,
        "salt": "pct",
        "variants": {"new": "v2", "old": "v1"},
        "defaultVariant": "new",
        "offVariant": "old",
        "percentage": 50,
    },
    "ruleSplit": {
        "enabled": True,
        "variants": {"red": "#f00", "blue": "#00f", "grey": "#888"},
        "defaultVariant": "grey",
        "rules": [
            {
                "id": "blue-only",
                "when": [{"attribute": "plan", "equals": "b"}],
                "split": {"red": 0, "blue": 5},
            },
            {"when": [{"attribute": "plan", "equals": "r"}], "split": {"red": 3, "blue": 0}},
        ],
    },
}


class VariantCase(NamedTuple):
    name: str
    flag: str
    tenant: object
    default: Any
    expected: Answer


VARIANT_CASES = [
    VariantCase(
        "kill/off-variant", "modelKilled", "acme", "D", ("Z", False, "z", DIS, "kill-switch", None)
    ),
    VariantCase(
        "kill/no-off-variant",
        "modelKilledNoOff",
        "acme",
        "D",
        ("D", False, None, DIS, "kill-switch", None),
    ),
    VariantCase(
        "kill/no-off-variant-no-id",
        "modelKilledNoOff",
        None,
        7,
        (7, False, None, DIS, "kill-switch", None),
    ),
    VariantCase(
        "tenants/default-variant",
        "model",
        "acme",
        "D",
        ({"temperature": 0.9}, True, "bold", TM, "tenants", None),
    ),
    VariantCase(
        "segments/default-variant",
        "model",
        "globex",
        "D",
        ({"temperature": 0.9}, True, "bold", TM, "segments:beta", None),
    ),
    VariantCase(
        "default/off-variant",
        "model",
        "wayne",
        "D",
        ({"temperature": 0}, False, "off", DEF, "default", None),
    ),
    VariantCase(
        "rule/serve-variant",
        "model",
        {"id": "wayne", "plan": "calm"},
        "D",
        ({"temperature": 0.2}, True, "control", TM, "calm", None),
    ),
    VariantCase(
        "rule/serve-off-variant",
        "model",
        {"id": "acme", "plan": "quiet"},
        "D",
        ({"temperature": 0}, False, "off", TM, "silenced", None),
    ),
    VariantCase(
        "rule/serve-false",
        "model",
        {"id": "acme", "plan": "no"},
        "D",
        ({"temperature": 0}, False, "off", TM, "refused", None),
    ),
    VariantCase(
        "rule/serve-true",
        "model",
        {"id": "wayne", "plan": "yes"},
        "D",
        ({"temperature": 0.9}, True, "bold", TM, "granted", None),
    ),
    VariantCase("no-off/targeted", "noOff", "acme", 0, (100, True, "large", TM, "tenants", None)),
    VariantCase(
        "no-off/tier", "noOff", Tenant("x", "gold"), 0, (100, True, "large", TM, "tiers", None)
    ),
    VariantCase(
        "no-off/default-is-callers", "noOff", "wayne", "D", ("D", False, None, DEF, "default", None)
    ),
    VariantCase("no-off/missing-id", "noOff", None, "D", ("D", False, None, DEF, "default", None)),
    VariantCase("static", "staticVariant", "acme", "D", (1, True, "small", STATIC, "static", None)),
    VariantCase(
        "static/no-id", "staticVariant", "", "D", (1, True, "small", STATIC, "static", None)
    ),
    VariantCase(
        "pct/in", "pctVariant", "globex", "D", ("v2", True, "new", SPLIT, "percentage", None)
    ),
    VariantCase(
        "pct/out", "pctVariant", "acme", "D", ("v1", False, "old", SPLIT, "percentage", None)
    ),
    VariantCase(
        "rule-split/zero-weight-never",
        "ruleSplit",
        {"id": "a", "plan": "b"},
        None,
        ("#00f", True, "blue", SPLIT, "blue-only", None),
    ),
    VariantCase(
        "rule-split/index-label",
        "ruleSplit",
        {"id": "a", "plan": "r"},
        None,
        ("#f00", True, "red", SPLIT, "rules[1]", None),
    ),
    VariantCase(
        "rule-split/no-match",
        "ruleSplit",
        {"id": "a", "plan": "x"},
        "D",
        ("D", False, None, DEF, "default", None),
    ),
    VariantCase(
        "rule-split/needs-id",
        "ruleSplit",
        {"plan": "b"},
        "D",
        ("D", False, None, ERR, None, MISSING),
    ),
]


@pytest.fixture(scope="module")
def variant_flags() -> Flags:
    return Flags.from_dict(VARIANT_DOC, version="v2")


@pytest.mark.parametrize("case", VARIANT_CASES, ids=[case.name for case in VARIANT_CASES])
def test_variant_flag(variant_flags: Flags, case: VariantCase) -> None:
    evaluation = variant_flags.evaluate(case.flag, case.tenant, case.default)
    assert answer(evaluation) == case.expected
    assert evaluation.version == "v2"
    value, enabled, _, reason, _, _ = case.expected
    assert variant_flags.value(case.flag, case.tenant, case.default) == value
    if reason is not ERR:
        assert variant_flags.enabled(case.flag, case.tenant, True) is enabled
        assert variant_flags.enabled(case.flag, case.tenant, False) is enabled


def test_enabled_false_when_off_variant_served(variant_flags: Flags) -> None:
    assert variant_flags.enabled("model", {"id": "acme", "plan": "quiet"}) is False
    assert variant_flags.enabled("model", "acme") is True
    assert variant_flags.enabled("modelKilled", "acme", True) is False


def test_value_returns_variant_value(variant_flags: Flags) -> None:
    assert variant_flags.value("model", "acme") == {"temperature": 0.9}
    assert variant_flags.value("model", {"id": "x", "plan": "calm"}) == {"temperature": 0.2}
    assert variant_flags.value("noOff", "wayne", "fallback") == "fallback"
    assert variant_flags.value("nope", "acme", "fallback") == "fallback"


SPLIT_DOC: dict[str, Any] = {
    "colour": {
        "enabled": True,
        "variants": {"a": "A", "b": "B", "never": "N"},
        "defaultVariant": "a",
        "split": {"a": 1, "never": 0, "b": 3},
    },
    "colourSalted": {
        "enabled": True,
        "salt": "s1",
        "variants": {"a": "A", "b": "B", "c": "C"},
        "defaultVariant": "a",
        "offVariant": "c",
        "split": {"a": 2, "b": 2, "c": 6},
    },
}

SPLIT_DOC["ruleSplit"] = {
    "enabled": True,
    "variants": {"red": "#f00", "blue": "#00f", "grey": "#888"},
    "defaultVariant": "grey",
    "offVariant": "grey",
    "tenants": ["tenant-1"],
    "rules": [
        {
            "id": "ab",
            "when": [{"attribute": "region", "equals": "eu"}],
            "split": {"red": 1, "blue": 1},
        }
    ],
}

TENANTS = [f"tenant-{number}" for number in range(4000)]


def unleash_variant(salt: str, key: str, weights: list[tuple[str, int]]) -> str:
    """The contract's variant formula, computed here with mmh3 directly."""
    bucket = mmh3.hash(f"{salt}:{key}", 86028157, signed=False) % sum(w for _, w in weights) + 1
    total = 0
    for name, weight in weights:
        total += weight
        if bucket <= total:
            return name
    raise AssertionError("unreachable")


def test_split_distribution_and_formula() -> None:
    flags = Flags.from_dict(SPLIT_DOC)
    served = Counter[str | None]()
    for tenant in TENANTS:
        evaluation = flags.evaluate("colour", tenant)
        served[evaluation.variant] += 1
        assert evaluation.variant == unleash_variant("colour", tenant, [("a", 1), ("b", 3)])
        assert (evaluation.reason, evaluation.rule, evaluation.enabled) == (SPLIT, "static", True)
        assert evaluation.value == {"a": "A", "b": "B"}[evaluation.variant]
    assert served["never"] == 0
    assert 0.22 < served["a"] / len(TENANTS) < 0.28
    assert 0.72 < served["b"] / len(TENANTS) < 0.78


def test_split_with_salt_and_off_variant() -> None:
    flags = Flags.from_dict(SPLIT_DOC)
    served = Counter[str | None]()
    for tenant in TENANTS:
        evaluation = flags.evaluate("colourSalted", tenant)
        expected = unleash_variant("s1", tenant, [("a", 2), ("b", 2), ("c", 6)])
        assert evaluation.variant == expected
        assert evaluation.enabled is (expected != "c")
        assert flags.enabled("colourSalted", tenant) is (expected != "c")
        served[evaluation.variant] += 1
    assert 0.57 < served["c"] / len(TENANTS) < 0.63
    assert 0.17 < served["a"] / len(TENANTS) < 0.23


def test_rule_split_follows_the_formula() -> None:
    flags = Flags.from_dict(SPLIT_DOC)
    served = Counter[str | None]()
    for tenant in TENANTS[:2000]:
        evaluation = flags.evaluate("ruleSplit", {"id": tenant, "region": "eu"})
        expected = unleash_variant("ruleSplit", tenant, [("red", 1), ("blue", 1)])
        value = {"red": "#f00", "blue": "#00f"}[expected]
        assert answer(evaluation) == (value, True, expected, SPLIT, "ab", None)
        served[evaluation.variant] += 1
    assert 0.46 < served["red"] / 2000 < 0.54
    # Outside the rule: listed tenants get the defaultVariant, the rest the offVariant.
    assert answer(flags.evaluate("ruleSplit", "tenant-1")) == (
        "#888",
        False,
        "grey",
        TM,
        "tenants",
        None,
    )
    assert answer(flags.evaluate("ruleSplit", "tenant-2")) == (
        "#888",
        False,
        "grey",
        DEF,
        "default",
        None,
    )


def test_split_is_sticky_and_differs_by_salt() -> None:
    first = Flags.from_dict(SPLIT_DOC)
    again = Flags.from_dict(SPLIT_DOC)
    colour = [first.evaluate("colour", tenant).variant for tenant in TENANTS[:500]]
    assert colour == [again.evaluate("colour", tenant).variant for tenant in TENANTS[:500]]
    resalted = {**SPLIT_DOC, "colour": {**SPLIT_DOC["colour"], "salt": "another"}}
    other = Flags.from_dict(resalted)
    assert colour != [other.evaluate("colour", tenant).variant for tenant in TENANTS[:500]]


# -- a whole-document walk: the table agrees with enabled_flags -----------------------------


def test_enabled_flags_lists_exactly_the_flags_on(flags: Flags) -> None:
    tenant = Tenant("globex", "gold", {"region": "eu", "userId": "u-4"})
    expected = [key for key in flags.keys if flags.evaluate(key, tenant).enabled]
    assert flags.enabled_flags(tenant) == expected
    assert "killed" not in expected
    assert {"payments", "static", "staticEmpty", "targeted", "tiered", "rulePct", "sticky"} <= set(
        expected
    )


# -- JSON, not Python, equality in rules: true is not 1 (a frozenset would merge them) -------


@pytest.mark.parametrize(
    ("operator", "members", "value", "expected"),
    [
        ("in", [False, 0], 0, True),
        ("in", [False, 0], False, True),
        ("in", [True, 1], 1, True),
        ("in", [1, True], True, True),
        ("in", [1.0, True], True, True),
        ("in", [True], 1, False),
        ("in", [1], True, False),
        ("in", [1], 1.0, True),
        ("notIn", [True, 1], 1, False),
        ("notIn", [True], 1, True),
        ("equals", True, 1, False),
        ("equals", 1, 1.0, True),
        ("notEquals", False, 0, True),
    ],
    ids=[
        "in-false-0-has-0",
        "in-false-0-has-false",
        "in-true-1-has-1",
        "in-1-true-has-true",
        "in-1.0-true-has-true",
        "in-true-lacks-1",
        "in-1-lacks-true",
        "in-1-has-1.0",
        "notIn-true-1-excludes-1",
        "notIn-true-keeps-1",
        "equals-true-is-not-1",
        "equals-1-is-1.0",
        "notEquals-false-is-not-0",
    ],
)
def test_rule_values_compare_as_json(
    operator: str, members: object, value: object, expected: bool
) -> None:
    flags = Flags.from_dict(
        {
            "f": {
                "enabled": True,
                "rules": [{"when": [{"attribute": "x", operator: members}], "serve": True}],
            }
        }
    )
    assert flags.enabled("f", Tenant("a", attributes={"x": value})) is expected


@pytest.mark.parametrize(
    ("stickiness", "tenant", "expected_rule_reason"),
    [
        ("id", Tenant("acme"), ("percentage", Reason.SPLIT)),
        ("tier", Tenant("acme", tier="gold"), ("percentage", Reason.SPLIT)),
        ("tier", Tenant("acme"), ("percentage", Reason.DEFAULT)),
    ],
    ids=["id-is-the-tenant-id", "tier-is-the-tier", "no-tier-not-in-split"],
)
def test_stickiness_id_and_tier_mean_the_tenants_own(
    stickiness: str, tenant: Tenant, expected_rule_reason: tuple[str, Reason]
) -> None:
    flags = Flags.from_dict({"f": {"enabled": True, "percentage": 100, "stickiness": stickiness}})
    evaluation = flags.evaluate("f", tenant)
    assert (evaluation.rule, evaluation.reason) == expected_rule_reason
    assert evaluation.enabled is (expected_rule_reason[1] is Reason.SPLIT)


def test_stickiness_tier_buckets_every_tenant_of_a_tier_together() -> None:
    flags = Flags.from_dict({"f": {"enabled": True, "percentage": 50, "stickiness": "tier"}})
    for tier in ("gold", "silver", "bronze", "free"):
        answers = {flags.enabled("f", Tenant(f"t{i}", tier=tier)) for i in range(50)}
        assert len(answers) == 1, tier


def test_exclusion_only_flag_is_static_and_needs_no_id() -> None:
    flags = Flags.from_dict({"f": {"enabled": True, "excludedTenants": ["initech"]}})
    for tenant in (None, "", Tenant(None)):
        evaluation = flags.evaluate("f", tenant)
        assert (evaluation.enabled, evaluation.reason, evaluation.rule) == (
            True,
            Reason.STATIC,
            "static",
        )
    assert not flags.enabled("f", "initech")


@pytest.mark.parametrize("test", ["in", "equals", "notIn"])
def test_a_tenant_attribute_nested_thousands_of_lists_deep_never_raises(test: str) -> None:
    operand: Any = ["x"] if test in ("in", "notIn") else "x"
    flags = Flags.from_dict(
        {
            "a": {
                "enabled": True,
                "rules": [{"when": [{"attribute": "tags", test: operand}], "serve": True}],
            }
        }
    )
    nested: Any = "x"
    for _ in range(5_000):  # deeper than Python's recursion limit
        nested = [nested]
    evaluation = flags.evaluate("a", Tenant("acme", attributes={"tags": nested}))
    assert evaluation.error_code is None
    # A list attribute matches when any element (at any depth) does, as before.
    assert evaluation.enabled is (test != "notIn")
    assert flags.enabled("a", Tenant("acme", attributes={"tags": [["y"], ["x"]]})) is (
        test != "notIn"
    )
