"""flagkit.publish.appconfig_format and the `flagkit appconfig-definition` command."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st

from flagkit._schema_check import ecma_pattern
from flagkit.client import Flags
from flagkit.document import RESERVED_FLAG_KEYS, check_document
from flagkit.errors import DocumentError
from flagkit.field_hints import likely_meant
from flagkit.model import Tenant
from flagkit.publish import (
    appconfig_definition,
    diff_documents,
    document_from_definition,
    is_definition,
    load_flag_document,
)
from flagkit.schema import FLAG_KEY_PATTERN
from tests import strategies
from tests.conftest import EXAMPLES
from tests.helpers import run_flagkit, write

EXAMPLE = EXAMPLES / "flags.json"

tenant_lists = st.lists(
    st.builds(
        Tenant,
        strategies.tenant_ids(),
        st.one_of(st.none(), strategies.tiers()),
        st.fixed_dictionaries({"userId": strategies.tenant_ids()}),
    ),
    max_size=6,
    unique_by=lambda tenant: tenant.id,
)


# The definition schema of AWS's user guide, "Type reference for AWS.AppConfig.FeatureFlags"
# (the flag document parts this module writes; key patterns as the current page has them).
APPCONFIG_FEATURE_FLAGS_SCHEMA: dict[str, Any] = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "definitions": {
        "flagSetDefinition": {
            "type": "object",
            "properties": {
                "version": {"$ref": "#/definitions/flagSchemaVersions"},
                "flags": {"$ref": "#/definitions/flagDefinitions"},
                "values": {"$ref": "#/definitions/flagValues"},
            },
            "required": ["version"],
            "additionalProperties": False,
        },
        "flagDefinitions": {
            "type": "object",
            "patternProperties": {
                "^[a-z][a-zA-Z\\d_-]{0,63}$": {"$ref": "#/definitions/flagDefinition"}
            },
            "additionalProperties": False,
        },
        "flagDefinition": {
            "type": "object",
            "properties": {
                "name": {"$ref": "#/definitions/customerDefinedName"},
                "description": {"$ref": "#/definitions/customerDefinedDescription"},
                "_createdAt": {"type": "string"},
                "_updatedAt": {"type": "string"},
                "_deprecation": {
                    "type": "object",
                    "properties": {
                        "status": {"type": "string", "enum": ["planned"]},
                        "date": {"type": "string", "format": "date"},
                    },
                    "additionalProperties": False,
                },
                "attributes": {"$ref": "#/definitions/attributeDefinitions"},
            },
            "additionalProperties": False,
        },
        "attributeDefinitions": {
            "type": "object",
            "patternProperties": {
                "^[a-z][a-zA-Z\\d_-]{0,63}$": {"$ref": "#/definitions/attributeDefinition"}
            },
            "maxProperties": 25,
            "additionalProperties": False,
        },
        "attributeDefinition": {
            "type": "object",
            "properties": {
                "description": {"$ref": "#/definitions/customerDefinedDescription"},
                "constraints": {
                    "oneOf": [
                        {"$ref": "#/definitions/numberConstraints"},
                        {"$ref": "#/definitions/stringConstraints"},
                        {"$ref": "#/definitions/arrayConstraints"},
                        {"$ref": "#/definitions/boolConstraints"},
                    ]
                },
            },
            "additionalProperties": False,
        },
        "flagValues": {
            "type": "object",
            "patternProperties": {
                "^[a-z][a-zA-Z\\d_-]{0,63}$": {"$ref": "#/definitions/flagValue"}
            },
            "additionalProperties": False,
        },
        "flagValue": {
            "type": "object",
            "properties": {
                "enabled": {"type": "boolean"},
                "_createdAt": {"type": "string"},
                "_updatedAt": {"type": "string"},
            },
            "patternProperties": {
                "^[a-z][a-zA-Z\\d_-]{0,63}$": {"$ref": "#/definitions/attributeValue"}
            },
            "required": ["enabled"],
            "additionalProperties": False,
        },
        "attributeValue": {
            "oneOf": [
                {"type": "string", "maxLength": 1024},
                {"type": "number"},
                {"type": "boolean"},
                {
                    "type": "array",
                    "oneOf": [
                        {"items": {"type": "string", "maxLength": 1024}},
                        {"items": {"type": "number"}},
                    ],
                },
            ],
        },
        "stringConstraints": {
            "type": "object",
            "properties": {
                "type": {"type": "string", "enum": ["string"]},
                "required": {"type": "boolean"},
                "pattern": {"type": "string", "maxLength": 1024},
                "enum": {
                    "type": "array",
                    "items": {
                        "oneOf": [{"type": "string", "maxLength": 1024}, {"type": "integer"}]
                    },
                },
            },
            "required": ["type"],
            "not": {"required": ["pattern", "enum"]},
            "additionalProperties": False,
        },
        "numberConstraints": {
            "type": "object",
            "properties": {
                "type": {"type": "string", "enum": ["number"]},
                "required": {"type": "boolean"},
                "minimum": {"type": "integer"},
                "maximum": {"type": "integer"},
            },
            "required": ["type"],
            "additionalProperties": False,
        },
        "arrayConstraints": {
            "type": "object",
            "properties": {
                "type": {"type": "string", "enum": ["array"]},
                "required": {"type": "boolean"},
                "elements": {"$ref": "#/definitions/elementConstraints"},
            },
            "required": ["type"],
            "additionalProperties": False,
        },
        "boolConstraints": {
            "type": "object",
            "properties": {
                "type": {"type": "string", "enum": ["boolean"]},
                "required": {"type": "boolean"},
            },
            "required": ["type"],
            "additionalProperties": False,
        },
        "elementConstraints": {
            "oneOf": [
                {"$ref": "#/definitions/numberConstraints"},
                {"$ref": "#/definitions/stringConstraints"},
            ]
        },
        "customerDefinedName": {"type": "string", "pattern": "^[^\\n]{1,64}$"},
        "customerDefinedDescription": {"type": "string", "maxLength": 1024},
        "flagSchemaVersions": {"type": "string", "enum": ["1"]},
    },
    "type": "object",
    "$ref": "#/definitions/flagSetDefinition",
    "additionalProperties": False,
}
APPCONFIG_VALIDATOR = jsonschema.Draft7Validator(APPCONFIG_FEATURE_FLAGS_SCHEMA)


def satisfies(value: Any, constraints: Mapping[str, Any]) -> bool:
    """Whether an attribute value meets its AppConfig constraints, as AppConfig checks them."""
    kind = constraints["type"]
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        low, high = constraints.get("minimum"), constraints.get("maximum")
        return (low is None or value >= low) and (high is None or value <= high)
    if kind == "string":
        if not isinstance(value, str):
            return False
        pattern = constraints.get("pattern")
        return (pattern is None or ecma_pattern(pattern).search(value) is not None) and (
            "enum" not in constraints or value in constraints["enum"]
        )
    elements = constraints.get("elements")
    return isinstance(value, list) and all(
        elements is None or satisfies(item, elements) for item in value
    )


def check_appconfig_definition(definition: dict[str, Any]) -> None:
    """AWS's schema holds, and every value meets its flag's attribute constraints."""
    APPCONFIG_VALIDATOR.validate(definition)
    for key, value in definition["values"].items():
        attributes = definition["flags"][key]["attributes"]
        for name, member in value.items():
            if name != "enabled":
                assert satisfies(member, attributes[name]["constraints"]), (key, name, member)


BOOLEAN_EXAMPLE: dict[str, Any] = {
    "$schema": "../schemas/flags.v1.schema.json",
    "payments": {"enabled": True, "description": "Group kill switch."},
    "featureA": {
        "enabled": True,
        "requires": ["payments"],
        "excludedTenants": ["initech"],
        "tenants": ["acme"],
        "segments": [],
        "tiers": ["enterprise"],
        "percentage": 25,
        "temperature": 0.7,
        "regions": ["eu-west-1"],
        "limits": [10, 2.5],
        "beta": False,
    },
    "searchV2": {"enabled": False, "stickiness": "userId", "salt": "s", "percentage": 12.5},
}


def test_appconfig_definition_types_every_attribute() -> None:
    definition = appconfig_definition(BOOLEAN_EXAMPLE)
    check_appconfig_definition(definition)
    assert definition["version"] == "1"
    assert definition["values"] == {
        "payments": {"enabled": True},
        "featureA": {
            "enabled": True,
            "requires": ["payments"],
            "excludedTenants": ["initech"],
            "tenants": ["acme"],
            "tiers": ["enterprise"],
            "percentage": 25,
            "temperature": 0.7,
            "regions": ["eu-west-1"],
            "limits": [10, 2.5],
            "beta": False,
        },
        "searchV2": {"enabled": False, "stickiness": "userId", "salt": "s", "percentage": 12.5},
    }
    flag = definition["flags"]["featureA"]
    constraints = {name: spec["constraints"] for name, spec in flag["attributes"].items()}
    tenant_ids = {"type": "array", "elements": {"type": "string", "pattern": TEXT_1_TO_256}}
    assert constraints == {
        "tenants": tenant_ids,
        "excludedTenants": tenant_ids,
        "tiers": tenant_ids,
        "percentage": {"type": "number", "minimum": 0, "maximum": 100},
        "activeFrom": TIMESTAMP,
        "activeUntil": TIMESTAMP,
        "requires": {
            "type": "array",
            "elements": {"type": "string", "enum": ["payments", "searchV2"]},
        },
        "temperature": {"type": "number"},
        "regions": {"type": "array", "elements": {"type": "string"}},
        "limits": {"type": "array", "elements": {"type": "number"}},
        "beta": {"type": "boolean"},
    }
    search = definition["flags"]["searchV2"]["attributes"]
    assert search["stickiness"]["constraints"] == {"type": "string", "pattern": TEXT_1_TO_256}
    assert search["salt"]["constraints"] == {"type": "string", "pattern": TEXT_0_TO_256}
    assert definition["flags"]["payments"]["name"] == "payments"
    assert definition["flags"]["payments"]["description"] == "Group kill switch."
    assert set(definition["flags"]["searchV2"]["attributes"]) >= {"stickiness", "salt"}


TIMESTAMP = {
    "type": "string",
    "pattern": "^[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])[Tt](?:[01][0-9]|2[0-3])"
    ":[0-5][0-9]:(?:[0-5][0-9]|60)(?:[.][0-9]+)?(?:[Zz]|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])$",
}
"""The console's constraint on `activeFrom` and `activeUntil`: RFC 3339 with an offset."""
TEXT_1_TO_256 = "^(?:[\\uD800-\\uDBFF][\\uDC00-\\uDFFF]|[\\s\\S]){1,256}$"
TEXT_0_TO_256 = TEXT_1_TO_256.replace("{1,256}", "{0,256}")


