"""Hypothesis strategies that build flag documents, for any test that needs them.

`documents()` builds documents that pass every check (schema and semantic):
`requires` only names flags defined earlier in the same document (so there is
no cycle), `segments` and `inSegment` only name segments in `_segments`, rule
ids are unique, variant names exist, split weights add up to more than 0 and
percentages have at most two decimals. Its parts are strategies of their own:
`flag_keys()`, `tenant_ids()` (non-ASCII ones included), `names()`, `tiers()`,
`percentages()`, `attributes()`, `conditions()`, `rules()`, `boolean_flags()`,
`variant_flags()`.

`mutations(document)` (and `mutated_documents()`, the two together) change a
valid document in one place, most of the time breaking it: a value replaced by
a wrong type, an out-of-range number, a too long or badly formed string; a key
renamed to a bad flag key, name or unknown field; a required member removed; a
second outcome or operator added. `boundary_mutants(document)` makes every such
change the tables here know of, deterministically.

Every value is plain JSON data (no NaN, no infinities, string keys only) and all
text is valid Unicode (no lone surrogates, `UTF8_CHARACTERS`), so
`json.dumps(doc, ensure_ascii=False).encode("utf-8")` always works and the parsed copy
equals the original.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Sequence
from functools import cache
from typing import Any

from hypothesis import strategies as st

from flagkit.document import DECLARED_ATTRIBUTES, RESERVED_FLAG_KEYS
from flagkit.field_hints import likely_meant
from flagkit.fields import CONDITION_MODIFIERS, CONDITION_TESTS

__all__ = [
    "ADDITIONS",
    "BAD_KEYS",
    "BAD_VALUES",
    "BOUNDARY_VALUES",
    "OPERATORS",
    "RENAMES",
    "TENANT_EXAMPLES",
    "UTF8_CHARACTERS",
    "attributes",
    "boolean_flags",
    "boundary_mutants",
    "conditions",
    "documents",
    "flag_keys",
    "json_values",
    "mutated_documents",
    "mutations",
    "names",
    "percentages",
    "rules",
    "segment_tables",
    "tenant_ids",
    "tiers",
    "variant_flags",
]

UTF8_CHARACTERS = st.characters(codec="utf-8")
"""Characters UTF-8 can encode: no lone surrogates (U+D800 to U+DFFF).

