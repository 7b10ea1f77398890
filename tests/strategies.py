"""Hypothesis strategies that build flag documents, for any test that needs them.

`documents()` builds documents that pass every check (schema and semantic):
`requires` only names flags defined earlier in the same document (so there is
no cycle), `segments` and `inSegment` only name segments in `_segments`, rule
ids are unique, variant names exist, split weights add up to more than 0 and
percentages have at most two decimals. `mutated_documents()` starts from one
of those and, most of the time, breaks one thing: a value replaced by a wrong
type or an out-of-range number, a key renamed to a bad one, a required key
removed or a conflicting one added.

Every value is plain JSON data (no NaN, no infinities, string keys only), so
`json.dumps(doc)` always works and the parsed copy equals the original.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from hypothesis import strategies as st

from flagkit.document import RESERVED_FLAG_KEYS

__all__ = [
    "BAD_KEYS",
    "BAD_VALUES",
    "attributes",
    "boolean_flags",
    "conditions",
    "documents",
    "flag_keys",
    "json_values",
    "mutated_documents",
    "names",
    "percentages",
    "rules",
    "segment_tables",
    "tenant_ids",
    "tiers",
    "variant_flags",
]

FLAG_KEY_REGEX = r"[a-z][a-zA-Z0-9_-]{0,63}"
NAME_REGEX = r"[A-Za-z0-9_][A-Za-z0-9_.:-]{0,63}"

OPERATORS = ("equals", "notEquals", "in", "notIn", "inSegment", "notInSegment", "exists")

BAD_VALUES: tuple[Any, ...] = (
    # wrong types
    "yes",
    "",
    "25%",
    0,
    1,
    -1,
    1.5,
    True,
    False,
    None,
    [],
    [""],
    [1],
    ["FeatureA"],
    {},
    {"": 1},
    {"x": -1},
    # out of range / badly formed
    -0.01,
    100.01,
    120,
    1_000_001,
    12.345,
    "x" * 257,
    "FeatureA",
    "feature a",
    "bad id",
    "\u00e9t\u00e9",
)
"""Values that are wrong for most fields of a flag (and right for a few, such as attributes)."""

BAD_KEYS: tuple[str, ...] = (
    "FeatureA",
    "feature a",
    "",
    "a" * 65,
    "1st",
    "priority",
    "Enabled",
    "percentge",
    "_extra",
    "$extra",
    "caf\u00e9",
)
"""Keys that are not a flag key, a field or a name (some are fine as attributes or metadata)."""

EXTRA_FIELDS: tuple[str, ...] = (
    "enabled",
    "serve",
    "percentage",
    "split",
    "equals",
    "in",
    "exists",
    "attribute",
    "variants",
)
"""Keys whose addition can make an object ambiguous (two outcomes, two operators)."""


def flag_keys() -> st.SearchStrategy[str]:
    """Valid flag keys: `^[a-z][a-zA-Z0-9_-]{0,63}$`."""
    return st.from_regex(FLAG_KEY_REGEX, fullmatch=True)


def names() -> st.SearchStrategy[str]:
    """Valid segment, variant and rule names."""
    return st.from_regex(NAME_REGEX, fullmatch=True)


def tenant_ids() -> st.SearchStrategy[str]:
    """Valid tenant ids (1 to 256 characters), ASCII and not: `acme`, `Société-Générale`, `😀`."""
    return st.one_of(
        st.from_regex(r"[a-z][a-z0-9-]{0,15}", fullmatch=True),
        st.sampled_from(["acme", "globex", "initech", "Soci\u00e9t\u00e9-G\u00e9n\u00e9rale"]),
        st.text(min_size=1, max_size=24),
        st.text(st.characters(min_codepoint=0x80), min_size=1, max_size=24),
        st.text(st.sampled_from("a\u00e9\u682a\U0001f600"), min_size=250, max_size=256),
    )


def tiers() -> st.SearchStrategy[str]:
    """Valid tier names (1 to 256 characters)."""
    return st.one_of(
        st.sampled_from(["free", "gold", "enterprise"]), st.text(min_size=1, max_size=12)
    )


def percentages() -> st.SearchStrategy[int | float]:
    """0 to 100 in steps of 0.01, as JSON would carry them (`25`, `12.5`, `0.01`)."""
    return st.one_of(st.integers(0, 100), st.integers(0, 10_000).map(lambda n: n / 100))


def _scalars() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**53), 2**53),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=10),
    )


def json_values() -> st.SearchStrategy[Any]:
    """Any JSON value, a few levels deep at most."""
    return st.recursive(
        _scalars(),
        lambda children: st.one_of(
            st.lists(children, max_size=3),
            st.dictionaries(st.text(max_size=8), children, max_size=3),
        ),
        max_leaves=6,
    )


def attributes() -> st.SearchStrategy[dict[str, Any]]:
    """A flag's own attributes: any key that is not a reserved field, any JSON value."""
    keys = st.one_of(
        st.sampled_from(["temperature", "bedrockModelId", "maxTokens", "tenant", "percentge"]),
        st.text(max_size=12),
    ).filter(lambda key: key not in RESERVED_FLAG_KEYS)
    return st.dictionaries(keys, json_values(), max_size=3)