def constraints_of(definition: Mapping[str, Any], key: str, name: str) -> Mapping[str, Any]:
    constraints: Mapping[str, Any] = definition["flags"][key]["attributes"][name]["constraints"]
    return constraints


def flagkit_accepts(document: Mapping[str, Any]) -> bool:
    try:
        check_document(json.loads(json.dumps(document)))
    except DocumentError:
        return False
    return True


# Values flagkit refuses that the console's constraints let through before they were
# tightened: (flag, attribute, value). Each is put in BOOLEAN_EXAMPLE in place of the
# valid value the definition was made from.
REFUSED_BY_BOTH = [
    ("featureA", "requires", ["paymnts"]),
    ("featureA", "requires", ["featureA"]),  # a flag requiring itself: a cycle
    ("featureA", "tenants", [""]),
    ("featureA", "tenants", ["x" * 257]),
    ("featureA", "excludedTenants", ["acme", ""]),
    ("featureA", "tiers", [""]),
    ("searchV2", "stickiness", ""),
    ("searchV2", "salt", "s" * 257),
]


@pytest.mark.parametrize(("key", "name", "value"), REFUSED_BY_BOTH)
def test_the_console_refuses_what_flagkit_refuses(key: str, name: str, value: Any) -> None:
    definition = appconfig_definition(BOOLEAN_EXAMPLE)
    edited = json.loads(json.dumps(BOOLEAN_EXAMPLE))
    edited[key][name] = value
    assert not flagkit_accepts(edited)
    assert not satisfies(value, constraints_of(definition, key, name))
    assert satisfies(BOOLEAN_EXAMPLE[key][name], constraints_of(definition, key, name))


