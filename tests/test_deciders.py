"""`decider_for(flag)` answers exactly as `decide(flag, ...)`: the specialised closure, held to it.

Flags of the "lists and rollout" shape (kill switch, excludedTenants, tenants, segments,
tiers, percentage, salt) get the closure `_lists_and_rollout`; every other flag gets
`functools.partial(decide, flag)`. The strategies here are local on purpose.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flagkit.compiler import compile_document
from flagkit.document import check_document
from flagkit.evaluation import decide, decider_for
from flagkit.flagset import CompiledFlag, FlagSet
from flagkit.model import ErrorCode

# Documents hold UTF-8 text; tenants may also bring text with a lone surrogate, which
# cannot be hashed (both deciders must answer the same INVALID_CONTEXT error for it).
TEXT = st.characters(codec="utf-8")
UNHASHABLE_IDS = ["\ud800", "acme\udcff", "\udfff\ud800"]
KNOWN_IDS = ["acme", "globex", "initech", "Acme", "münchen", "東京", "😀", "a:b", " "]
KNOWN_TIERS = ["gold", "silver", "Gold", "ゴールド", " "]
SEGMENT_NAMES = ["beta", "vip", "eu.customers", "s-1"]

ids = st.one_of(st.sampled_from(KNOWN_IDS), st.text(TEXT, min_size=1, max_size=12))
tier_names = st.one_of(st.sampled_from(KNOWN_TIERS), st.text(TEXT, min_size=1, max_size=8))
percentages = st.integers(0, 10_000).map(lambda hundredths: hundredths / 100)
id_lists = st.lists(ids, max_size=6)


@st.composite
def lists_and_rollout_documents(draw: st.DrawFn) -> dict[str, Any]:
    segments = draw(st.dictionaries(st.sampled_from(SEGMENT_NAMES), id_lists, max_size=3))
    document: dict[str, Any] = {"_segments": segments}
    for number in range(draw(st.integers(1, 4))):
        flag: dict[str, Any] = {"enabled": draw(st.booleans())}
        if draw(st.booleans()):
            flag["tenants"] = draw(id_lists)
        if draw(st.booleans()) and segments:
            flag["segments"] = draw(st.lists(st.sampled_from(sorted(segments)), max_size=3))
        if draw(st.booleans()):
            # Often exclude tenants the flag also lists: exclusion must win.
            listed = flag.get("tenants", []) + [
                tenant for name in flag.get("segments", []) for tenant in segments[name]
            ]
            excluded = st.one_of(ids, *([st.sampled_from(listed)] if listed else []))
            flag["excludedTenants"] = draw(st.lists(excluded, max_size=6))
        if draw(st.booleans()):
            flag["tiers"] = draw(st.lists(tier_names, max_size=4))
        if draw(st.booleans()):
            flag["percentage"] = draw(percentages)
        if draw(st.booleans()):
            flag["salt"] = draw(st.text(TEXT, max_size=10))
        if draw(st.booleans()):
            flag["description"] = "drawn"
            flag["temperature"] = draw(st.floats(0, 1))
        document[f"flag{number}"] = flag
    return document


def listed_ids(document: Mapping[str, Any]) -> list[str]:
    found = [tenant for members in document["_segments"].values() for tenant in members]
    for key, flag in document.items():
        if not key.startswith("_"):
            found += flag.get("tenants", []) + flag.get("excludedTenants", [])
    return found


def contested_ids(document: Mapping[str, Any]) -> list[str]:
    """Ids a flag both excludes and lists (in `tenants` or one of its segments)."""
    found = []
    for key, flag in document.items():
        if not key.startswith("_"):
            listed = set(flag.get("tenants", []))
            for name in flag.get("segments", []):
                listed.update(document["_segments"][name])
            found += [tenant for tenant in flag.get("excludedTenants", []) if tenant in listed]
    return found


@st.composite
def tenants(
    draw: st.DrawFn, document: Mapping[str, Any]
) -> tuple[str | None, str | None, Mapping[str, Any]]:
    known = listed_ids(document)
    tenant_ids = st.one_of(
        st.none(),
        st.just(""),
        ids,
        st.sampled_from(UNHASHABLE_IDS),
        *([st.sampled_from(known)] if known else []),
    )
    tiers = [
        tier for key, flag in document.items() if key[0] != "_" for tier in flag.get("tiers", [])
    ]
    tier = draw(st.one_of(st.none(), tier_names, *([st.sampled_from(tiers)] if tiers else [])))
    attributes = draw(
        st.dictionaries(st.sampled_from(["region", "plan", "userId"]), ids, max_size=2)
    )
    # Mostly tenants the document names, above all those both listed and excluded by a
    # flag: that is where the steps compete.
    pools: list[list[str | None]] = [
        [*pool] for pool in (contested_ids(document), known, [None, ""]) if pool
    ]
    source = draw(st.integers(0, len(pools)))
    tenant_id = draw(tenant_ids if source == len(pools) else st.sampled_from(pools[source]))
    return tenant_id, tier, attributes


def compiled(document: Mapping[str, Any]) -> FlagSet:
    return compile_document(check_document(document), version="drawn")


@given(st.data())
def test_closure_answers_as_decide(data: st.DataObject) -> None:
    document = data.draw(lists_and_rollout_documents(), label="document")
    flagset = compiled(document)
    for flag in flagset.flags.values():
        decider = decider_for(flag)
        assert not isinstance(decider, functools.partial), flag.key
        assert not isinstance(flagset.deciders[flag.key], functools.partial), flag.key
    for tenant_id, tier, attributes in data.draw(
        st.lists(tenants(document), min_size=1, max_size=12), label="tenants"
    ):
        for key, flag in flagset.flags.items():
            expected = decide(flag, tenant_id, tier, attributes)
            assert decider_for(flag)(tenant_id, tier, attributes) is expected, key
            assert flagset.deciders[key](tenant_id, tier, attributes) is expected, key


# Hand-picked cases the property must not miss, on the closure and on decide alike.
EDGE_DOCUMENT: dict[str, Any] = {
    "_segments": {"beta": ["acme", "globex"]},
    "excludedBeatsListed": {"enabled": True, "excludedTenants": ["acme"], "tenants": ["acme"]},
    "excludedBeatsSegment": {"enabled": True, "excludedTenants": ["globex"], "segments": ["beta"]},
    "excludedBeatsTier": {"enabled": True, "excludedTenants": ["acme"], "tiers": ["gold"]},
    "excludedOnly": {"enabled": True, "excludedTenants": ["acme"]},
    "listed": {"enabled": True, "excludedTenants": ["wayne"], "tenants": ["acme", "initech"]},
    "tiersThenRollout": {"enabled": True, "tiers": ["gold"], "percentage": 50, "salt": "pct"},
    "rolloutOnly": {"enabled": True, "percentage": 33.33},
    # acme's rank under salt "pct" is 6559: exactly at the threshold, so out.
    "rankEdge": {"enabled": True, "percentage": 65.59, "salt": "pct"},
    "rankEdgeIn": {"enabled": True, "percentage": 65.6, "salt": "pct"},
    "static": {"enabled": True},
    "emptyLists": {"enabled": True, "tenants": [], "tiers": [], "excludedTenants": []},
    "killed": {"enabled": False, "tenants": ["acme"], "percentage": 100},
}
EDGE_TENANTS: list[tuple[str | None, str | None]] = [
    (tenant_id, tier)
    for tenant_id in (None, "", "acme", "globex", "ACME", "wayne", "initech", "münchen", "x\udcff")
    for tier in (None, "gold", "Gold", "")
]


@pytest.mark.parametrize("key", [key for key in EDGE_DOCUMENT if key[0] != "_"])
def test_closure_edges(key: str) -> None:
    flag = compiled(EDGE_DOCUMENT).flags[key]
    decider = decider_for(flag)
    assert not isinstance(decider, functools.partial)
    answers = set()
    for tenant_id, tier in EDGE_TENANTS:
        expected = decide(flag, tenant_id, tier, {})
        assert decider(tenant_id, tier, {}) is expected, (tenant_id, tier)
        answers.add((expected.on, expected.rule))
    assert answers  # every flag was asked something


def test_closure_edges_are_not_trivial() -> None:
    """The edge document does exercise excluded, listed, tier, rollout and error answers."""
    flags = compiled(EDGE_DOCUMENT).flags
    rules = {
        decide(flags[key], tenant_id, tier, {}).rule
        for key in flags
        for tenant_id, tier in EDGE_TENANTS
    }
    assert {"excludedTenants", "tenants", "segments:beta", "tiers", "percentage", "static"} <= rules
    assert {"default", "kill-switch", None} <= rules  # None: an error (missing or unhashable id)
    errors = {
        decide(flags[key], tenant_id, None, {}).error_code
        for key in flags
        for tenant_id in (None, "x\udcff")
    }
    assert errors == {None, ErrorCode.TARGETING_KEY_MISSING, ErrorCode.INVALID_CONTEXT}


GENERAL_FLAGS: dict[str, dict[str, Any]] = {
    "requires": {"enabled": True, "requires": ["base"]},
    "requiresAndLists": {"enabled": True, "requires": ["base"], "tenants": ["acme"]},
    "rules": {
        "enabled": True,
        "rules": [{"when": [{"attribute": "id", "equals": "a"}], "serve": True}],
    },
    "emptyRulesAndStickiness": {
        "enabled": True,
        "rules": [],
        "percentage": 10,
        "stickiness": "userId",
    },
    "stickiness": {"enabled": True, "percentage": 50, "stickiness": "userId"},
    "flagSplit": {
        "enabled": True,
        "variants": {"a": 1, "b": 2},
        "defaultVariant": "a",
        "split": {"a": 1, "b": 1},
    },
    "flagSplitWithTenants": {
        "enabled": True,
        "variants": {"a": 1, "b": 2},
        "defaultVariant": "a",
        "split": {"a": 1, "b": 1},
        "tenants": ["acme"],
    },
    "ruleSplit": {
        "enabled": True,
        "variants": {"a": 1, "b": 2},
        "defaultVariant": "a",
        "rules": [{"split": {"a": 1, "b": 1}}],
    },
}


@pytest.mark.parametrize("key", list(GENERAL_FLAGS))
def test_general_flags_are_bound_decide(key: str) -> None:
    flagset = compiled({"base": {"enabled": True}, key: GENERAL_FLAGS[key]})
    flag = flagset.flags[key]
    for decider in (decider_for(flag), flagset.deciders[key]):
        assert isinstance(decider, functools.partial)
        assert decider.func is decide
        assert decider.args == (flag,)
        assert decider.keywords == {}


@pytest.mark.parametrize("key", list(GENERAL_FLAGS))
def test_disabled_flags_of_any_shape_answer_the_kill_switch(key: str) -> None:
    flagset = compiled({"base": {"enabled": True}, key: {**GENERAL_FLAGS[key], "enabled": False}})
    flag: CompiledFlag = flagset.flags[key]
    decider = decider_for(flag)
    for tenant_id, tier in EDGE_TENANTS:
        assert decider(tenant_id, tier, {"userId": "u"}) is flag.disabled
        assert decide(flag, tenant_id, tier, {"userId": "u"}) is flag.disabled
    assert flag.disabled.rule == "kill-switch"