def segment_tables() -> st.SearchStrategy[dict[str, list[str]]]:
    """A `_segments` object: segment name to tenant ids."""
    return st.dictionaries(names(), st.lists(tenant_ids(), max_size=4), max_size=3)


@st.composite
def conditions(draw: st.DrawFn, segments: Sequence[str] = ()) -> dict[str, Any]:
    """One condition with exactly one operator; segment operators only name `segments`."""
    operators = [op for op in OPERATORS if segments or op not in ("inSegment", "notInSegment")]
    operator = draw(st.sampled_from(operators))
    attribute = draw(
        st.one_of(st.sampled_from(["id", "tier", "region", "userId"]), st.text(min_size=1, max_size=12))
    )
    if operator in ("equals", "notEquals"):
        operand: Any = draw(_scalars())
    elif operator in ("in", "notIn"):
        operand = draw(st.lists(_scalars(), max_size=4))
    elif operator in ("inSegment", "notInSegment"):
        operand = draw(st.sampled_from(list(segments)))
    else:
        operand = draw(st.booleans())
    return {"attribute": attribute, operator: operand}


def _splits(variants: Sequence[str]) -> st.SearchStrategy[dict[str, int]]:
    """Weights for some of `variants`, at least one of them positive."""
    chosen = st.lists(st.sampled_from(list(variants)), min_size=1, unique=True)
    return chosen.flatmap(
        lambda picked: st.fixed_dictionaries(
            {name: st.integers(0, 1_000_000) for name in picked}
        ).filter(lambda split: sum(split.values()) > 0)
    )


@st.composite
def rules(
    draw: st.DrawFn,
    segments: Sequence[str] = (),
    variants: Sequence[str] = (),
    rule_id: str | None = None,
) -> dict[str, Any]:
    """One rule: optional id, description and conditions, then exactly one outcome."""
    rule: dict[str, Any] = {}
    if rule_id is not None:
        rule["id"] = rule_id
    if draw(st.booleans()):
        rule["description"] = draw(st.text(max_size=20))
    if draw(st.integers(0, 4)):
        rule["when"] = draw(st.lists(conditions(segments), max_size=3))
    outcomes = ["serve-bool", "percentage"] + (["serve-variant", "split"] if variants else [])
    outcome = draw(st.sampled_from(outcomes))
    if outcome == "serve-bool":
        rule["serve"] = draw(st.booleans())
    elif outcome == "serve-variant":
        rule["serve"] = draw(st.sampled_from(list(variants)))
    elif outcome == "percentage":
        rule["percentage"] = draw(percentages())
    else:
        rule["split"] = draw(_splits(variants))
    return rule


@st.composite
def _rule_lists(
    draw: st.DrawFn, segments: Sequence[str], variants: Sequence[str]
) -> list[dict[str, Any]]:
    ids = draw(st.lists(st.one_of(st.none(), names()), max_size=4))
    seen: set[str] = set()
    unique = []
    for rule_id in ids:  # rule ids are unique within a flag; a missing id may repeat
        unique.append(rule_id if rule_id not in seen else None)
        if rule_id is not None:
            seen.add(rule_id)
    return [draw(rules(segments, variants, rule_id)) for rule_id in unique]


@st.composite
def _targeting(
    draw: st.DrawFn, segments: Sequence[str], requirable: Sequence[str]
) -> dict[str, Any]:
    """The optional boolean-form fields every kind of flag may carry."""
    fields: dict[str, Any] = {}
    optional: dict[str, st.SearchStrategy[Any]] = {
        "description": st.text(max_size=30),
        "tenants": st.lists(tenant_ids(), max_size=4),
        "excludedTenants": st.lists(tenant_ids(), max_size=3),
        "tiers": st.lists(tiers(), max_size=3),
        "percentage": percentages(),
        "stickiness": st.one_of(st.just("userId"), st.text(min_size=1, max_size=12)),
        "salt": st.text(max_size=16),
    }
    if segments:
        optional["segments"] = st.lists(st.sampled_from(list(segments)), max_size=3)
    if requirable:
        optional["requires"] = st.lists(st.sampled_from(list(requirable)), max_size=3, unique=True)
    for name in draw(st.lists(st.sampled_from(sorted(optional)), unique=True)):
        fields[name] = draw(optional[name])
    return fields


