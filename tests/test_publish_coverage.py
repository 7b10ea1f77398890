"""flagkit.publish.coverage: a diff never passes a change its tenants file cannot show.

Each flag of a diff whose change depends on something no tenant of the file carries is
reported as not assessed. The property at the end holds the analysis to its promise:
when a flag is reported assessed with tenants stripped of some attributes (or of their
tiers), every tenant whose answer changes with those attributes is reported too.
"""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from flagkit.client import Flags
from flagkit.model import Tenant
from flagkit.publish import Diff, FlagDiff, MissingInput, diff_documents, format_diff

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

ATTRIBUTES = ("plan", "region")
IDS = ("acme", "globex", "initech", "hooli")
TIERS = ("free", "gold")
VALUES = ("trial", "pro", "eu")
VARIANTS = ("red", "blue")
POOLS = {"id": IDS, "tier": TIERS, "plan": VALUES, "region": VALUES}
"""Few ids, tiers and values, so that rules match, lists overlap and splits differ."""


@st.composite
def small_conditions(draw: st.DrawFn) -> dict[str, Any]:
    attribute = draw(st.sampled_from(sorted(POOLS)))
    operator = draw(st.sampled_from(["equals", "notEquals", "in", "notIn", "exists"]))
    pool = POOLS[attribute]
    if operator == "exists":
        return {"attribute": attribute, "exists": draw(st.booleans())}
    if operator in ("in", "notIn"):
        return {"attribute": attribute, operator: draw(st.lists(st.sampled_from(pool), max_size=2))}
    return {"attribute": attribute, operator: draw(st.sampled_from(pool))}


def field_values(field: str, earlier: list[str], variant: bool) -> st.SearchStrategy[Any]:
    """What an edit may set `field` of a flag to."""
    serve: st.SearchStrategy[Any] = st.sampled_from([True, False, *VARIANTS])
    outcomes: list[st.SearchStrategy[dict[str, Any]]] = [
        (serve if variant else st.booleans()).map(lambda value: {"serve": value}),
        st.sampled_from([0, 30, 70, 100]).map(lambda value: {"percentage": value}),
    ]
    if variant:
        outcomes.append(st.just({"split": {"red": 1, "blue": 2}}))
    outcome = st.one_of(outcomes)
    rule = st.tuples(st.lists(small_conditions(), max_size=2), outcome).map(
        lambda parts: {"when": parts[0], **parts[1]}
    )
    return {
        "enabled": st.booleans(),
        "rules": st.lists(rule, max_size=2),
        "tenants": st.lists(st.sampled_from(IDS), max_size=2, unique=True),
        "excludedTenants": st.lists(st.sampled_from(IDS), max_size=1),
        "tiers": st.lists(st.sampled_from(TIERS), max_size=1),
        "percentage": st.sampled_from([0, 30, 70, 100]),
        "stickiness": st.sampled_from(["id", "tier", *ATTRIBUTES]),
        "requires": st.lists(st.sampled_from(earlier), max_size=1) if earlier else st.just([]),
        "split": st.just({"red": 1, "blue": 1}),
    }[field]


FIELDS = ("enabled", "rules", "tenants", "excludedTenants", "tiers", "percentage", "stickiness")


def fields(variant: bool) -> tuple[str, ...]:
    """The fields an edit may touch: `requires`, and `split` on a variant flag, too."""
    return (*FIELDS, "requires", *(["split"] if variant else []))


@st.composite
def edits(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    """A document of up to three small flags (each may require earlier ones), and the same
    document with one to three fields set to new values or removed."""
    old: dict[str, Any] = {}
    for index, key in enumerate(["a", "b", "c"][: draw(st.integers(1, 3))]):
        variant = draw(st.booleans())
        flag: dict[str, Any] = {"enabled": True}
        if variant:
            flag |= {"variants": {"red": 1, "blue": 2}, "defaultVariant": "red"}
            flag |= {"offVariant": "blue"} if draw(st.booleans()) else {}
        for field in draw(st.lists(st.sampled_from(fields(variant)), unique=True)):
            flag[field] = draw(field_values(field, list(old)[:index], variant))
        old[key] = flag
    new = copy.deepcopy(old)
    for _ in range(draw(st.integers(1, 3))):
        key = draw(st.sampled_from(sorted(new)))
        field = draw(st.sampled_from(fields("variants" in new[key])))
        earlier = [name for name in new if name < key]
        if field in new[key] and field != "enabled" and draw(st.booleans()):
            del new[key][field]
        else:
            new[key][field] = draw(field_values(field, earlier, "variants" in new[key]))
    return old, new


@given(documents=edits(), data=st.data())
def test_a_flag_reported_assessed_without_some_inputs_shows_every_change_they_would(
    documents: tuple[dict[str, Any], dict[str, Any]], data: st.DataObject
) -> None:
    old, new = documents
    values = st.one_of(st.none(), st.sampled_from(VALUES))
    full = []
    for tenant_id in IDS:
        attributes = {name: data.draw(values) for name in ATTRIBUTES}
        present = {name: value for name, value in attributes.items() if value is not None}
        tier = data.draw(st.one_of(st.none(), st.sampled_from(TIERS)))
        full.append(Tenant(tenant_id, tier, present))
    dropped = set(data.draw(st.lists(st.sampled_from([*ATTRIBUTES, "tier"]), min_size=1)))
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