TEXTS = st.text(strategies.UTF8_CHARACTERS, max_size=4) | st.text(
    strategies.UTF8_CHARACTERS, min_size=254, max_size=258
)


@given(text=TEXTS, astral=st.booleans())
def test_text_constraints_accept_exactly_what_flagkit_accepts(text: str, astral: bool) -> None:
    """Tenant ids, tiers, stickiness and salt: the console and flagkit agree on every text
    (lengths count characters, a character outside the BMP once, as flagkit counts them)."""
    if astral:
        text = "\U0001f600" * len(text)
    definition = appconfig_definition(BOOLEAN_EXAMPLE)
    for key, name, value in [
        ("featureA", "tenants", [text]),
        ("featureA", "excludedTenants", [text]),
        ("featureA", "tiers", [text]),
        ("searchV2", "stickiness", text),
        ("searchV2", "salt", text),
    ]:
        edited = json.loads(json.dumps(BOOLEAN_EXAMPLE))
        edited[key][name] = value
        console = satisfies(value, constraints_of(definition, key, name))
        assert console == flagkit_accepts(edited), (key, name, len(text))


@given(percentage=st.floats(-1, 101, allow_nan=False) | st.integers(-5, 105))
def test_only_the_validator_checks_a_percentages_steps(percentage: float) -> None:
    """AppConfig's number constraints have an integer minimum and maximum and nothing else:
    the console and flagkit disagree only on a percentage finer than 0.01."""
    definition = appconfig_definition(BOOLEAN_EXAMPLE)
    console = satisfies(percentage, constraints_of(definition, "featureA", "percentage"))
    edited = json.loads(json.dumps(BOOLEAN_EXAMPLE))
    edited["featureA"]["percentage"] = percentage
    flagkit = flagkit_accepts(edited)
    finer_than_a_hundredth = abs(percentage * 100 - round(percentage * 100)) > 1e-6
    assert console == (flagkit or (finer_than_a_hundredth and 0 <= percentage <= 100))
    assert not flagkit or console