@st.composite
def boolean_flags(
    draw: st.DrawFn,
    segments: Sequence[str] = (),
    requirable: Sequence[str] = (),
    with_rules: bool = True,
) -> dict[str, Any]:
    """A valid boolean flag: `enabled`, targeting fields, attributes and (optionally) rules.

    `segments` and `requirable` are the segment names and flag keys it may refer to.
    """
    flag: dict[str, Any] = draw(attributes())
    flag.update(draw(_targeting(segments, requirable)))
    if with_rules and draw(st.booleans()):
        flag["rules"] = draw(_rule_lists(segments, ()))
    flag["enabled"] = draw(st.booleans())
    return flag


@st.composite
def variant_flags(
    draw: st.DrawFn, segments: Sequence[str] = (), requirable: Sequence[str] = ()
) -> dict[str, Any]:
    """A valid variant flag: `variants`, `defaultVariant`, optional `offVariant`, splits, rules."""
    flag: dict[str, Any] = draw(attributes())
    flag.update(draw(_targeting(segments, requirable)))
    variant_names = draw(st.lists(names(), min_size=1, max_size=4, unique=True))
    flag["variants"] = {name: draw(json_values()) for name in variant_names}
    flag["defaultVariant"] = draw(st.sampled_from(variant_names))
    if draw(st.booleans()):
        flag["offVariant"] = draw(st.sampled_from(variant_names))
    if draw(st.booleans()):
        flag["split"] = draw(_splits(variant_names))
    if draw(st.booleans()):
        flag["rules"] = draw(_rule_lists(segments, variant_names))
    flag["enabled"] = draw(st.booleans())
    return flag


@st.composite
def documents(draw: st.DrawFn, max_flags: int = 4) -> dict[str, Any]:
    """A document that passes the schema and every semantic check."""
    document: dict[str, Any] = {}
    if draw(st.booleans()):
        document["$schema"] = draw(
            st.sampled_from(["../schemas/flags.v1.schema.json", "https://flagkit.invalid/x.json"])
        )
    segments = draw(segment_tables())
    if segments or draw(st.booleans()):
        document["_segments"] = segments
    keys = draw(st.lists(flag_keys(), max_size=max_flags, unique=True))
    for index, key in enumerate(keys):
        earlier = keys[:index]
        document[key] = draw(
            st.one_of(
                boolean_flags(list(segments), earlier), variant_flags(list(segments), earlier)
            )
        )
    return document


def _locations(value: Any) -> list[tuple[Any, Any]]:
    """Every (container, key or index) pair in `value`, outermost first."""
    found: list[tuple[Any, Any]] = []
    stack = [value]
    while stack:
        container = stack.pop()
        if isinstance(container, dict):
            members = list(container.items())
        elif isinstance(container, list):
            members = list(enumerate(container))
        else:
            continue
        for key, child in members:
            found.append((container, key))
            stack.append(child)
    return found


@st.composite
def mutated_documents(draw: st.DrawFn) -> Any:
    """A valid document with (most of the time) one thing broken; sometimes left as it was."""
    document = copy.deepcopy(draw(documents()))
    locations = _locations(document)
    kinds = ["none", "add", "not-an-object"]
    if locations:
        kinds += ["replace"] * 6 + ["rename"] * 2 + ["delete"] * 2 + ["add"] * 2
    kind = draw(st.sampled_from(kinds))
    if kind == "not-an-object":
        return draw(st.sampled_from([[], "x", 1, None, True, [document]]))
    if kind == "none":
        return document
    if kind == "add":
        objects = [document] + [c[k] for c, k in locations if isinstance(c[k], dict)]
        target = draw(st.sampled_from(objects))
        key = draw(st.sampled_from(BAD_KEYS + EXTRA_FIELDS))
        target[key] = draw(st.one_of(st.sampled_from(BAD_VALUES), json_values()))
        return document
    container, key = draw(st.sampled_from(locations))
    if kind == "replace":
        container[key] = draw(st.one_of(st.sampled_from(BAD_VALUES), _scalars()))
    elif kind == "delete":
        if isinstance(container, dict):
            del container[key]
        else:
            container.pop(key)
    elif isinstance(container, dict):  # rename
        new_key = draw(st.sampled_from(BAD_KEYS))
        container[new_key] = container.pop(key)
    else:  # "rename" an array element: put a bad key's text in its place
        container[key] = draw(st.sampled_from(BAD_KEYS))
    return document
