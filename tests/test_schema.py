"""The flag document schema: its example documents, its two renditions, and the fast check.

`schemas/examples/valid` must pass everything, `schemas/examples/invalid` must
fail both JSON Schemas and flagkit's fast check, and
`schemas/examples/invalid-semantic` must pass both schemas yet be rejected by
`check_document`. Generated documents hold the fast check to jsonschema's
verdict.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st

from flagkit import (
    Flags,
    InvalidFlagError,
    SchemaValidationError,
    check_document,
    load_document,
)
from flagkit._schema_check import compile_check
from flagkit.document import RESERVED_FLAG_KEYS
from flagkit.fields import CONDITION_MODIFIERS, CONDITION_TESTS
from flagkit.schema import (
    FLAG_KEY_PATTERN,
    draft4_schema,
    is_valid,
    json_schema,
    to_draft4,
    validate,
)
from tests.conftest import REPO, SCHEMAS
from tests.strategies import (
    OPERATORS,
    TENANT_EXAMPLES,
    boolean_flags,
    boundary_mutants,
    documents,
    flag_keys,
    mutations,
    tenant_ids,
)

SCHEMA_2020: dict[str, Any] = json.loads((SCHEMAS / "flags.v1.schema.json").read_text("utf-8"))
SCHEMA_DRAFT4: dict[str, Any] = json.loads(
    (SCHEMAS / "flags.v1.draft4.schema.json").read_text("utf-8")
)
# flagkit reads types as draft-04 (and so AppConfig) does: an integer is an int, never `1.0`,
# and a number is finite. jsonschema's 2020-12 validator would take `1.0` as an integer, so
# the reference the fast check is held to is told the same rules (as `flagkit.schema` does).
_FLAGKIT_TYPES = jsonschema.Draft202012Validator.TYPE_CHECKER.redefine_many(
    {
        "integer": lambda _checker, value: isinstance(value, int) and not isinstance(value, bool),
        "number": lambda _checker, value: (
            isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
        ),
    }
)
VALIDATOR_2020 = jsonschema.validators.extend(  # type: ignore[no-untyped-call]
    jsonschema.Draft202012Validator, type_checker=_FLAGKIT_TYPES
)(SCHEMA_2020)
VALIDATOR_DRAFT4 = jsonschema.Draft4Validator(SCHEMA_DRAFT4)
FAST_CHECK = is_valid
"""The check flagkit runs on the load path (`compile_check` of the packaged schema)."""

EXAMPLES = SCHEMAS / "examples"
MUTANTS_PER_DOCUMENT = 4
"""Mutants checked per generated document: a document costs far more to build than a mutant."""


def _examples(kind: str) -> list[Path]:
    return sorted((EXAMPLES / kind).glob("*.json"))


def _load(path: Path) -> Any:
    return json.loads(path.read_text("utf-8"))


def _errors_2020(document: Any) -> list[jsonschema.ValidationError]:
    return list(VALIDATOR_2020.iter_errors(document))


def _errors_draft4(document: Any) -> list[jsonschema.ValidationError]:
    return list(VALIDATOR_DRAFT4.iter_errors(document))


VALID = _examples("valid")
INVALID = _examples("invalid")
INVALID_SEMANTIC = _examples("invalid-semantic")

# Where the one problem of each invalid example is reported (the path a user reads).
INVALID_PATHS = {
    "condition-two-operators": "featureA.rules[0].when[0]",
    "condition-without-test": "featureA.rules[0].when[0]",
    "gt-not-a-number": "featureA.rules[0].when[0].gt",
    "in-cidr-empty": "featureA.rules[0].when[0].inCidr",
    "schedule-unknown-key": "featureA.rules[0].when[0].schedule.weekdays",
    "condition-without-attribute": "featureA.rules[0].when[0]",
    "enabled-missing": "featureA",
    "enabled-not-boolean": "featureA.enabled",
    "flag-key-too-long": "a" * 65,
    "flag-key-uppercase": "FeatureA",
    "flag-key-with-space": '["feature a"]',
    "flag-not-object": "featureA",
    "percentage-negative": "featureA.percentage",
    "percentage-not-number": "featureA.percentage",
    "percentage-over-100": "featureA.percentage",
    "rule-serve-and-percentage": "featureA.rules[0]",
    "rule-unknown-field": "featureA.rules[0].priority",
    "rule-without-outcome": "featureA.rules[0]",
    "segments-not-object": "_segments",
    "split-weight-fractional": "colour.split.blue",
    "split-weight-negative": "colour.split.blue",
    "tenant-id-empty": "featureA.tenants[1]",
    "tenants-not-a-list": "featureA.tenants",
    "variants-empty": "colour.variants",
}
INVALID_SEMANTIC_PATHS = {
    "active-from-after-until": "featureA.activeUntil",
    "active-from-unparsable": "featureA.activeFrom",
    "before-unparsable": "featureA.rules[0].when[0].before",
    "ignore-case-on-a-number-test": "featureA.rules[0].when[0].ignoreCase",
    "negate-on-exists": "featureA.rules[0].when[0].negate",
    "matches-not-re2": "featureA.rules[0].when[0].matches",
    "in-cidr-host-bits": "featureA.rules[0].when[0].inCidr[1]",
    "schedule-bad-day": "featureA.rules[0].when[0].schedule.days[1]",
    "schedule-bad-time": "featureA.rules[0].when[0].schedule.to",
    "schedule-bad-timezone": "featureA.rules[0].when[0].schedule.timezone",
    "version-unparsable": "featureA.rules[0].when[0].versionGte",
    "attribute-one-edit-from-a-field": "featureA.percentge",
    "requires-chain-too-deep": "f00.requires",
    "default-variant-unknown": "colour.defaultVariant",
    "percentage-three-decimals": "featureA.percentage",
    "requires-cycle": "featureA.requires",
    "requires-unknown-flag": "featureA.requires[0]",
    "rule-id-duplicate": "featureA.rules[1].id",
    "rule-segment-unknown": "featureA.rules[0].when[0].inSegment",
    "segment-unknown": "featureA.segments[0]",
    "serve-variant-on-boolean-flag": "featureA.rules[0].serve",
    "split-weights-zero": "colour.split",
}


def _ids(paths: list[Path]) -> list[str]:
    return [path.stem for path in paths]


# -- the example documents ------------------------------------------------------------------


def test_example_counts_and_every_example_has_an_expected_path() -> None:
    assert 6 <= len(VALID) <= 10
    assert 12 <= len(INVALID) <= 30
    assert {path.stem for path in INVALID} == set(INVALID_PATHS)
    assert {path.stem for path in INVALID_SEMANTIC} == set(INVALID_SEMANTIC_PATHS)


@pytest.mark.parametrize("path", VALID, ids=_ids(VALID))
def test_valid_example_passes_every_check(path: Path) -> None:
    document = _load(path)
    assert _errors_2020(document) == []
    assert _errors_draft4(document) == []
    assert FAST_CHECK(document) is True
    checked = check_document(document)
    assert checked.document == document
    assert checked.warnings == ()
    assert load_document(path.read_bytes()).document == document


@pytest.mark.parametrize("path", VALID, ids=_ids(VALID))
def test_valid_example_serves_flags(path: Path) -> None:
    document = _load(path)
    flags = Flags.from_file(path)
    assert flags.keys == tuple(key for key in document if not key.startswith(("$", "_")))


@pytest.mark.parametrize("path", INVALID, ids=_ids(INVALID))
def test_invalid_example_fails_every_validator(path: Path) -> None:
    document = _load(path)
    errors_2020, errors_draft4 = _errors_2020(document), _errors_draft4(document)
    assert errors_2020
    assert errors_draft4
    assert FAST_CHECK(document) is False
    with pytest.raises(SchemaValidationError) as caught:
        check_document(document)
    assert [problem.path for problem in caught.value.problems] == [INVALID_PATHS[path.stem]]


@pytest.mark.parametrize("path", INVALID_SEMANTIC, ids=_ids(INVALID_SEMANTIC))
def test_invalid_semantic_example_passes_the_schemas_but_not_check_document(path: Path) -> None:
    document = _load(path)
    assert _errors_2020(document) == []
    assert _errors_draft4(document) == []
    assert FAST_CHECK(document) is True
    with pytest.raises(InvalidFlagError) as caught:
        check_document(document)
    assert [problem.path for problem in caught.value.problems] == [
        INVALID_SEMANTIC_PATHS[path.stem]
    ]


def _flags(document: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for key, flag in document.items():
        if not key.startswith(("$", "_")):
            yield flag


def test_valid_examples_together_use_every_field() -> None:
    documents_ = {path.stem: _load(path) for path in VALID}
    flags = [flag for document in documents_.values() for flag in _flags(document)]
    rules = [rule for flag in flags for rule in flag.get("rules", [])]
    conditions = [condition for rule in rules for condition in rule.get("when", [])]

    assert {field for flag in flags for field in flag} >= RESERVED_FLAG_KEYS
    assert any(set(flag) - RESERVED_FLAG_KEYS for flag in flags), "a flag with attributes"
    assert any("_segments" in document for document in documents_.values())
    assert any("$schema" in document for document in documents_.values())
    assert {field for rule in rules for field in rule} == {
        "id",
        "description",
        "when",
        "serve",
        "percentage",
        "split",
    }
    assert {field for condition in conditions for field in condition} == {
        "attribute",
        *OPERATORS,
        *CONDITION_TESTS,
        *CONDITION_MODIFIERS,
    }
    assert any(isinstance(rule.get("serve"), bool) for rule in rules)
    assert any(isinstance(rule.get("serve"), str) for rule in rules), "a rule serving a variant"
    percentages = [flag["percentage"] for flag in flags if "percentage" in flag]
    assert any(not float(p).is_integer() for p in percentages), "a fractional percentage"
    assert any("split" in flag and "variants" in flag for flag in flags), "a flag-level split"
    assert any("stickiness" in flag and "salt" in flag for flag in flags)

    # An AppConfig feature-flag profile: only `enabled` and attributes AppConfig can hold
    # (strings, numbers, booleans and arrays of them), a disabled flag with nothing else.
    def appconfig_value(value: Any) -> bool:
        if isinstance(value, list):
            return all(isinstance(item, str | int | float) for item in value)
        return isinstance(value, str | int | float | bool)

    profile = documents_["appconfig-feature-flag-profile"]
    assert all(not key.startswith(("$", "_")) for key in profile)
    for flag in _flags(profile):
        assert isinstance(flag["enabled"], bool)
        assert all(appconfig_value(value) for value in flag.values())
        assert not {"rules", "variants", "segments", "requires", "split"} & set(flag)
    assert {"enabled": False} in list(_flags(profile))


# -- the schemas themselves -----------------------------------------------------------------


def test_both_schemas_are_valid_for_their_draft() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA_2020)
    jsonschema.Draft4Validator.check_schema(SCHEMA_DRAFT4)
    assert jsonschema.validators.validator_for(SCHEMA_2020) is jsonschema.Draft202012Validator
    assert jsonschema.validators.validator_for(SCHEMA_DRAFT4) is jsonschema.Draft4Validator


def test_draft4_schema_is_the_rendition_of_the_2020_schema() -> None:
    assert to_draft4(SCHEMA_2020) == SCHEMA_DRAFT4
    text = (SCHEMAS / "flags.v1.draft4.schema.json").read_text("utf-8")
    # No 2020-12 spelling left over, which a draft-04 validator would silently ignore.
    assert "$defs" not in text
    assert '"$id"' not in text
    assert not re.search(r":\s*(true|false)\s*[,}]", text)


APPCONFIG_VALIDATOR_MAX_CHARACTERS = 32_768
"""AppConfig's `Validator.Content` length limit (API reference, `Validator`)."""