def test_prerequisites_are_any_flag_key_when_too_many_flags_exist_to_list() -> None:
    """AppConfig's enum holds at most 100 values; beyond, a prerequisite is any flag key."""
    many: dict[str, Any] = {f"flag{index}": {"enabled": True} for index in range(102)}
    many["flag0"]["requires"] = ["flag1"]
    pattern = {"type": "array", "elements": {"type": "string", "pattern": FLAG_KEY_PATTERN}}
    assert constraints_of(appconfig_definition(many), "flag0", "requires") == pattern
    del many["flag101"]
    listed = constraints_of(appconfig_definition(many), "flag0", "requires")
    assert listed == {
        "type": "array",
        "elements": {"type": "string", "enum": [f"flag{index}" for index in range(1, 101)]},
    }


def test_rfc_3339_attributes_keep_their_form_in_the_console() -> None:
    document = {
        "a": {
            "enabled": True,
            "sunset": "2026-03-01T09:30:00Z",
            "launch": "2026-03-01",
            "note": "2026-03-01 or later",
        }
    }
    definition = appconfig_definition(document)
    check_appconfig_definition(definition)
    sunset, launch = (
        constraints_of(definition, "a", "sunset"),
        constraints_of(definition, "a", "launch"),
    )
    assert constraints_of(definition, "a", "note") == {"type": "string"}
    for good in [
        "2026-03-01T09:30:00Z",
        "2027-12-31t23:59:60.123+05:30",
        "2026-02-28T00:00:00-00:00",
    ]:
        assert satisfies(good, sunset), good
    for bad in [
        "tomorrow",
        "2026-03-01",
        "2026-13-01T09:30:00Z",
        "2026-03-01T24:00:00Z",
        "2026-03-01T09:30:00",
    ]:
        assert not satisfies(bad, sunset), bad
    assert satisfies("2030-01-31", launch)
    assert not satisfies("2030-01-32", launch)
    assert not satisfies("\u0662\u0660\u0663\u0660-01-31", launch)  # Arabic-Indic digits


