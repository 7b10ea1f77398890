"""flagkit.publish.coverage: a diff never passes a change its tenants file cannot show.

Each flag of a diff whose change depends on something no tenant of the file carries is
reported as not assessed. The property at the end holds the analysis to its promise:
when a flag is reported assessed with tenants stripped of some attributes (or of their
tiers), every tenant whose answer changes with those attributes is reported too.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

from hypothesis import assume, given
from hypothesis import strategies as st

from flagkit.client import Flags
from flagkit.model import Tenant
from flagkit.publish import Diff, FlagDiff, MissingInput, diff_documents, format_diff
from tests import strategies

ACME, GLOBEX = Tenant("acme"), Tenant("globex")


def missing(diff: Diff) -> dict[str, tuple[MissingInput, ...]]:
    return {flag.flag: flag.missing for flag in diff.flags}


def test_a_changed_tiers_list_cannot_be_assessed_without_tiers_and_can_with_them() -> None:
    old = {"pro": {"enabled": True, "tiers": ["gold"]}}
    new = {"pro": {"enabled": True, "tiers": ["gold", "silver"]}}
    untiered = diff_documents(old, new, (ACME, GLOBEX))
    assert missing(untiered) == {"pro": (MissingInput("tier", "tier", ("tiers",)),)}
    assert format_diff(untiered)[:2] == [
        "pro: could not assess (changed: tiers)",
        "  ? not in the tenants file: a tier, read by tiers",
    ]
    tiered = diff_documents(old, new, (Tenant("acme", "silver"), GLOBEX))
    assert tiered.flags == (FlagDiff("pro", "changed", ("tiers",), gained=("acme",)),)
    assert tiered.unassessed == ()


def test_tenants_a_change_names_that_the_file_does_not_list_cannot_be_assessed() -> None:
    """Adding newco to `tenants`, or to a segment the flag uses, reaches a tenant not evaluated."""
    old = {"_segments": {"beta": ["acme"]}, "a": {"enabled": True, "segments": ["beta"]}}
    new = {
        "_segments": {"beta": ["acme", "initech"]},
        "a": {"enabled": True, "segments": ["beta"], "tenants": ["newco"]},
    }
    diff = diff_documents(old, new, (ACME, GLOBEX))
    assert missing(diff) == {
        "a": (
            MissingInput("tenant", "newco", ("tenants",)),
            MissingInput("tenant", "initech", ("segments",)),
        )
    }
    assert format_diff(diff)[1] == (
        "  ? not in the tenants file: tenant newco, named by tenants; "
        "tenant initech, named by segments"
    )
    listed = diff_documents(old, new, (ACME, Tenant("initech"), Tenant("newco")))
    assert listed.flags == (
        FlagDiff("a", "changed", ("tenants", "_segments.beta"), gained=("initech", "newco")),
    )


def test_a_rule_before_the_change_matters_only_where_a_missing_attribute_matches_it() -> None:
    """Moving a percentage: a rule on `plan` before it decides the same in both documents,
    except `"exists": false`, which every tenant without `plan` matches."""
    trial_off = {"when": [{"attribute": "plan", "equals": "trial"}], "serve": False}
    unplanned_off = {"when": [{"attribute": "plan", "exists": False}], "serve": False}
    for rule, expected in ((trial_off, ()), (unplanned_off, ("a",))):
        old = {"a": {"enabled": True, "rules": [rule], "percentage": 0}}
        new = {"a": {"enabled": True, "rules": [rule], "percentage": 100}}
        assert diff_documents(old, new, (ACME,)).unassessed == expected


def test_a_prerequisite_on_a_custom_stickiness_hides_a_change_from_tenants_without_it() -> None:
    """acme without `org` is outside payments' percentage, so checkout is off for it in both
    documents; the real acme, with an org inside it, gains checkout."""
    payments = {"enabled": True, "stickiness": "org", "percentage": 50}
    checkout = {"enabled": True, "requires": ["payments"], "tiers": ["enterprise"]}
    old = {"payments": payments, "checkout": checkout}
    new = copy.deepcopy(old)
    new["checkout"]["tenants"] = ["acme"]
    diff = diff_documents(old, new, (ACME,))
    assert diff.flags == (
        FlagDiff(
            "checkout",
            "changed",
            ("tenants",),
            missing=(MissingInput("attribute", "org", ("payments.percentage",)),),
        ),
    )
    real_acme = Tenant("acme", attributes={"org": "org-1"})  # inside payments' 50 %
    assert not Flags.from_dict(old).enabled("checkout", real_acme)
    assert Flags.from_dict(new).enabled("checkout", real_acme)
    assert diff_documents(old, new, (real_acme,)).flags[0].gained == ("acme",)


def test_a_flag_requiring_an_unassessed_change_is_unassessed_too() -> None:
    """billing's answers follow plans'; neither changes for acme, who has no plan."""
    trial_off = {"when": [{"attribute": "plan", "equals": "trial"}], "serve": False}
    plans: dict[str, Any] = {"enabled": True, "percentage": 100}
    billing = {"enabled": True, "requires": ["plans"]}
    old = {"plans": plans, "billing": billing}
    new = {"plans": {**plans, "rules": [trial_off]}, "billing": billing}
    diff = diff_documents(old, new, (ACME,))
    assert not diff.changes_answers
    assert [(flag.flag, flag.status, flag.missing) for flag in diff.flags] == [
        ("plans", "changed", (MissingInput("attribute", "plan", ("rules",)),)),
        ("billing", "prerequisite", (MissingInput("attribute", "plan", ("plans.rules",)),)),
    ]
    assert diff.unassessed == ("plans", "billing")


def test_changes_no_step_reads_need_nothing_from_the_file() -> None:
    """An attribute or description edit, or any edit of a flag off in both documents."""
    rules = [{"when": [{"attribute": "plan", "equals": "trial"}], "serve": True}]
    old = {
        "a": {"enabled": True, "rules": rules, "model": "x"},
        "b": {"enabled": False, "rules": rules},
    }
    new = {
        "a": {"enabled": True, "rules": rules, "model": "y", "description": "new"},
        "b": {"enabled": False, "rules": [], "stickiness": "org", "percentage": 5},
    }
    diff = diff_documents(old, new, (ACME,))
    assert [(flag.flag, flag.missing) for flag in diff.flags] == [("a", ()), ("b", ())]
    assert diff.unassessed == ()


def test_without_tenants_nothing_is_called_unassessed() -> None:
    """No tenants: every change counts as impact already (`changes_answers`)."""
    old, new = {"a": {"enabled": True, "tiers": ["x"]}}, {"a": {"enabled": True, "tiers": []}}
    diff = diff_documents(old, new)
    assert (diff.unassessed, diff.changes_answers) == ((), True)


# -- the promise, as a property ---------------------------------------------------------------

FIELDS = ("enabled", "tiers", "percentage", "rules", "tenants", "excludedTenants", "stickiness")
IDS = ("acme", "globex", "initech", "hooli")
TIERS = ("free", "gold", "enterprise")


@st.composite
def edits(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    """A valid document and the same document with one or two fields of its flags edited."""
    old = draw(strategies.documents())
    keys = [key for key in old if not key.startswith(("$", "_"))]
    assume(keys)
    new = copy.deepcopy(old)
    segments = list(old.get("_segments", {}))
    for _ in range(draw(st.integers(1, 2))):
        flag = new[draw(st.sampled_from(keys))]
        field = draw(st.sampled_from(FIELDS))
        if field == "enabled":
            flag["enabled"] = not flag["enabled"]
        elif field == "tiers":
            flag["tiers"] = draw(st.lists(st.sampled_from(TIERS), max_size=2))
        elif field == "percentage":
            flag["percentage"] = draw(strategies.percentages())
        elif field == "rules":
            variants = list(flag.get("variants", {}))
            flag["rules"] = draw(st.lists(strategies.rules(segments, variants), max_size=2))
        elif field == "stickiness":
            flag["stickiness"] = draw(st.sampled_from(["region", "userId", "tier", "id"]))
        else:
            flag[field] = draw(st.lists(st.sampled_from(IDS), max_size=2, unique=True))
    return old, new


def conditions(document: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for key, flag in document.items():
        if not key.startswith(("$", "_")):
            for rule in flag.get("rules", ()):
                yield from rule.get("when", ())


def operands(condition: dict[str, Any]) -> list[Any]:
    for operator in ("equals", "notEquals"):
        if operator in condition:
            return [condition[operator]]
    return list(condition.get("in", condition.get("notIn", [])))


@given(documents=edits(), data=st.data())
def test_a_flag_reported_assessed_without_some_inputs_shows_every_change_they_would(
    documents: tuple[dict[str, Any], dict[str, Any]], data: st.DataObject
) -> None:
    old, new = documents
    # Tenants whose attributes take the values the rules test (and others), so rules match.
    read = [c for document in documents for c in conditions(document)]
    names = sorted({c["attribute"] for c in read} - {"id", "tier"} | {"region", "userId"})
    values = [v for c in read for v in operands(c)] + ["eu", "u-1", "u-2", 7]
    full = []
    for tenant_id in IDS:
        attributes = {
            name: data.draw(st.sampled_from(values)) for name in names if data.draw(st.booleans())
        }
        tier = data.draw(st.one_of(st.none(), st.sampled_from(TIERS)))
        full.append(Tenant(tenant_id, tier, attributes))
    dropped = set(data.draw(st.lists(st.sampled_from([*names, "tier"]), min_size=1)))
    stripped = [
        Tenant(
            tenant.id,
            None if "tier" in dropped else tenant.tier,
            {name: value for name, value in tenant.attributes.items() if name not in dropped},
        )
        for tenant in full
    ]
    complete = diff_documents(old, new, full)
    partial = {flag.flag: flag for flag in diff_documents(old, new, stripped).flags}
    for flag in complete.flags:
        if not flag.changes_answers:
            continue
        seen = partial.get(flag.flag)
        assert seen is not None, f"{flag.flag} changes for {_changed(flag)} and is not reported"
        if seen.assessed:
            assert _changed(flag) <= _changed(seen), (flag, seen, dropped)


def _changed(flag: FlagDiff) -> set[str]:
    return {*flag.gained, *flag.lost, *(change.tenant for change in flag.variant_changes)}