DRAFT4_KEYWORDS = frozenset(
    [
        "$schema",
        "id",
        "$ref",
        "title",
        "description",
        "default",
        "format",
        "enum",
        "type",
        "allOf",
        "anyOf",
        "oneOf",
        "not",
        "multipleOf",
        "maximum",
        "exclusiveMaximum",
        "minimum",
        "exclusiveMinimum",
        "maxLength",
        "minLength",
        "pattern",
        "items",
        "additionalItems",
        "maxItems",
        "minItems",
        "uniqueItems",
        "maxProperties",
        "minProperties",
        "required",
        "properties",
        "patternProperties",
        "additionalProperties",
        "dependencies",
        "definitions",
    ]
)
SCHEMA_MAPS = ("properties", "patternProperties", "definitions", "dependencies")
"""Keywords whose value maps names to schemas."""


def draft4_keywords_used(schema: Any) -> Iterator[tuple[str, Any]]:
    """Every (keyword, value) in a draft-04 schema and its subschemas."""
    if not isinstance(schema, dict):
        return
    for keyword, value in schema.items():
        yield keyword, value
        if keyword in SCHEMA_MAPS and isinstance(value, dict):
            for subschema in value.values():
                yield from draft4_keywords_used(subschema)
        elif keyword in ("allOf", "anyOf", "oneOf") or (
            keyword == "items" and isinstance(value, list)
        ):
            for subschema in value:
                yield from draft4_keywords_used(subschema)
        elif keyword in ("not", "items", "additionalItems", "additionalProperties"):
            yield from draft4_keywords_used(value)