@pytest.mark.parametrize(
    ("value", "flagkit_too"),
    [
        pytest.param("2026-12-24T09:00:00+01:00", True, id="offset"),
        pytest.param("2026-12-24t08:00:00.250z", True, id="lowercase-fraction"),
        pytest.param("2026-12-24T09:00:00", False, id="no-offset"),
        pytest.param("2026-12-24T09:00+01:00", False, id="no-seconds"),
        pytest.param("2026-12-24 09:00:00Z", False, id="space-separator"),
        pytest.param("2026-12-24", False, id="date-only"),
        pytest.param("tomorrow", False, id="words"),
    ],
)
@pytest.mark.parametrize("field", ["activeFrom", "activeUntil"])
def test_the_console_holds_a_launch_window_to_rfc_3339(
    field: str, value: str, flagkit_too: bool
) -> None:
    """Every flag defines both (a product manager sets a launch in the console), typed so."""
    definition = appconfig_definition({"a": {"enabled": True}})
    check_appconfig_definition(definition)
    assert definition["values"]["a"] == {"enabled": True}
    constraints = constraints_of(definition, "a", field)
    assert constraints == TIMESTAMP
    assert satisfies(value, constraints) is flagkit_too
    assert flagkit_accepts({"a": {"enabled": True, field: value}}) is flagkit_too
    if flagkit_too:
        with_window = appconfig_definition({"a": {"enabled": True, field: value}})
        assert with_window["values"]["a"] == {"enabled": True, field: value}
        assert constraints_of(with_window, "a", field) == TIMESTAMP


def test_appconfig_definition_refuses_what_only_a_freeform_profile_holds() -> None:
    document = json.loads(EXAMPLE.read_text())
    with pytest.raises(DocumentError) as raised:
        appconfig_definition(document)
    freeform = (
        "cannot be expressed in an AWS.AppConfig.FeatureFlags profile, whose flags hold only "
        "`enabled` and attributes (strings, numbers, booleans and arrays of them); deploy this "
        "document to a freeform (AWS.Freeform) profile"
    )
    assert [str(problem) for problem in raised.value.problems] == [
        "_segments: named segments cannot be expressed in an AWS.AppConfig.FeatureFlags "
        "profile; deploy this document to a freeform (AWS.Freeform) profile, or list the "
        "tenants in each flag's `tenants`",
        f"checkoutTheme.variants: {freeform}",
        f"checkoutTheme.rules: {freeform}",
    ]


def test_appconfig_definition_refuses_values_appconfig_cannot_hold() -> None:
    document = {
        "a": {
            "enabled": True,
            "Model": "x",
            "config": {"k": 1},
            "nothing": None,
            "empty": [],
            "mixed": ["a", 1],
            "long": "x" * 1025,
        }
    }
    with pytest.raises(DocumentError) as raised:
        appconfig_definition(document)
    expected = (
        "an AWS.AppConfig.FeatureFlags attribute holds a string (at most 1024 characters), a "
        "number, a boolean, or a non-empty array of strings or of numbers (deploy this "
        "document to a freeform profile to keep it)"
    )
    assert [str(problem) for problem in raised.value.problems] == [
        'a.Model: "Model" is not an attribute name AppConfig accepts: expected a lowercase '
        "letter, then at most 63 letters, digits, '_' or '-'",
        f'a.config: {{"k": 1}} is an object; {expected}',
        f"a.nothing: null is null; {expected}",
        f"a.empty: [] is an empty array; {expected}",
        f'a.mixed: ["a", 1] is an array mixing types, or of other values; {expected}',
        f'a.long: "{"x" * 56}... is a string of 1025 characters; {expected}',
    ]