A document is UTF-8 text; a string with a lone surrogate cannot be encoded, so
`Flags.from_dict` refuses the document, a `salt` with one is a document error and
AppConfig cannot store it. Every text strategy here draws from these characters (or
from a subset of them), so that what `documents()` builds really is valid.
"""

FLAG_KEY_REGEX = r"[a-z][a-zA-Z0-9_-]{0,63}"
NAME_REGEX = r"[A-Za-z0-9_][A-Za-z0-9_.:-]{0,63}"

TENANT_EXAMPLES: tuple[str, ...] = (
    "acme",
    "globex",
    "initech",
    "Soci\u00e9t\u00e9-G\u00e9n\u00e9rale",
    "\u682a\u5f0f\u4f1a\u793e",
    "\U0001f600",
    " ",
    "x" * 256,
    "\u00e9" * 256,
    "\U0001f600" * 256,
)
"""Fixed tenant ids worth trying every time: non-ASCII, a lone space, the longest allowed."""

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


@cache
def flag_keys() -> st.SearchStrategy[str]:
    """Valid flag keys: `^[a-z][a-zA-Z0-9_-]{0,63}$`."""
    return st.from_regex(FLAG_KEY_REGEX, fullmatch=True)


@cache
def names() -> st.SearchStrategy[str]:
    """Valid segment, variant and rule names."""
    return st.from_regex(NAME_REGEX, fullmatch=True)


@cache
def tenant_ids() -> st.SearchStrategy[str]:
    """Valid tenant ids (1 to 256 characters), ASCII and not: `acme`, `Société-Générale`, `😀`."""
    return st.one_of(
        st.sampled_from(TENANT_EXAMPLES),
        st.from_regex(r"[a-z][a-z0-9-]{0,15}", fullmatch=True),
        st.text(UTF8_CHARACTERS, min_size=1, max_size=12),
        st.text(st.characters(codec="utf-8", min_codepoint=0x80), min_size=1, max_size=12),
    )


@cache
def tiers() -> st.SearchStrategy[str]:
    """Valid tier names (1 to 256 characters)."""
    return st.one_of(
        st.sampled_from(["free", "gold", "enterprise"]),
        st.text(UTF8_CHARACTERS, min_size=1, max_size=12),
    )


@cache
def percentages() -> st.SearchStrategy[int | float]:
    """0 to 100 in steps of 0.01, as JSON would carry them (`25`, `12.5`, `0.01`)."""
    return st.one_of(st.integers(0, 100), st.integers(0, 10_000).map(lambda n: n / 100))


@cache
def _scalars() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**53), 2**53),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(UTF8_CHARACTERS, max_size=10),
    )


@cache
def json_values() -> st.SearchStrategy[Any]:
    """Any JSON value, a few levels deep at most."""
    return st.recursive(
        _scalars(),
        lambda children: st.one_of(
            st.lists(children, max_size=3),
            st.dictionaries(st.text(UTF8_CHARACTERS, max_size=8), children, max_size=3),
        ),
        max_leaves=4,
    )


@cache
def _variant_values() -> st.SearchStrategy[Any]:
    return st.one_of(
        _scalars(),
        st.sampled_from([{"colour": "#0000ff", "label": "Buy now"}, ["a", 1, None], {}, []]).map(
            copy.deepcopy
        ),
    )


@cache
def attributes() -> st.SearchStrategy[dict[str, Any]]:
    """A flag's own attributes: any key that is not a reserved field, any JSON value.

    Those one edit from a field's name (`tenant`, `percentge`) come with the
    `declaredAttributes` that makes them attributes rather than typos.
    """
    keys = st.one_of(
        st.sampled_from(["temperature", "bedrockModelId", "maxTokens", "tenant", "percentge"]),
        st.text(UTF8_CHARACTERS, max_size=12),
    ).filter(lambda key: key not in RESERVED_FLAG_KEYS)
    return st.dictionaries(keys, json_values(), max_size=2).map(_declare_near_field_names)


def _declare_near_field_names(attributes: dict[str, Any]) -> dict[str, Any]:
    near = [name for name in attributes if likely_meant(name, sorted(RESERVED_FLAG_KEYS))]
    return {**attributes, DECLARED_ATTRIBUTES: near} if near else attributes


@cache
def segment_tables() -> st.SearchStrategy[dict[str, list[str]]]:
    """A `_segments` object: segment name to tenant ids."""
    return st.dictionaries(names(), st.lists(tenant_ids(), max_size=4), max_size=3)


@st.composite
def conditions(draw: st.DrawFn, segments: Sequence[str] = ()) -> dict[str, Any]:
    """One condition with exactly one operator; segment operators only name `segments`."""
    operators = [op for op in OPERATORS if segments or op not in ("inSegment", "notInSegment")]
    operator = draw(st.sampled_from(operators))
    attribute = draw(
        st.one_of(
            st.sampled_from(["id", "tier", "region", "userId"]),
            st.text(UTF8_CHARACTERS, min_size=1, max_size=12),
        )
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
        rule["description"] = draw(st.text(UTF8_CHARACTERS, max_size=20))
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
        "description": st.text(UTF8_CHARACTERS, max_size=30),
        "tenants": st.lists(tenant_ids(), max_size=4),
        "excludedTenants": st.lists(tenant_ids(), max_size=3),
        "tiers": st.lists(tiers(), max_size=3),
        "percentage": percentages(),
        "stickiness": st.one_of(
            st.just("userId"), st.text(UTF8_CHARACTERS, min_size=1, max_size=12)
        ),
        "salt": st.text(UTF8_CHARACTERS, max_size=16),
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
    flag["variants"] = {name: draw(_variant_values()) for name in variant_names}
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
def documents(draw: st.DrawFn, max_flags: int = 3) -> dict[str, Any]:
    """A document that passes the schema and every semantic check."""
    document: dict[str, Any] = {}
    if draw(st.booleans()):
        document["$schema"] = draw(
            st.sampled_from(["../schemas/flags.v1.schema.json", "https://flagkit.invalid/x.json"])
        )
    segments = draw(segment_tables())
    if segments:
        document["_segments"] = segments
    elif draw(st.booleans(), label="empty _segments"):
        document["_segments"] = {}
    keys = draw(st.lists(flag_keys(), max_size=max_flags, unique=True))
    for index, key in enumerate(keys):
        earlier = keys[:index]
        document[key] = draw(
            st.one_of(
                boolean_flags(list(segments), earlier), variant_flags(list(segments), earlier)
            )
        )
    return document


_NAMED_MEMBERS = frozenset({"_segments", "variants", "split"})
"""Objects whose keys are names the author chose (segment, variant names), not fields."""


def _locations(document: Any) -> list[tuple[Any, Any, str]]:
    """Every (container, key or index, slot) triple in `document`.

    The slot names the place in the schema (`percentage`, `tenants[]`, `<flag>`,
    `split.*`), so that a mutation can pick a kind of place first and then one
    such place: a rare field is broken as often as a common one. The inside of
    attributes and variant values, where any JSON value is fine, is `<free>`.
    """
    found: list[tuple[Any, Any, str]] = []
    stack: list[tuple[Any, tuple[Any, ...]]] = [(document, ())]
    while stack:
        container, path = stack.pop()
        if isinstance(container, dict):
            members = list(container.items())
        elif isinstance(container, list):
            members = list(enumerate(container))
        else:
            continue
        for key, child in members:
            child_path = (*path, key)
            found.append((container, key, _slot(child_path)))
            stack.append((child, child_path))
    return found


def _slot(path: tuple[Any, ...]) -> str:
    first = path[0]
    if len(path) == 1:
        return first if first.startswith(("$", "_")) else "<flag>"
    if first.startswith(("$", "_")):
        return f"{first}.*" if len(path) == 2 else f"{first}.*[]"
    if path[1] not in RESERVED_FLAG_KEYS:
        return "<attribute>" if len(path) == 2 else "<free>"
    if path[1] == "variants" and len(path) > 3:
        return "<free>"
    strings = [part for part in path[1:] if isinstance(part, str)]
    parent = path[-2]
    if isinstance(path[-1], int):
        return f"{strings[-1]}[]"
    if isinstance(parent, str) and parent in _NAMED_MEMBERS:
        return f"{parent}.*"
    return strings[-1]


_TOO_LONG = "x" * 257
_BAD_NAMES = ("bad id", "", "x" * 65, 7)
BOUNDARY_VALUES: dict[str, tuple[Any, ...]] = {
    "$schema": (1, None),
    "_segments": ([], "beta"),
    "_segments.*": ("acme", {}),
    "_segments.*[]": ("", _TOO_LONG, 1),
    "<flag>": (True, [], "x", None),
    "enabled": ("true", 1, None),
    "description": (1, False),
    "requires": ("payments", {}),
    "requires[]": ("FeatureA", "feature a", "a" * 65, ""),
    "tenants": ("acme", {}),
    "tenants[]": ("", _TOO_LONG, 1, None),
    "excludedTenants[]": ("", _TOO_LONG, 1),
    "segments": ("beta", {}),
    "segments[]": _BAD_NAMES,
    "tiers": ("gold", None),
    "tiers[]": ("", _TOO_LONG, 1),
    "percentage": (-0.01, 100.01, 120, "50", True),
    "stickiness": ("", _TOO_LONG, 1),
    "salt": (_TOO_LONG, 1, None),
    "variants": ({}, [], "red"),
    "defaultVariant": _BAD_NAMES,
    "offVariant": _BAD_NAMES,
    "split": ({}, [], 1),
    "split.*": (-1, 1.5, 1_000_001, "1", True, None),
    "declaredAttributes": ("tenant", {}),
    "declaredAttributes[]": ("", _TOO_LONG, 1),
    "rules": ({}, "eu"),
    "rules[]": ([], "eu", {}),
    "id": _BAD_NAMES,
    "when": ({}, "region"),
    "when[]": ([], {}, "region"),
    "attribute": ("", _TOO_LONG, 1),
    "serve": (1, None, []),
    "equals": ([], {}),
    "notEquals": ([1], {"a": 1}),
    "in": ("eu", 1, {}),
    "in[]": ([], {}),
    "notIn": ("eu", None),
    "notIn[]": ([1], {}),
    "inSegment": _BAD_NAMES,
    "notInSegment": _BAD_NAMES,
    "exists": ("true", 1, None),
    "activeFrom": (1767225600, None, True),
    "impressions": (1, "true", None),
    "activeUntil": (["2026-12-24T09:00:00Z"], {}),
    "lt": ("5", True),
    "lte": (None, []),
    "gt": ("50", False),
    "gte": ({}, "1e3"),
    "startsWith": ([], 1, None),
    "startsWith[]": (1, None),
    "endsWith": ([], True),
    "endsWith[]": ([],),
    "contains": ([], {}),
    "contains[]": (0,),
    "matches": (1, ["a"]),
    "versionEquals": (1, None),
    "versionLt": (2.3,),
    "versionLte": ([],),
    "versionGt": (True,),
    "versionGte": ({},),
    "before": (1767225600, None),
    "after": ([],),
    "inCidr": ([], "10.0.0.0/8"),
    "inCidr[]": (1, None),
    "schedule": ([], "MON", {"days": []}, {"weekdays": ["MON"]}, {"from": 9}, {"days": [1]}),
    "ignoreCase": ("yes", 1, None),
    "negate": (1, "true"),
}
"""For each slot of the schema, values just past one of its limits: range, length, pattern, type."""


_BAD_FLAG_KEYS = ("FeatureA", "feature a", "a" * 65, "1st", "")
_FLAG_FIELDS = tuple(sorted(RESERVED_FLAG_KEYS))
_RULE_FIELDS = ("id", "description", "when", "serve", "percentage", "split")
_CONDITION_FIELDS = ("attribute", *CONDITION_TESTS, *CONDITION_MODIFIERS)


def _additions(fields: Sequence[str]) -> dict[str, tuple[Any, ...]]:
    """For each field, values just past its limits, as its own value or inside it."""
    table: dict[str, tuple[Any, ...]] = {}
    for field in fields:
        values = list(BOUNDARY_VALUES.get(field, ()))
        values += [[value] for value in BOUNDARY_VALUES.get(f"{field}[]", ())]
        values += [{"ok": value} for value in BOUNDARY_VALUES.get(f"{field}.*", ())]
        table[field] = tuple(values)
    return table


ADDITIONS: dict[str, dict[str, tuple[Any, ...]]] = {
    "(document)": {
        **{key: ({"enabled": True},) for key in _BAD_FLAG_KEYS},
        "_extra": (1,),
        "$extra": (None,),
        "newFlag": ({"enabled": "yes"}, {}, []),
        **_additions(["_segments", "$schema"]),
    },
    "<flag>": {**_additions(_FLAG_FIELDS), "temperature": (0.7,)},
    "rules[]": {**_additions(_RULE_FIELDS), "priority": (1,)},
    "when[]": {**_additions(_CONDITION_FIELDS), "op": ("eq",)},
    "_segments": {"bad id": ([],), "ok": ([""], "acme")},
    "variants": {"bad id": (1,), "": (1,)},
    "split": {"bad id": (1,), "ok": (-1, 0.5)},
}
"""For each slot holding an object: keys to add to it, each with values to add it with.