def test_draft4_schema_fits_an_appconfig_json_schema_validator() -> None:
    text = (SCHEMAS / "flags.v1.draft4.schema.json").read_text("utf-8")
    assert len(text) <= APPCONFIG_VALIDATOR_MAX_CHARACTERS
    used = list(draft4_keywords_used(SCHEMA_DRAFT4))
    assert {keyword for keyword, _ in used} <= DRAFT4_KEYWORDS
    # Draft-04 spells exclusive bounds as booleans beside maximum/minimum.
    exclusive = [value for keyword, value in used if keyword.startswith("exclusive")]
    assert all(isinstance(value, bool) for value in exclusive)
    assert SCHEMA_DRAFT4["$schema"] == "http://json-schema.org/draft-04/schema#"


def test_package_copies_of_the_schemas_are_identical() -> None:
    package = REPO / "flagkit" / "schemas"
    names = sorted(path.name for path in SCHEMAS.glob("*.json"))
    assert names == [
        "flags.v1.draft4.schema.json",
        "flags.v1.schema.json",
        "overrides.v1.schema.json",
    ]
    assert sorted(path.name for path in package.glob("*.json")) == names
    for name in names:
        assert (package / name).read_bytes() == (SCHEMAS / name).read_bytes(), name
    assert json_schema() == SCHEMA_2020
    assert draft4_schema() == SCHEMA_DRAFT4


