"""`flagkit.explain.explain`: each step of the evaluation order, deciding and passing, and the
answer it ends in held equal to `evaluate`'s by a property over generated documents."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import mmh3
import pytest
from hypothesis import given
from hypothesis import strategies as st

from flagkit.compiler import compile_document
from flagkit.document import check_document
from flagkit.evaluation import evaluate
from flagkit.explain import explain
from flagkit.explanation import NOT_REACHED, PASSED, SKIPPED
from flagkit.flagset import FlagSet
from flagkit.model import Tenant
from flagkit.timestamps import format_timestamp, parse_timestamp
from tests.strategies import documents, json_values, tenant_ids, tiers

EVE = parse_timestamp("2026-12-24T09:00:00Z")

DOCUMENT: dict[str, Any] = {
    "_segments": {"beta": ["globex", "hooli"]},
    "payments": {"enabled": True},
    "paymentsOff": {"enabled": False},
    "halfPayments": {"enabled": True, "percentage": 50},
    "killed": {"enabled": False, "tenants": ["acme"]},
    "everyone": {"enabled": True},
    "window": {
        "enabled": True,
        "activeFrom": "2026-12-24T08:00:00Z",
        "activeUntil": "2026-12-25T00:00:00Z",
    },
    "needsPayments": {"enabled": True, "requires": ["payments"], "tenants": ["acme"]},
    "needsOff": {"enabled": True, "requires": ["payments", "paymentsOff"]},
    "needsHalf": {"enabled": True, "requires": ["halfPayments"]},
    "lists": {
        "enabled": True,
        "excludedTenants": ["initech"],
        "tenants": ["acme", "initech"],
        "segments": ["beta"],
        "tiers": ["enterprise"],
        "percentage": 25,
    },
    "ruled": {
        "enabled": True,
        "rules": [
            {
                "id": "eu-pro",
                "when": [
                    {"attribute": "region", "in": ["eu-west-1"]},
                    {"attribute": "plan", "equals": "pro", "ignoreCase": True},
                ],
                "serve": True,
            },
            {"id": "late", "when": [{"attribute": "now", "gte": EVE}], "serve": False},
            {"when": [{"attribute": "tier", "equals": "free"}], "percentage": 25},
        ],
        "tenants": ["acme"],
    },
    "theme": {
        "enabled": True,
        "variants": {"classic": 1, "fresh": 2, "bold": 3},
        "defaultVariant": "classic",
        "offVariant": "classic",
        "split": {"classic": 50, "fresh": 25, "bold": 25},
    },
}


def flagset_at(document: Mapping[str, Any], at: float) -> FlagSet:
    return compile_document(check_document(document, now=at), version="v1", clock=lambda: at)


FLAGS = flagset_at(DOCUMENT, EVE - 3600)

# (flag, tenant, deciding step, its outcome, its sentence)
DECIDING: list[tuple[str, object, str, str, str]] = [
    (
        "killed",
        "acme",
        "kill switch",
        "decided: off",
        "killed is switched off (enabled: false) for every tenant",
    ),
    (
        "killed",
        42,
        "kill switch",
        "decided: off",
        "killed is switched off (enabled: false) for every tenant",
    ),
    (
        "everyone",
        42,
        "tenant",
        "decided: error INVALID_CONTEXT",
        "the tenant cannot be read: a tenant is a str, a flagkit.Tenant, a mapping with 'id' "
        "or an object with .id; got int",
    ),
    (
        "window",
        "acme",
        "default",
        "decided: on",
        "window has no targeting: the same answer for every tenant",
    ),
    (
        "needsPayments",
        "acme",
        "tenants/segments",
        "decided: on",
        "tenant 'acme' is listed in tenants",
    ),
    (
        "needsOff",
        "acme",
        "prerequisites",
        "decided: off",
        "requires paymentsOff, which is off for tenant 'acme' (its rule: kill-switch)",
    ),
    (
        "needsHalf",
        None,
        "prerequisites",
        "decided: error TARGETING_KEY_MISSING",
        "requires halfPayments, which cannot answer: TARGETING_KEY_MISSING",
    ),
    (
        "lists",
        "initech",
        "excludedTenants",
        "decided: off",
        "tenant 'initech' is in excludedTenants",
    ),
    ("lists", "acme", "tenants/segments", "decided: on", "tenant 'acme' is listed in tenants"),
    (
        "lists",
        "hooli",
        "tenants/segments",
        "decided: on",
        "tenant 'hooli' is listed in segment beta",
    ),
    (
        "lists",
        Tenant("umbrella", "enterprise"),
        "tiers",
        "decided: on",
        "tier 'enterprise' is in tiers",
    ),
    # Ranks by the public formula (test_the_bucket_is_the_public_formula).
    (
        "lists",
        Tenant("soylent", "free"),
        "percentage",
        "decided: off",
        "bucket 3890 of 'soylent' is not below the threshold 2500 (25%): out",
    ),
    (
        "lists",
        "wonka",
        "percentage",
        "decided: on",
        "bucket 408 of 'wonka' is below the threshold 2500 (25%): in",
    ),
    (
        "lists",
        None,
        "percentage",
        "decided: error TARGETING_KEY_MISSING",
        "the flag draws by tenant id, and none was given",
    ),
    (
        "ruled",
        {"id": "x", "region": "eu-west-1", "plan": "PRO"},
        "rule eu-pro",
        "decided: on",
        "all 2 conditions hold",
    ),
    (
        "ruled",
        {"id": "initech", "tier": "free"},
        "rule rules[2]",
        "decided: on",
        "its condition holds; bucket 647 of 'initech' is below the threshold 2500 (25%): in",
    ),
    (
        "ruled",
        {"id": "soylent", "tier": "free"},
        "rule rules[2]",
        "decided: off",
        "its condition holds; bucket 9430 of 'soylent' is not below the threshold 2500 (25%): out",
    ),
    (
        "ruled",
        {"id": "nobody", "region": "us-east-1"},
        "default",
        "decided: off",
        "no step above decided: the flag's default",
    ),
    (
        "theme",
        "hooli",
        "default",
        "decided: variant fresh",
        "theme has no targeting: the same answer for every tenant; "
        "the split puts 'hooli' at 56 of 100: variant fresh",
    ),
    (
        "theme",
        "acme",
        "default",
        "decided: variant classic (off)",
        "theme has no targeting: the same answer for every tenant; "
        "the split puts 'acme' at 36 of 100: variant classic",
    ),
]


@pytest.mark.parametrize(
    ("key", "tenant", "step", "outcome", "sentence"),
    DECIDING,
    ids=[f"{key}-{step}-{outcome}-{tenant!r}" for key, tenant, step, outcome, _ in DECIDING],
)
def test_the_deciding_step_and_its_sentence(
    key: str, tenant: object, step: str, outcome: str, sentence: str
) -> None:
    explained = explain(FLAGS, key, tenant)
    deciding = explained.deciding_step
    assert deciding is not None
    assert (deciding.name, deciding.outcome, deciding.sentence) == (step, outcome, sentence)
    assert explained.evaluation == evaluate(FLAGS, key, tenant)
    after = explained.steps[explained.steps.index(deciding) + 1 :]
    assert {later.outcome for later in after} <= {NOT_REACHED}


def test_a_flag_walk_lists_every_step_with_its_conditions() -> None:
    explained = explain(FLAGS, "ruled", {"id": "acme", "region": "eu-west-1", "plan": "basic"})
    assert [(step.name, step.outcome, step.sentence) for step in explained.steps] == [
        ("kill switch", PASSED, "ruled is enabled"),
        ("launch window", SKIPPED, "ruled has no launch window"),
        ("prerequisites", SKIPPED, "ruled requires no other flag"),
        ("excludedTenants", SKIPPED, "ruled excludes no tenant"),
        ("rule eu-pro", PASSED, "condition 2 of 2 does not hold"),
        ("rule late", PASSED, "condition 1 of 1 does not hold"),
        ("rule rules[2]", PASSED, "condition 1 of 1 does not hold"),
        ("tenants/segments", "decided: on", "tenant 'acme' is listed in tenants"),
        ("tiers", NOT_REACHED, "an earlier step decided"),
        ("percentage", NOT_REACHED, "an earlier step decided"),
        ("default", NOT_REACHED, "an earlier step decided"),
    ]
    checks = [check.describe() for step in explained.steps for check in step.conditions]
    assert checks == [
        'region in ["eu-west-1"]: "eu-west-1" → holds',
        'plan (ignoring case) equals "pro": "basic" → does not hold',
        'now gte 1798102800.0: "2026-12-24T08:00:00Z" → does not hold',
        'tier equals "free": missing → does not hold',
    ]
    assert explained.steps[6].conditions[0].as_dict()["value"] == "missing"


@pytest.mark.parametrize(
    ("at", "outcome", "sentence"),
    [
        (
            "2026-12-24T07:59:59Z",
            "decided: off",
            "2026-12-24T07:59:59Z is before activeFrom 2026-12-24T08:00:00Z",
        ),
        ("2026-12-24T08:00:00Z", PASSED, "2026-12-24T08:00:00Z is inside the launch window"),
        (
            "2026-12-25T00:00:00Z",
            "decided: off",
            "2026-12-25T00:00:00Z is at or after activeUntil 2026-12-25T00:00:00Z",
        ),
    ],
    ids=["before", "inside", "after"],
)
def test_the_launch_window_step_reads_the_instant_explained(
    at: str, outcome: str, sentence: str
) -> None:
    instant = parse_timestamp(at)
    explained = explain(FLAGS, "window", "acme", now=instant)
    window = explained.steps[1]
    assert (window.name, window.outcome, window.sentence) == ("launch window", outcome, sentence)
    assert explained.evaluation == evaluate(flagset_at(DOCUMENT, instant), "window", "acme")
    assert explained.now == instant


def test_prerequisites_carry_each_prerequisite_s_own_answer() -> None:
    step = explain(FLAGS, "needsOff", "acme").steps[2]
    assert [(answer.flag, answer.evaluation.rule) for answer in step.prerequisites] == [
        ("payments", "static"),
        ("paymentsOff", "kill-switch"),
    ]
    passed = explain(FLAGS, "needsPayments", "acme").steps[2]
    assert (passed.outcome, passed.sentence) == (PASSED, "every prerequisite is on: payments")


@pytest.mark.parametrize(
    ("tenant", "rank", "inside"),
    [("wonka", 408, True), ("soylent", 3890, False)],
    ids=["in", "out"],
)
def test_the_bucket_is_the_public_formula(tenant: str, rank: int, inside: bool) -> None:
    h = mmh3.hash(f"lists:{tenant}", 0, signed=False)
    assert (h % 100) * 100 + (h // 100) % 100 == rank
    bucket = explain(FLAGS, "lists", tenant).steps[-2].bucket
    assert bucket is not None
    assert bucket.as_dict() == {
        "salt": "lists",
        "key": tenant,
        "rank": rank,
        "threshold": 2500,
        "inside": inside,
    }


def test_an_unknown_flag_is_evaluate_s_flag_not_found_with_no_steps() -> None:
    explained = explain(FLAGS, "nope", "acme")
    assert (explained.steps, explained.deciding_step) == ((), None)
    assert explained.evaluation == evaluate(FLAGS, "nope", "acme")


def test_as_dict_is_the_evaluation_the_instant_and_the_steps() -> None:
    shown = explain(FLAGS, "needsOff", "acme").as_dict()
    assert shown["at"] == format_timestamp(EVE - 3600)
    assert shown["evaluation"] == evaluate(FLAGS, "needsOff", "acme").as_dict()
    assert shown["steps"][2] == {
        "name": "prerequisites",
        "outcome": "decided: off",
        "sentence": "requires paymentsOff, which is off for tenant 'acme' (its rule: kill-switch)",
        "prerequisites": [
            {"flag": "payments", "evaluation": evaluate(FLAGS, "payments", "acme").as_dict()},
            {"flag": "paymentsOff", "evaluation": evaluate(FLAGS, "paymentsOff", "acme").as_dict()},
        ],
    }


# -- the property: explain ends where evaluate does ----------------------------------------------

INSTANTS = st.integers(int(EVE) - 7200, int(EVE) + 7200).map(float)


@st.composite
def timed_documents(draw: st.DrawFn) -> dict[str, Any]:
    """A generated document whose flags may also have a launch window and a rule on `now`."""
    document = draw(documents())
    for key, flag in document.items():
        if key.startswith("_") or not isinstance(flag, dict):
            continue
        if draw(st.booleans()):
            start, end = sorted(draw(st.lists(INSTANTS, min_size=2, max_size=2, unique=True)))
            bounds = {"activeFrom": start, "activeUntil": end}
            for name in draw(st.lists(st.sampled_from(sorted(bounds)), min_size=1, unique=True)):
                flag[name] = format_timestamp(bounds[name])
        if draw(st.booleans()):
            test = draw(st.sampled_from(["lt", "gte"]))
            rule = {"when": [{"attribute": "now", test: draw(INSTANTS)}], "serve": True}
            rules = flag.get("rules", [])
            rules.insert(draw(st.integers(0, len(rules))), rule)
            flag["rules"] = rules
        # Mostly enabled: a kill switch decides before any other step can.
        flag["enabled"] = draw(st.sampled_from([True, True, True, False]))
    return document


def named_in(document: Mapping[str, Any]) -> tuple[list[str], list[str], list[str]]:
    """The tenant ids, tiers and stickiness attributes `document` names: where steps decide."""
    ids = [tenant for members in document.get("_segments", {}).values() for tenant in members]
    tier_names, sticky = [], []
    for key, flag in document.items():
        if isinstance(flag, dict) and not key.startswith("_"):
            ids += flag.get("tenants", []) + flag.get("excludedTenants", [])
            tier_names += flag.get("tiers", [])
            sticky += [flag["stickiness"]] if "stickiness" in flag else []
    return ids, tier_names, sticky


@st.composite
def drawn_tenants(draw: st.DrawFn, document: Mapping[str, Any]) -> object:
    """Mostly tenants the document names; also no id, an empty id, text that cannot be
    hashed, and a value that is no tenant at all."""
    ids, tier_names, sticky = named_in(document)
    known = [st.sampled_from(pool) for pool in (ids, tier_names) if pool]
    tenant_id = draw(
        st.one_of(
            *([st.sampled_from(ids)] if ids else []),
            st.sampled_from([None, "", "bad\udcff"]),
            tenant_ids(),
        )
    )
    tier = draw(
        st.one_of(st.none(), *([st.sampled_from(tier_names)] if tier_names else []), tiers())
    )
    names = st.sampled_from(["region", "userId", "plan", *sticky])
    values = st.one_of(json_values(), st.integers(-5, 5), *known)
    attributes = draw(st.dictionaries(names, values, max_size=3))
    tenant = Tenant(tenant_id, tier, attributes)
    return draw(st.sampled_from([tenant, tenant, tenant, tenant_id, 3.5]))


@given(st.data(), timed_documents(), INSTANTS)
def test_explain_ends_in_evaluate_s_answer(
    data: st.DataObject, document: dict[str, Any], at: float
) -> None:
    flagset = flagset_at(document, at)
    tenants = data.draw(st.lists(drawn_tenants(document), min_size=1, max_size=6))
    for key in flagset.flags:
        for tenant in tenants:
            explained = explain(flagset, key, tenant)
            assert explained.evaluation == evaluate(flagset, key, tenant), (key, tenant)
            outcomes = [step.outcome for step in explained.steps]
            decided = [n for n, outcome in enumerate(outcomes) if outcome.startswith("decided")]
            assert len(decided) == 1, outcomes
            assert set(outcomes[decided[0] + 1 :]) <= {NOT_REACHED}, outcomes
            assert NOT_REACHED not in outcomes[: decided[0]], outcomes
            for step in explained.steps:
                if step.bucket is not None:
                    h = mmh3.hash(f"{step.bucket.salt}:{step.bucket.key}", 0, signed=False)
                    assert step.bucket.rank == (h % 100) * 100 + (h // 100) % 100