A field the object already has is replaced; most additions break the object
(a second outcome or operator, a value past a limit), a few do not (a new attribute).
"""

RENAMES: dict[str, tuple[str, ...]] = {
    "<flag>": _BAD_FLAG_KEYS,
    "_segments.*": ("bad id", "", "x" * 65),
    "variants.*": ("bad id", "", "x" * 65),
    "split.*": ("bad id", "", "x" * 65),
}
"""For slots whose keys are names, names that break the pattern; other keys become unknown."""

_UNKNOWN_FIELDS = ("priority", "Enabled", "percentge", "_extra", "$extra")


def boundary_mutants(document: Any) -> Iterator[Any]:
    """Every single-change copy of `document` that the tables above describe, in order.

    Each value is replaced by each value near its slot's limits, each name is
    renamed to each bad name, each member is deleted, and each object gets each
    addition of its slot: the exhaustive, deterministic counterpart of `mutations()`.
    """
    for path, value in _walk(document):
        if path:
            slot, parent, key = _slot(path), path[:-1], path[-1]
            for new in BOUNDARY_VALUES.get(slot, ()):
                copied = copy.deepcopy(document)
                _at(copied, parent)[key] = copy.deepcopy(new)
                yield copied
            for name in RENAMES.get(slot, ()) if isinstance(key, str) else ():
                copied = copy.deepcopy(document)
                container = _at(copied, parent)
                container[name] = container.pop(key)
                yield copied
            copied = copy.deepcopy(document)
            _at(copied, parent).pop(key)
            yield copied
        if isinstance(value, dict):
            for field, values in ADDITIONS.get(_slot(path) if path else "(document)", {}).items():
                for new in values:
                    copied = copy.deepcopy(document)
                    _at(copied, path)[field] = copy.deepcopy(new)
                    yield copied


def _walk(document: Any) -> Iterator[tuple[tuple[Any, ...], Any]]:
    """Every (path, value) in `document`, the document itself first."""
    stack: list[tuple[tuple[Any, ...], Any]] = [((), document)]
    while stack:
        path, value = stack.pop()
        yield path, value
        if isinstance(value, dict):
            stack.extend(((*path, key), child) for key, child in value.items())
        elif isinstance(value, list):
            stack.extend(((*path, index), child) for index, child in enumerate(value))


def _at(document: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        document = document[part]
    return document


def mutated_documents() -> st.SearchStrategy[Any]:
    """A valid document with (most of the time) one thing broken; sometimes left as it was."""
    return documents().flatmap(mutations)


@st.composite
def mutations(draw: st.DrawFn, document: Any) -> Any:
    """A copy of `document` with (most of the time) one thing broken, `document` left alone.

    Kinds of change: replace a value (wrong type, out of range, too long, bad
    pattern), rename a key (to a bad flag key, name or an unknown field), delete
    a key or an array element, add a member (unknown, or a second outcome or
    operator), or replace the whole document with something that is not an object.
    The place is chosen by its slot in the schema first, so that a rare field is
    broken about as often as a common one.
    """
    document = copy.deepcopy(document)
    locations = [(document, None, "(document)"), *_locations(document)]
    kind = draw(
        st.sampled_from(
            ["replace"] * 5 + ["rename", "delete", "add", "add", "not-an-object", "none"]
        ),
        label="kind",
    )
    if kind == "not-an-object":
        return draw(st.sampled_from([[], "x", 1, None, True, [document]]))
    if kind == "none":
        return document
    if kind == "add":
        objects = [
            (c if k is None else c[k], slot)
            for c, k, slot in locations
            if isinstance(c if k is None else c[k], dict)
        ]
        slot = draw(st.sampled_from(sorted({slot for _, slot in objects})), label="slot")
        target = draw(st.sampled_from([o for o, s in objects if s == slot]), label="add to")
        table = ADDITIONS.get(slot, {})
        if table and draw(st.integers(0, 3), label="targeted") > 0:
            key = draw(st.sampled_from(sorted(table)), label="added key")
            value = draw(st.sampled_from(table[key]), label="added value")
        else:
            key = draw(st.sampled_from(BAD_KEYS + EXTRA_FIELDS), label="added key")
            value = draw(st.sampled_from(BAD_VALUES) | json_values(), label="added value")
        target[key] = copy.deepcopy(value)
        return document
    members = locations[1:]
    if not members:
        return document
    slots = sorted({slot for _, _, slot in members})
    constrained = [slot for slot in slots if slot in BOUNDARY_VALUES]
    if constrained and draw(st.integers(0, 4), label="anywhere") > 0:
        slots = constrained
    slot = draw(st.sampled_from(slots), label="slot")
    container, key = draw(
        st.sampled_from([(c, k) for c, k, s in members if s == slot]), label="place"
    )
    if kind == "replace":
        near = BOUNDARY_VALUES.get(slot, ())
        if near and draw(st.integers(0, 3), label="near") > 0:
            values = st.sampled_from(near)
        else:
            values = st.sampled_from(BAD_VALUES) | _scalars()
        container[key] = copy.deepcopy(draw(values, label="new value"))
    elif kind == "delete":
        if isinstance(container, dict):
            del container[key]
        else:
            container.pop(key)
    elif isinstance(container, dict):  # rename
        new_key = draw(st.sampled_from(RENAMES.get(slot, _UNKNOWN_FIELDS)), label="new key")
        container[new_key] = container.pop(key)
    else:  # "rename" an array element: put a bad name in its place
        container[key] = draw(st.sampled_from(BAD_KEYS), label="new key")
    return document