# -- the fast check -------------------------------------------------------------------------


@given(documents(), st.data())
def test_fast_check_agrees_with_jsonschema(document: dict[str, Any], data: st.DataObject) -> None:
    # A generated document passes everything...
    assert FAST_CHECK(document) is True
    assert _errors_2020(document) == []
    assert _errors_draft4(document) == []
    assert load_document(json.dumps(document).encode("utf-8")).document == document
    # ...and the same document with one thing broken gets the same verdict from both.
    for _ in range(MUTANTS_PER_DOCUMENT):
        mutant = data.draw(mutations(document), label="mutant")
        errors = _errors_2020(mutant)
        assert FAST_CHECK(mutant) is (not errors)
        if errors:
            with pytest.raises(SchemaValidationError):
                validate(mutant)
        else:
            validate(mutant)


@pytest.mark.parametrize("path", VALID, ids=_ids(VALID))
def test_fast_check_agrees_with_jsonschema_near_every_limit(path: Path) -> None:
    """Every example, changed in every place in every way the mutation tables know."""
    count = 0
    for mutant in boundary_mutants(_load(path)):
        count += 1
        assert FAST_CHECK(mutant) is (not _errors_2020(mutant)), mutant
    assert count > 0


@given(flag_keys())
def test_generated_flag_keys_are_flag_keys(key: str) -> None:
    assert re.fullmatch(FLAG_KEY_PATTERN, key)
    document = {key: {"enabled": True}}
    assert FAST_CHECK(document) is True
    assert _errors_draft4(document) == []


@given(tenant_ids())
def test_generated_tenant_ids_are_valid(tenant: str) -> None:
    document = {"featureA": {"enabled": True, "tenants": [tenant], "excludedTenants": [tenant]}}
    assert FAST_CHECK(document) is True
    assert _errors_2020(document) == []
    assert _errors_draft4(document) == []


def test_tenant_examples_include_non_ascii_and_the_longest_id() -> None:
    assert any(not tenant.isascii() for tenant in TENANT_EXAMPLES)
    assert max(len(tenant) for tenant in TENANT_EXAMPLES) == 256
    too_long = {"featureA": {"enabled": True, "tenants": ["\u00e9" * 257]}}
    assert FAST_CHECK(too_long) is False
    assert _errors_2020(too_long)


@given(boolean_flags())
def test_generated_boolean_flags_stand_alone(flag: dict[str, Any]) -> None:
    assert "variants" not in flag
    assert isinstance(flag["enabled"], bool)
    check_document({"featureA": flag})


@pytest.mark.parametrize(
    ("keyword", "value"),
    [
        ("const", 1),
        ("enum", [1, 2]),
        ("format", "email"),
        ("multipleOf", 0.01),
        ("anyOf", [{"type": "string"}]),
        ("allOf", [{"type": "string"}]),
        ("not", {"type": "string"}),
        ("if", {"type": "string"}),
        ("exclusiveMaximum", 100),
        ("maxItems", 3),
        ("uniqueItems", True),
        ("propertyNames", {"maxLength": 3}),
        ("dependentRequired", {"a": ["b"]}),
        ("unevaluatedProperties", False),
    ],
)
def test_fast_check_refuses_a_keyword_it_does_not_implement(keyword: str, value: Any) -> None:
    message = re.escape(repr(keyword))
    with pytest.raises(ValueError, match=message):
        compile_check({keyword: value})
    # ...wherever the keyword sits: under a property, or in a definition that is used.
    with pytest.raises(ValueError, match=message):
        compile_check({"type": "object", "properties": {"a": {"type": "string", keyword: value}}})
    with pytest.raises(ValueError, match=message):
        compile_check({"$defs": {"x": {keyword: value}}, "items": {"$ref": "#/$defs/x"}})


def test_fast_check_refuses_a_reference_outside_the_schema() -> None:
    with pytest.raises(ValueError, match=r"other\.json"):
        compile_check({"$ref": "other.json#/$defs/x"})