def test_appconfig_definition_checks_the_document_first() -> None:
    with pytest.raises(DocumentError, match=r"featureA\.percentage: 120 is greater"):
        appconfig_definition({"featureA": {"enabled": True, "percentage": 120}})


def test_appconfig_definition_refuses_more_than_25_attributes() -> None:
    flag: dict[str, Any] = {"enabled": True} | {f"a{i}": i for i in range(20)}
    with pytest.raises(DocumentError) as raised:
        appconfig_definition({"wide": flag})
    assert str(raised.value) == (
        "wide: 26 attributes (with the 6 every flag defines: tenants, excludedTenants, tiers, "
        "percentage, activeFrom, activeUntil) is more than the 25 an AWS.AppConfig.FeatureFlags "
        "flag may have"
    )
    del flag["a19"]
    assert len(appconfig_definition({"wide": flag})["flags"]["wide"]["attributes"]) == 25


def test_a_definition_reads_back_without_appconfig_metadata() -> None:
    definition = appconfig_definition(BOOLEAN_EXAMPLE)
    definition["flags"]["payments"]["_createdAt"] = "2026-01-01T00:00:00Z"
    definition["values"]["payments"]["_updatedAt"] = "2026-01-01T00:00:00Z"
    definition["flags"]["orphan"] = {"name": "orphan"}
    back = document_from_definition(definition)
    assert back["payments"] == {"enabled": True, "description": "Group kill switch."}
    assert back["orphan"] == {"enabled": False}
    assert "segments" not in back["featureA"]  # the empty list was left out
    assert is_definition(definition)
    assert not is_definition(BOOLEAN_EXAMPLE)
    assert load_flag_document(json.dumps(definition)).document == back


def test_appconfig_multi_variant_flags_are_refused_when_read_back() -> None:
    definition = {"version": "1", "values": {"a": {"enabled": True, "_variants": []}}}
    with pytest.raises(DocumentError) as raised:
        document_from_definition(definition)
    assert str(raised.value).startswith("values.a._variants: AppConfig multi-variant flags")


APPCONFIG_NAMES = st.from_regex(r"[a-z][a-zA-Z0-9_-]{0,20}", fullmatch=True).filter(
    # Neither a field nor one edit from one (`sal` is refused as a likely `salt`).
    lambda name: (
        name not in RESERVED_FLAG_KEYS and not likely_meant(name, sorted(RESERVED_FLAG_KEYS))
    )
)
APPCONFIG_VALUES = st.one_of(
    st.booleans(),
    st.integers(-(2**53), 2**53),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(strategies.UTF8_CHARACTERS, max_size=20),
    st.lists(st.text(strategies.UTF8_CHARACTERS, max_size=8), min_size=1, max_size=3),
    st.lists(st.integers(-1000, 1000) | st.floats(-1e6, 1e6), min_size=1, max_size=3),
)


@st.composite
def boolean_documents(draw: st.DrawFn) -> dict[str, Any]:
    """Valid documents a feature-flag profile can hold: boolean form, AppConfig attributes."""
    keys = draw(st.lists(strategies.flag_keys(), max_size=4, unique=True))
    document: dict[str, Any] = {}
    for index, key in enumerate(keys):
        flag = draw(strategies.boolean_flags((), keys[:index], with_rules=False))
        flag = {name: value for name, value in flag.items() if name in RESERVED_FLAG_KEYS}
        flag.update(draw(st.dictionaries(APPCONFIG_NAMES, APPCONFIG_VALUES, max_size=3)))
        if draw(st.booleans()):
            flag[draw(st.sampled_from(["tenants", "tiers", "excludedTenants"]))] = []
        document[key] = flag
    return document


