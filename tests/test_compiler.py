"""flagkit/compiler.py: what a checked document compiles to, before anything is evaluated.

References resolved (prerequisites, segments), rollout thresholds computed, every
answer a step can give precomputed as a `Decision`, and nothing left writable.
(How the compiled flags then decide: tests/test_evaluation.py and tests/test_deciders.py.)
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from flagkit.compiler import NO_ROLLOUT, compile_document
from flagkit.conditions import json_key
from flagkit.document import load_document
from flagkit.flagset import USE_DEFAULT, Decision, FlagSet, Operator, Split
from flagkit.model import ErrorCode, Reason


def compiled(document: dict[str, Any], version: str | None = "v1") -> FlagSet:
    return compile_document(load_document(json.dumps(document)), version=version)


def on(reason: Reason, rule: str) -> Decision:
    return Decision(True, True, "on", reason, rule)


def off(reason: Reason, rule: str) -> Decision:
    return Decision(False, False, "off", reason, rule)


SEGMENTED: dict[str, Any] = {
    "_segments": {"beta": ["acme", "globex"], "vip": ["globex", "stark"]},
    "launch": {
        "enabled": True,
        "tenants": ["acme"],
        "segments": ["beta", "vip"],
        "excludedTenants": ["initech"],
        "tiers": ["gold"],
    },
}


def test_the_flag_set_keeps_document_order_version_segments_and_the_document() -> None:
    document = {"zeta": {"enabled": True}, "alpha": {"enabled": False}, **SEGMENTED}

    flagset = compiled(document, version="v7")

    assert flagset.keys == ("zeta", "alpha", "launch")
    assert list(flagset.deciders) == ["zeta", "alpha", "launch"]
    assert flagset.version == "v7"
    assert flagset.segments == {
        "beta": frozenset({"acme", "globex"}),
        "vip": frozenset({"globex", "stark"}),
    }
    assert flagset.document == document


def test_a_prerequisite_is_the_compiled_flag_itself_even_when_listed_after() -> None:
    flagset = compiled(
        {"checkout": {"enabled": True, "requires": ["payments"]}, "payments": {"enabled": True}}
    )

    [(required, decision)] = flagset.flags["checkout"].requires

    assert required is flagset.flags["payments"]
    assert decision == off(Reason.TARGETING_MATCH, "requires:payments")


@pytest.mark.parametrize(
    ("percentage", "threshold"),
    [(0, 0), (12.34, 1234), (25, 2500), (99.99, 9999), (100, 10000)],
)
def test_a_percentage_compiles_to_a_threshold_in_hundredths_of_a_percent(
    percentage: float, threshold: int
) -> None:
    flagset = compiled(
        {
            "rollout": {"enabled": True, "percentage": percentage},
            "ruled": {"enabled": True, "rules": [{"when": [], "percentage": percentage}]},
        }
    )
    assert flagset.flags["rollout"].threshold == threshold
    assert flagset.flags["ruled"].rules[0].threshold == threshold


def test_a_flag_without_a_percentage_has_no_rollout() -> None:
    assert compiled({"f": {"enabled": True}}).flags["f"].threshold == NO_ROLLOUT == -1


def test_tenants_and_segments_expand_to_one_target_per_tenant_the_first_listing_winning() -> None:
    flag = compiled(SEGMENTED).flags["launch"]

    assert dict(flag.targets) == {
        "acme": on(Reason.TARGETING_MATCH, "tenants"),  # also in beta: `tenants` comes first
        "globex": on(Reason.TARGETING_MATCH, "segments:beta"),  # also in vip, listed later
        "stark": on(Reason.TARGETING_MATCH, "segments:vip"),
    }
    assert flag.excluded == frozenset({"initech"})
    assert flag.excluded_decision == off(Reason.TARGETING_MATCH, "excludedTenants")
    assert flag.tiers == frozenset({"gold"})
    assert flag.tier_outcome == on(Reason.TARGETING_MATCH, "tiers")


def test_a_boolean_flags_answers_are_precomputed() -> None:
    flagset = compiled(
        {"static": {"enabled": True}, "rollout": {"enabled": True, "percentage": 10}}
    )
    static, rollout = flagset.flags["static"], flagset.flags["rollout"]

    assert static.disabled == off(Reason.DISABLED, "kill-switch")
    assert static.fallthrough == on(Reason.STATIC, "static")  # nothing targets: on for all
    assert rollout.fallthrough == off(Reason.DEFAULT, "default")  # targeted: off for the rest
    assert rollout.rollout_on == on(Reason.SPLIT, "percentage")
    assert rollout.rollout_off == off(Reason.SPLIT, "percentage")
    assert rollout.not_in_split == off(Reason.DEFAULT, "percentage")
    assert rollout.missing_key == Decision(
        None,
        USE_DEFAULT,
        None,
        Reason.ERROR,
        None,
        ErrorCode.TARGETING_KEY_MISSING,
        "flag 'rollout' needs a tenant id to decide, and none was given",
    )
    assert rollout.invalid_key == Decision(
        None,
        USE_DEFAULT,
        None,
        Reason.ERROR,
        None,
        ErrorCode.INVALID_CONTEXT,
        "flag 'rollout' hashes a tenant id or attribute that is not valid Unicode text "
        "(it has a lone surrogate)",
    )


def test_a_variant_flag_serves_its_variants_and_off_is_the_off_variant_or_the_default() -> None:
    flagset = compiled(
        {
            "theme": {
                "enabled": True,
                "variants": {"dark": "#000", "light": "#fff"},
                "defaultVariant": "dark",
                "offVariant": "light",
                "tenants": ["acme"],
            },
            "banner": {"enabled": True, "variants": {"big": 2}, "defaultVariant": "big"},
        }
    )
    theme, banner = flagset.flags["theme"], flagset.flags["banner"]

    assert theme.targets["acme"] == Decision(
        True, "#000", "dark", Reason.TARGETING_MATCH, "tenants"
    )
    assert theme.disabled == Decision(False, "#fff", "light", Reason.DISABLED, "kill-switch")
    assert banner.disabled == Decision(False, USE_DEFAULT, None, Reason.DISABLED, "kill-switch")
    assert banner.fallthrough == Decision(True, 2, "big", Reason.STATIC, "static")


def test_a_split_keeps_the_variants_with_weight_as_running_totals() -> None:
    flagset = compiled(
        {
            "color": {
                "enabled": True,
                "variants": {"red": "r", "green": "g", "blue": "b"},
                "defaultVariant": "red",
                "split": {"red": 20, "green": 0, "blue": 80},
            }
        }
    )

    split = flagset.flags["color"].fallthrough

    assert isinstance(split, Split)
    assert split.cumulative == (20, 100)
    assert split.decisions == (
        Decision(True, "r", "red", Reason.SPLIT, "static"),
        Decision(True, "b", "blue", Reason.SPLIT, "static"),
    )


def test_rules_compile_their_labels_conditions_and_what_they_serve() -> None:
    flag = compiled(
        {
            "_segments": {"staff": ["acme"]},
            "f": {
                "enabled": True,
                "rules": [
                    {
                        "id": "eu",
                        "when": [{"attribute": "region", "in": ["eu", 1, True]}],
                        "serve": True,
                    },
                    {"when": [{"attribute": "id", "inSegment": "staff"}], "serve": False},
                ],
            },
        }
    ).flags["f"]

    eu, staff = flag.rules
    assert (eu.label, eu.outcome) == ("eu", on(Reason.TARGETING_MATCH, "eu"))
    [region] = eu.conditions
    assert (region.attribute, region.operator) == ("region", Operator.IN)
    # Memberships hold json_keys: `1` and `true` stay two members.
    assert region.operand == frozenset({json_key("eu"), json_key(1), json_key(True)})
    assert (staff.label, staff.outcome) == ("rules[1]", off(Reason.TARGETING_MATCH, "rules[1]"))
    [member] = staff.conditions
    assert (member.operator, member.operand) == (Operator.IN_SEGMENT, frozenset({json_key("acme")}))


def test_salt_and_stickiness_are_ready_for_hashing() -> None:
    flagset = compiled(
        {
            "plain": {"enabled": True, "percentage": 5},
            "salted": {"enabled": True, "percentage": 5, "salt": "s1", "stickiness": "accountId"},
        }
    )
    assert (flagset.flags["plain"].hash_prefix, flagset.flags["plain"].stickiness) == (
        "plain:",
        None,
    )
    assert (flagset.flags["salted"].hash_prefix, flagset.flags["salted"].stickiness) == (
        "s1:",
        "accountId",
    )


def test_attributes_are_the_free_form_fields_and_nothing_compiled_can_be_written() -> None:
    flag = compiled(
        {
            "f": {
                "enabled": True,
                "description": "reserved, so not an attribute",
                "tenants": ["acme"],
                "variants": {"a": {"size": 1}},
                "defaultVariant": "a",
                "owner": "team-a",
                "limits": {"max": 3},
            }
        }
    ).flags["f"]

    assert dict(flag.attributes) == {"owner": "team-a", "limits": {"max": 3}}
    for mapping in (flag.attributes, flag.variants, flag.targets):
        assert mapping is not None
        with pytest.raises(TypeError) as raised:
            mapping["new"] = 1  # type: ignore[index]
        assert str(raised.value) == "'mappingproxy' object does not support item assignment"