@given(document=boolean_documents(), tenants=tenant_lists)
def test_definitions_meet_appconfigs_schema_and_read_back_to_the_same_answers(
    document: dict[str, Any], tenants: list[Tenant]
) -> None:
    definition = appconfig_definition(document)
    check_appconfig_definition(definition)
    back = document_from_definition(json.loads(json.dumps(definition)))
    check_document(back)
    before, after = Flags.from_dict(document), Flags.from_dict(back)
    for key in document:
        for tenant in [*tenants, Tenant(None)]:
            a, b = before.evaluate(key, tenant), after.evaluate(key, tenant)
            assert (a.enabled, a.variant, a.value, a.reason, a.rule, a.error_code) == (
                b.enabled,
                b.variant,
                b.value,
                b.reason,
                b.rule,
                b.error_code,
            )
            assert dict(a.attributes) == dict(b.attributes)
    assert not diff_documents(document, back, tenants).changes_answers or not tenants


@given(document=strategies.documents() | boolean_documents(), tenants=tenant_lists)
def test_generated_documents_and_tenants_hold_no_lone_surrogate(
    document: dict[str, Any], tenants: list[Tenant]
) -> None:
    """What the strategies call valid is UTF-8 text, so every consumer takes it.

    A tenant id drawn from `st.characters(min_codepoint=0x80)` (surrogates included)
    once made `{"a": {"excludedTenants": ["\\ud800"], "enabled": False}}`, which
    `Flags.from_dict` refuses, and the round-trip test above failed at random.
    """
    texts = [(t.id, t.tier, dict(t.attributes or {})) for t in tenants]
    json.dumps([document, texts], ensure_ascii=False).encode("utf-8")
    Flags.from_dict(document)


@given(document=strategies.documents())
def test_documents_with_rules_variants_or_segments_are_refused_by_name(
    document: dict[str, Any],
) -> None:
    freeform = {
        f"{key}.{field}"
        for key, flag in document.items()
        if not key.startswith(("$", "_"))
        for field in ("rules", "variants")
        if field in flag
    } | ({"_segments"} if "_segments" in document else set())
    refused: set[str] = set()
    try:
        appconfig_definition(document)
    except DocumentError as exc:  # also for attributes AppConfig cannot hold
        refused = {problem.path for problem in exc.problems}
    # A flag's attribute may be named `_segments` too (`a._segments`): refused, but as an
    # attribute name AppConfig cannot hold, not as the document's segments.
    assert {path for path in refused if path == "_segments" or path.endswith(FREEFORM_FIELDS)} == (
        freeform
    )


FREEFORM_FIELDS = (".rules", ".variants")


# -- the console script -----------------------------------------------------------------------


def test_cli_appconfig_definition_prints_writes_and_refuses(tmp_path: Path) -> None:
    source = write(tmp_path, "flags.json", BOOLEAN_EXAMPLE)
    printed = run_flagkit("appconfig-definition", source)
    assert printed.returncode == 0, printed.stderr
    assert json.loads(printed.stdout) == appconfig_definition(BOOLEAN_EXAMPLE)
    out = tmp_path / "definition.json"
    written = run_flagkit("appconfig-definition", source, "--output", out)
    assert (written.returncode, written.stdout) == (0, f"{source}: wrote {out} (3 flags)\n")
    assert json.loads(out.read_text()) == appconfig_definition(BOOLEAN_EXAMPLE)
    refused = run_flagkit("appconfig-definition", EXAMPLE)
    assert (refused.returncode, refused.stdout) == (1, "")
    assert [line.split(": ", 3)[2] for line in refused.stderr.splitlines()] == [
        "_segments",
        "checkoutTheme.variants",
        "checkoutTheme.rules",
    ]
