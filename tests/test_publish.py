"""flagkit.publish and the `diff`, `appconfig-definition` and `push` commands.

AppConfig is never contacted. What moto (5.2) implements of the control plane is used
in-process: applications, configuration profiles, hosted configuration versions. moto has
no ListApplications, environments, ListHostedConfigurationVersions, deployment strategies
or deployments, and ignores CreateHostedConfigurationVersion's LatestVersionNumber, so
those calls are answered by botocore's Stubber (restricted to them, `MotoGaps`) or, for
the lock and exact call sequences, by a plain Stubber. The console-script tests talk to
a loopback stub of the control plane (tests/appconfig_control_stub.py).
"""

from __future__ import annotations

import copy
import io
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import FrozenInstanceError
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import jsonschema
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber
from hypothesis import given
from hypothesis import strategies as st
from moto import mock_aws

from flagkit.client import Flags
from flagkit.document import RESERVED_FLAG_KEYS, check_document
from flagkit.errors import DocumentError, PublishError
from flagkit.model import Tenant
from flagkit.publish import (
    FEATURE_FLAGS_TYPE,
    Diff,
    FlagDiff,
    VariantChange,
    appconfig_definition,
    diff_documents,
    document_from_definition,
    format_diff,
    is_definition,
    load_flag_document,
    parse_tenants,
    push,
    read_tenants,
)
from tests import strategies
from tests.appconfig_control_stub import AppConfigControlStub
from tests.conftest import EXAMPLES

if TYPE_CHECKING:
    from mypy_boto3_appconfig import AppConfigClient

EXAMPLE = EXAMPLES / "flags.json"

# -- tenants files --------------------------------------------------------------------------


def test_tenants_file_takes_ids_tiers_comments_and_blank_lines() -> None:
    text = "# our tenants\nacme enterprise\n\n  globex   # no tier yet\numbrella free # data\n"
    assert parse_tenants(text) == (
        Tenant("acme", "enterprise"),
        Tenant("globex"),
        Tenant("umbrella", "free"),
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "acme\nglobex pro extra\n",
            "t.txt:2: 'globex pro extra' has 3 words; expected `ID` or `ID TIER` "
            "(a tenant id, then optionally its tier)",
        ),
        (
            "acme\n# x\nacme pro\n",
            "t.txt:3: tenant 'acme' is listed again (first on line 1); expected each tenant once",
        ),
    ],
    ids=["three-words", "duplicate"],
)
def test_tenants_file_problems_name_the_line_the_value_and_what_was_expected(
    text: str, message: str
) -> None:
    with pytest.raises(PublishError) as raised:
        parse_tenants(text, "t.txt")
    assert str(raised.value) == message


def test_an_unreadable_tenants_file_is_a_publish_error(tmp_path: Path) -> None:
    with pytest.raises(PublishError, match=r"cannot read tenants file .*missing\.txt"):
        read_tenants(tmp_path / "missing.txt")
    latin = tmp_path / "latin.txt"
    latin.write_bytes(b"caf\xe9\n")
    with pytest.raises(PublishError, match="is not UTF-8 text"):
        read_tenants(latin)


# -- diff -----------------------------------------------------------------------------------

OLD: dict[str, Any] = {
    "payments": {"enabled": True},
    "featureA": {"enabled": True, "requires": ["payments"], "tenants": ["acme", "globex"]},
    "legacy": {"enabled": True},
    "same": {"enabled": True, "tiers": ["pro"]},
}
NEW: dict[str, Any] = {
    "payments": {"enabled": True, "excludedTenants": ["initech"]},
    "featureA": {
        "enabled": True,
        "requires": ["payments"],
        "tenants": ["acme", "initech", "hooli"],
        "temperature": 0.7,
    },
    "same": {"enabled": True, "tiers": ["pro"]},
    "fresh": {"enabled": True, "tiers": ["enterprise"]},
}
TENANTS = (
    Tenant("acme", "enterprise"),
    Tenant("globex", "pro"),
    Tenant("initech", "free"),
    Tenant("hooli"),
)


def test_diff_names_exactly_who_gains_and_loses_each_flag() -> None:
    diff = diff_documents(OLD, NEW, TENANTS)
    assert diff == Diff(
        added=("fresh",),
        removed=("legacy",),
        changed=("payments", "featureA"),
        flags=(
            FlagDiff("payments", "changed", ("excludedTenants",), lost=("initech",)),
            FlagDiff(
                "featureA",
                "changed",
                ("temperature", "tenants"),
                gained=("hooli",),
                lost=("globex",),
            ),
            FlagDiff("fresh", "added", gained=("acme",)),
            FlagDiff("legacy", "removed", lost=("acme", "globex", "initech", "hooli")),
        ),
        tenants=4,
    )
    assert diff.affected_tenants == ("initech", "hooli", "globex", "acme")
    assert diff.changes_answers
    with pytest.raises(FrozenInstanceError):
        diff.tenants = 0  # type: ignore[misc]


def test_diff_follows_requires_to_flags_whose_own_json_did_not_change() -> None:
    old = {"payments": {"enabled": True}, "checkout": {"enabled": True, "requires": ["payments"]}}
    new = {"payments": {"enabled": False}, "checkout": {"enabled": True, "requires": ["payments"]}}
    diff = diff_documents(old, new, (Tenant("acme"),))
    assert diff.changed == ("payments",)
    assert [(f.flag, f.status, f.lost) for f in diff.flags] == [
        ("payments", "changed", ("acme",)),
        ("checkout", "prerequisite", ("acme",)),
    ]


def test_diff_reports_variant_changes_and_segment_edits() -> None:
    def theme(segment: list[str]) -> dict[str, Any]:
        return {
            "_segments": {"beta": segment},
            "theme": {
                "enabled": True,
                "variants": {"classic": 1, "fresh": 2, "none": 0},
                "defaultVariant": "classic",
                "offVariant": "none",
                "tenants": ["acme", "globex"],
                "rules": [{"when": [{"attribute": "id", "inSegment": "beta"}], "serve": "fresh"}],
            },
        }

    diff = diff_documents(theme(["acme"]), theme(["globex"]), (Tenant("acme"), Tenant("globex")))
    (flag,) = diff.flags
    assert flag.fields == ("_segments.beta",)
    assert flag.variant_changes == (
        VariantChange("acme", "fresh", "classic"),
        VariantChange("globex", "classic", "fresh"),
    )
    assert format_diff(diff) == [
        "theme: 2 tenants change variant (changed: _segments.beta)",
        "  ~ acme: fresh -> classic, globex: classic -> fresh",
        "summary: 1 flag differs (0 added, 0 removed, 1 changed); "
        "a different answer for 2 of 2 tenants",
    ]


def test_an_attribute_change_alone_changes_no_answer() -> None:
    diff = diff_documents(
        {"a": {"enabled": True, "model": "x"}}, {"a": {"enabled": True, "model": "y"}}, TENANTS
    )
    assert [(f.flag, f.fields, f.changes_answers) for f in diff.flags] == [("a", ("model",), False)]
    assert not diff.changes_answers
    assert format_diff(diff)[0] == "a: no tenant's answer changes (changed: model)"


def test_without_tenants_any_flag_change_counts_as_impact() -> None:
    diff = diff_documents(OLD, NEW)
    assert diff.changes_answers
    assert format_diff(diff) == [
        "payments: changed: excludedTenants",
        "featureA: changed: temperature, tenants",
        "fresh: added",
        "legacy: removed",
        "summary: 4 flags differ (1 added, 1 removed, 2 changed); no tenants given, so which "
        "tenants are affected is unknown",
    ]
    assert not diff_documents(OLD, OLD).changes_answers


def test_format_diff_caps_the_ids_unless_told_not_to() -> None:
    many = tuple(Tenant(f"t{i}") for i in range(13))
    diff = diff_documents({}, {"a": {"enabled": True}}, many)
    assert format_diff(diff, limit=10)[:2] == [
        "a: +13 tenants (added)",
        "  + t0, t1, t2, t3, t4, t5, t6, t7, t8, t9 … and 3 more",
    ]
    assert format_diff(diff, limit=None)[1] == "  + " + ", ".join(t.id or "" for t in many)


def test_diff_as_dict_is_json_for_ci() -> None:
    answer = json.loads(json.dumps(diff_documents(OLD, NEW, TENANTS).as_dict()))
    assert answer["flags"][1] == {
        "flag": "featureA",
        "status": "changed",
        "fields": ["temperature", "tenants"],
        "gained": ["hooli"],
        "lost": ["globex"],
        "variantChanges": [],
    }
    assert (answer["tenants"], answer["affectedTenants"], answer["changesAnswers"]) == (4, 4, True)


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


@st.composite
def edited_documents(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    """A valid document and a valid edit of it: toggles, new percentages and tenant lists,
    a flag dropped (when nothing requires it) or added."""
    old = draw(strategies.documents())
    new = copy.deepcopy(old)
    keys = [key for key in new if not key.startswith(("$", "_"))]
    for key in keys:
        flag = new[key]
        edit = draw(st.sampled_from(["none", "toggle", "percentage", "tenants", "drop"]))
        if edit == "toggle":
            flag["enabled"] = not flag["enabled"]
        elif edit == "percentage":
            flag["percentage"] = draw(strategies.percentages())
        elif edit == "tenants":
            flag["tenants"] = draw(st.lists(st.sampled_from(TENANT_IDS), max_size=3))
        elif edit == "drop" and not any(
            key in new[k].get("requires", ()) for k in keys if k in new
        ):
            del new[key]
    if draw(st.booleans()):
        new["added"] = {"enabled": True, "tiers": draw(st.lists(st.sampled_from(TIERS)))}
    return old, new


TENANT_IDS = ("acme", "globex", "initech", "hooli", "umbrella")
TIERS = ("free", "pro", "enterprise")


@given(
    documents=edited_documents(),
    tenants=st.lists(
        st.builds(Tenant, st.sampled_from(TENANT_IDS), st.sampled_from(TIERS)),
        unique_by=lambda tenant: tenant.id,
    ),
)
def test_diff_agrees_with_enabled_flags_and_reverses_exactly(
    documents: tuple[dict[str, Any], dict[str, Any]], tenants: list[Tenant]
) -> None:
    old, new = documents
    forward = diff_documents(old, new, tenants)
    backward = diff_documents(new, old, tenants)
    assert {f.flag: (f.gained, f.lost) for f in forward.flags if f.gained or f.lost} == {
        f.flag: (f.lost, f.gained) for f in backward.flags if f.gained or f.lost
    }
    # An independent path through the client: enabled_flags() uses the compiled deciders.
    before, after = Flags.from_dict(old), Flags.from_dict(new)
    for tenant in tenants:
        switched = set(before.enabled_flags(tenant)) ^ set(after.enabled_flags(tenant))
        reported = {f.flag for f in forward.flags if tenant.id in f.gained + f.lost}
        assert switched == reported
    assert not diff_documents(old, old, tenants).flags


# -- the AWS.AppConfig.FeatureFlags definition ----------------------------------------------

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
        return (pattern is None or re.search(pattern, value) is not None) and (
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
    strings = {"type": "array", "elements": {"type": "string"}}
    assert constraints == {
        "tenants": strings,
        "excludedTenants": strings,
        "tiers": strings,
        "percentage": {"type": "number", "minimum": 0, "maximum": 100},
        "requires": {
            "type": "array",
            "elements": {"type": "string", "pattern": "^[a-z][a-zA-Z0-9_-]{0,63}$"},
        },
        "temperature": {"type": "number"},
        "regions": strings,
        "limits": {"type": "array", "elements": {"type": "number"}},
        "beta": {"type": "boolean"},
    }
    assert definition["flags"]["payments"]["name"] == "payments"
    assert definition["flags"]["payments"]["description"] == "Group kill switch."
    assert set(definition["flags"]["searchV2"]["attributes"]) >= {"stickiness", "salt"}


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
    flag: dict[str, Any] = {"enabled": True} | {f"a{i}": i for i in range(22)}
    with pytest.raises(DocumentError) as raised:
        appconfig_definition({"wide": flag})
    assert str(raised.value) == (
        "wide: 26 attributes (with the 4 every flag defines: tenants, excludedTenants, tiers, "
        "percentage) is more than the 25 an AWS.AppConfig.FeatureFlags flag may have"
    )


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
    lambda name: name not in RESERVED_FLAG_KEYS
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
    assert {path for path in refused if path.endswith(FREEFORM_FIELDS)} == freeform


FREEFORM_FIELDS = ("_segments", ".rules", ".variants")


# -- push, in process -----------------------------------------------------------------------


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials and region; nothing read from this machine's AWS set-up."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def moto_client(aws_env: None) -> Iterator[AppConfigClient]:
    with mock_aws():
        client = boto3.client("appconfig", region_name="us-east-1")
        yield client
        client.close()


class MotoGaps(Stubber):
    """A Stubber that answers only `operations` and lets every other call through to moto."""

    def __init__(self, client: Any, operations: set[str]) -> None:
        super().__init__(client)
        self.operations = operations

    def _get_response_handler(self, model: Any, params: Any, context: Any, **kwargs: Any) -> Any:
        if model.name not in self.operations:
            return None
        return super()._get_response_handler(model, params, context, **kwargs)  # type: ignore[misc]

    def _assert_expected_params(self, model: Any, params: Any, context: Any, **kwargs: Any) -> Any:
        if model.name not in self.operations:
            return None
        return super()._assert_expected_params(model, params, context, **kwargs)  # type: ignore[misc]


MOTO_GAPS = {
    "ListApplications",
    "ListEnvironments",
    "ListHostedConfigurationVersions",
    "ListDeploymentStrategies",
    "ListDeployments",
    "StartDeployment",
}
BOOL_OLD = {"featureA": {"enabled": True, "tenants": ["acme"]}}
BOOL_NEW = {"featureA": {"enabled": True, "tenants": ["acme", "globex"], "percentage": 0}}


def queue_reads(
    stub: Stubber,
    app: str,
    profile: str,
    versions: list[int],
    deployed: int | None,
    *,
    profiles: list[dict[str, Any]] | None = None,
) -> None:
    """The list calls `push` makes, in order (ListConfigurationProfiles only when given)."""
    stub.add_response("list_applications", {"Items": [{"Id": app, "Name": "shop"}]}, {})
    stub.add_response(
        "list_environments",
        {"Items": [{"ApplicationId": app, "Id": "env0001", "Name": "prod"}]},
        {"ApplicationId": app},
    )
    if profiles is not None:
        stub.add_response(
            "list_configuration_profiles", {"Items": profiles}, {"ApplicationId": app}
        )
    stub.add_response(
        "list_deployment_strategies",
        {"Items": [{"Id": "AppConfig.AllAtOnce", "Name": "AppConfig.AllAtOnce"}]},
        {},
    )
    stub.add_response(
        "list_hosted_configuration_versions",
        {"Items": [{"VersionNumber": number} for number in sorted(versions, reverse=True)]},
        {"ApplicationId": app, "ConfigurationProfileId": profile},
    )
    deployments = (
        [
            {
                "DeploymentNumber": 1,
                "ConfigurationProfileId": profile,
                "ConfigurationName": "flags",
                "ConfigurationVersion": str(deployed),
                "State": "COMPLETE",
            }
        ]
        if deployed is not None
        else []
    )
    stub.add_response(
        "list_deployments",
        {"Items": deployments},
        {"ApplicationId": app, "EnvironmentId": "env0001"},
    )


def test_push_to_a_feature_flag_profile_stores_the_definition_in_moto(
    moto_client: AppConfigClient,
) -> None:
    app = moto_client.create_application(Name="shop")["Id"]
    moto_client.create_configuration_profile(
        ApplicationId=app, Name="other", LocationUri="hosted", Type="AWS.Freeform"
    )
    profile = moto_client.create_configuration_profile(
        ApplicationId=app, Name="flags", LocationUri="hosted", Type=FEATURE_FLAGS_TYPE
    )["Id"]
    moto_client.create_hosted_configuration_version(
        ApplicationId=app,
        ConfigurationProfileId=profile,
        Content=json.dumps(appconfig_definition(BOOL_OLD)).encode(),
        ContentType="application/json",
    )["Content"].close()
    stub = MotoGaps(moto_client, MOTO_GAPS)
    queue_reads(stub, app, profile, versions=[1], deployed=1)
    stub.add_response(
        "start_deployment",
        {"DeploymentNumber": 2, "State": "DEPLOYING", "ConfigurationVersion": "2"},
        {
            "ApplicationId": app,
            "EnvironmentId": "env0001",
            "DeploymentStrategyId": "AppConfig.AllAtOnce",
            "ConfigurationProfileId": profile,
            "ConfigurationVersion": "2",
            "Description": "more tenants",
            "LatestDeploymentNumber": 1,
        },
    )
    tenants = (Tenant("acme"), Tenant("globex"))
    with stub:
        result = push(
            BOOL_NEW,
            application="shop",
            environment="prod",
            profile="flags",
            description="more tenants",
            tenants=tenants,
            client=moto_client,
        )
    stub.assert_no_pending_responses()
    assert (result.version_number, result.deployment_number, result.deployment_state) == (
        2,
        2,
        "DEPLOYING",
    )
    assert result.compared_with == "deployed version 1"
    assert result.diff == diff_documents(BOOL_OLD, BOOL_NEW, tenants)
    assert result.target.profile_type == FEATURE_FLAGS_TYPE
    stored = moto_client.get_hosted_configuration_version(
        ApplicationId=app, ConfigurationProfileId=profile, VersionNumber=2
    )
    with stored["Content"] as body:
        assert json.loads(body.read()) == appconfig_definition(BOOL_NEW)
    assert (stored["ContentType"], stored["Description"]) == ("application/json", "more tenants")


def test_push_to_a_freeform_profile_stores_the_document_and_names_resolve_by_id(
    moto_client: AppConfigClient,
) -> None:
    app = moto_client.create_application(Name="shop")["Id"]
    profile = moto_client.create_configuration_profile(
        ApplicationId=app, Name="flags", LocationUri="hosted", Type="AWS.Freeform"
    )["Id"]
    document = json.loads(EXAMPLE.read_text())
    stub = MotoGaps(moto_client, MOTO_GAPS)
    queue_reads(stub, app, profile, versions=[], deployed=None)
    stub.add_response(
        "start_deployment",
        {"DeploymentNumber": 1, "State": "DEPLOYING"},
        {
            "ApplicationId": app,
            "EnvironmentId": "env0001",
            "DeploymentStrategyId": "AppConfig.AllAtOnce",
            "ConfigurationProfileId": profile,
            "ConfigurationVersion": "1",
        },
    )
    with stub:
        result = push(
            document, application=app, environment="env0001", profile=profile, client=moto_client
        )
    stub.assert_no_pending_responses()
    assert result.compared_with == "nothing (the profile has no version yet)"
    assert result.diff is not None
    assert result.diff.added == tuple(key for key in document if not key.startswith(("$", "_")))
    stored = moto_client.get_hosted_configuration_version(
        ApplicationId=app, ConfigurationProfileId=profile, VersionNumber=1
    )
    with stored["Content"] as body:
        assert json.loads(body.read()) == document


def test_moto_does_not_enforce_latest_version_number(moto_client: AppConfigClient) -> None:
    """Why the lock is tested with Stubber and the loopback stub: moto accepts a stale one."""
    app = moto_client.create_application(Name="shop")["Id"]
    profile = moto_client.create_configuration_profile(
        ApplicationId=app, Name="flags", LocationUri="hosted"
    )["Id"]
    created = moto_client.create_hosted_configuration_version(
        ApplicationId=app,
        ConfigurationProfileId=profile,
        Content=b"{}",
        ContentType="application/json",
        LatestVersionNumber=41,
    )
    created["Content"].close()
    assert created["VersionNumber"] == 1


def stub_client(aws_env: None) -> AppConfigClient:
    return boto3.client("appconfig", region_name="us-east-1")


def body(content: bytes) -> StreamingBody:
    return StreamingBody(io.BytesIO(content), len(content))


FREEFORM = [{"Id": "cfg0001", "Name": "flags", "LocationUri": "hosted", "Type": "AWS.Freeform"}]


def test_a_concurrent_push_loses_with_a_message_telling_it_to_rerun(aws_env: None) -> None:
    client = stub_client(aws_env)
    old = json.dumps(BOOL_OLD).encode()
    content = (json.dumps(BOOL_NEW, indent=2) + "\n").encode()
    with Stubber(client) as stub:
        queue_reads(stub, "app0001", "cfg0001", [3, 2, 1], deployed=3, profiles=FREEFORM)
        stub.add_response(
            "get_hosted_configuration_version",
            {"Content": body(old), "ContentType": "application/json", "VersionNumber": 3},
            {"ApplicationId": "app0001", "ConfigurationProfileId": "cfg0001", "VersionNumber": 3},
        )
        stub.add_client_error(
            "create_hosted_configuration_version",
            service_error_code="ConflictException",
            service_message="The version number is not the latest",
            http_status_code=409,
            expected_params={
                "ApplicationId": "app0001",
                "ConfigurationProfileId": "cfg0001",
                "Content": content,
                "ContentType": "application/json",
                "LatestVersionNumber": 3,
            },
        )
        with pytest.raises(PublishError) as raised:
            push(BOOL_NEW, application="shop", environment="prod", profile="flags", client=client)
        stub.assert_no_pending_responses()  # and no start_deployment was attempted
    assert str(raised.value) == (
        "another hosted configuration version of profile 'flags' (cfg0001) was created since "
        "this push read the latest one (version 3), so nothing was created or deployed; re-run "
        "flagkit push to review the impact against the new version (AppConfig: The version "
        "number is not the latest)"
    )


def test_a_deployment_conflict_says_the_version_exists_but_is_not_deployed(
    aws_env: None,
) -> None:
    client = stub_client(aws_env)
    with Stubber(client) as stub:
        queue_reads(stub, "app0001", "cfg0001", [], deployed=None, profiles=FREEFORM)
        stub.add_response(
            "create_hosted_configuration_version", {"VersionNumber": 1, "Content": body(b"{}")}
        )
        stub.add_client_error(
            "start_deployment", service_error_code="ConflictException", http_status_code=409
        )
        with pytest.raises(PublishError, match=r"^created hosted configuration version 1 but"):
            push(BOOL_NEW, application="shop", environment="prod", profile="flags", client=client)
        stub.assert_no_pending_responses()


def test_a_dry_run_reads_and_diffs_but_creates_nothing(aws_env: None) -> None:
    client = stub_client(aws_env)
    seen: list[str] = []
    with Stubber(client) as stub:
        queue_reads(stub, "app0001", "cfg0001", [1], deployed=None, profiles=FREEFORM)
        stub.add_response(
            "get_hosted_configuration_version",
            {"Content": body(b"featureA: {enabled: true}"), "ContentType": "application/x-yaml"},
        )
        result = push(
            BOOL_NEW,
            application="shop",
            environment="prod",
            profile="flags",
            dry_run=True,
            client=client,
            on_diff=lambda partial: seen.append(partial.compared_with),
        )
        stub.assert_no_pending_responses()
    assert seen == ["latest version 1"]
    assert (result.dry_run, result.version_number, result.diff) == (True, None, None)
    assert result.diff_problem is not None
    assert result.diff_problem.startswith(
        "version 1 is not a flag document flagkit can read: (document): not valid JSON"
    )


def test_an_invalid_document_is_refused_before_any_call(aws_env: None) -> None:
    client = stub_client(aws_env)
    with Stubber(client), pytest.raises(DocumentError, match="percentage: 120 is greater"):
        push(
            {"a": {"enabled": True, "percentage": 120}},
            application="shop",
            environment="prod",
            profile="flags",
            client=client,
        )


NOT_UNICODE = (
    "not valid Unicode text (it has a lone surrogate); AppConfig stores UTF-8, which cannot hold it"
)


def test_text_utf8_cannot_encode_is_refused_by_path_before_any_call(aws_env: None) -> None:
    """A JSON escape such as "\\ud800" passes the document checks but cannot be stored."""
    document = {"a": {"enabled": True, "excludedTenants": ["\ud800"], "note\udcff": ["x", 1]}}
    check_document(document)
    with pytest.raises(DocumentError) as refused:
        appconfig_definition(document)
    assert [str(problem) for problem in refused.value.problems][:2] == [
        f"a.excludedTenants[0]: {NOT_UNICODE}",
        f'a["note\udcff"]: the name is {NOT_UNICODE}',
    ]
    client = stub_client(aws_env)
    with Stubber(client), pytest.raises(DocumentError) as refused:
        push(document, application="shop", environment="prod", profile="flags", client=client)
    assert str(refused.value) == "\n".join(
        [
            "2 problems in the flag document:",
            f"  a.excludedTenants[0]: {NOT_UNICODE}",
            f'  a["note\udcff"]: the name is {NOT_UNICODE}',
        ]
    )


def test_a_feature_flag_profile_refuses_rules_before_writing(aws_env: None) -> None:
    client = stub_client(aws_env)
    profiles = [{"Id": "cfg0001", "Name": "flags", "Type": FEATURE_FLAGS_TYPE}]
    with Stubber(client) as stub:
        stub.add_response("list_applications", {"Items": [{"Id": "app0001", "Name": "shop"}]})
        stub.add_response("list_environments", {"Items": [{"Id": "env0001", "Name": "prod"}]})
        stub.add_response("list_configuration_profiles", {"Items": profiles})
        with pytest.raises(DocumentError, match=r"^theme\.variants: cannot be"):
            push(
                {"theme": {"enabled": True, "variants": {"a": 1}, "defaultVariant": "a"}},
                application="shop",
                environment="prod",
                profile="flags",
                client=client,
            )
        stub.assert_no_pending_responses()


@pytest.mark.parametrize(
    ("names", "message"),
    [
        (
            {"application": "nope"},
            "no application 'nope'; expected the name or id of one of: shop (app0001), "
            "shop-eu (app0002)",
        ),
        (
            {"environment": "staging"},
            "no environment 'staging' in application 'shop' (app0001); expected the name or id "
            "of one of: prod (env0001), prod (env0002)",
        ),
        (
            {"environment": "prod"},
            "environment 'prod' in application 'shop' (app0001) is ambiguous: 2 environments "
            "have that name (ids env0001, env0002); pass the id instead",
        ),
        (
            {"environment": "env0002", "profile": "s3"},
            "configuration profile 's3' (cfg0002) reads its configuration from "
            "'s3://bucket/flags.json'; flagkit push needs a profile whose location is 'hosted' "
            "(the AppConfig hosted configuration store)",
        ),
        (
            {"environment": "env0002", "strategy": "slow"},
            "no deployment strategy 'slow'; expected the name or id of one of: "
            "AppConfig.AllAtOnce (AppConfig.AllAtOnce), canary (dst0001)",
        ),
    ],
    ids=["application", "environment", "ambiguous", "not-hosted", "strategy"],
)
def test_names_that_do_not_resolve_say_what_exists(
    aws_env: None, names: dict[str, str], message: str
) -> None:
    client = stub_client(aws_env)
    args: dict[str, Any] = {"application": "shop", "environment": "prod", "profile": "flags"}
    args |= names
    responses = [
        ("list_applications", [("app0001", "shop"), ("app0002", "shop-eu")]),
        ("list_environments", [("env0001", "prod"), ("env0002", "prod")]),
        ("list_configuration_profiles", [("cfg0001", "flags"), ("cfg0002", "s3")]),
        ("list_deployment_strategies", [("AppConfig.AllAtOnce",) * 2, ("dst0001", "canary")]),
    ]
    with Stubber(client) as stub:
        for operation, items in responses:
            listed = [{"Id": item_id, "Name": name} for item_id, name in items]
            if operation == "list_configuration_profiles":
                listed[1]["LocationUri"] = "s3://bucket/flags.json"
            stub.add_response(operation, {"Items": listed})
        with pytest.raises(PublishError) as raised:
            push(BOOL_NEW, **args, client=client)
    assert str(raised.value) == message


def test_a_strategy_name_resolves_to_its_id(aws_env: None) -> None:
    client = stub_client(aws_env)
    with Stubber(client) as stub:
        stub.add_response("list_applications", {"Items": [{"Id": "app0001", "Name": "shop"}]})
        stub.add_response("list_environments", {"Items": [{"Id": "env0001", "Name": "prod"}]})
        stub.add_response("list_configuration_profiles", {"Items": FREEFORM})
        stub.add_response(
            "list_deployment_strategies", {"Items": [{"Id": "dst0001", "Name": "canary"}]}
        )
        stub.add_response("list_hosted_configuration_versions", {"Items": []})
        stub.add_response("list_deployments", {"Items": []})
        result = push(
            BOOL_NEW,
            application="shop",
            environment="prod",
            profile="flags",
            strategy="canary",
            dry_run=True,
            client=client,
        )
    assert (result.strategy_id, result.strategy_name) == ("dst0001", "canary")


def test_no_region_is_a_clear_error(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    with pytest.raises(PublishError, match=r"^no AWS region for AppConfig: pass --region"):
        push(BOOL_NEW, application="shop", environment="prod", profile="flags")


def test_importing_publish_or_the_cli_loads_no_boto3() -> None:
    code = "import json, sys, flagkit.publish, flagkit.cli; print(json.dumps(list(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    loaded = set(json.loads(result.stdout))
    assert not {"boto3", "botocore"} & loaded


# -- the console script -----------------------------------------------------------------------


def flagkit(
    *args: str | Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    command = shutil.which("flagkit", path=str(Path(sys.executable).parent))
    assert command is not None, "the flagkit console script is not installed in this venv"
    return subprocess.run(
        [command, *map(str, args)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
    )


def write(tmp_path: Path, name: str, content: object) -> Path:
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


TENANTS_FILE = "# who to check\nacme enterprise\nglobex pro\ninitech free\nhooli\n"


def test_cli_diff_prints_a_line_per_flag_and_exits_3_on_impact(tmp_path: Path) -> None:
    old, new = write(tmp_path, "old.json", OLD), write(tmp_path, "new.json", NEW)
    tenants = write(tmp_path, "tenants.txt", TENANTS_FILE)
    result = flagkit("diff", old, new, "--tenants", tenants)
    assert result.returncode == 3, result.stderr
    assert result.stdout.splitlines() == [
        "payments: -1 tenant (changed: excludedTenants)",
        "  - initech",
        "featureA: +1 tenant, -1 tenant (changed: temperature, tenants)",
        "  + hooli",
        "  - globex",
        "fresh: +1 tenant (added)",
        "  + acme",
        "legacy: -4 tenants (removed)",
        "  - acme, globex, initech, hooli",
        "summary: 4 flags differ (1 added, 1 removed, 2 changed); "
        "a different answer for 4 of 4 tenants",
    ]
    assert result.stderr == ""


def test_cli_diff_json_and_a_no_impact_change_exit_0(tmp_path: Path) -> None:
    old = write(tmp_path, "old.json", {"a": {"enabled": True, "model": "x"}})
    new = write(tmp_path, "new.json", {"a": {"enabled": True, "model": "y"}})
    tenants = write(tmp_path, "tenants.txt", TENANTS_FILE)
    result = flagkit("diff", old, new, "--tenants", tenants, "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "old": str(old),
        "new": str(new),
        "added": [],
        "removed": [],
        "changed": ["a"],
        "flags": [
            {
                "flag": "a",
                "status": "changed",
                "fields": ["model"],
                "gained": [],
                "lost": [],
                "variantChanges": [],
            }
        ],
        "tenants": 4,
        "affectedTenants": 0,
        "changesAnswers": False,
    }


def test_cli_diff_caps_ids_unless_all(tmp_path: Path) -> None:
    old, new = (
        write(tmp_path, "old.json", {}),
        write(tmp_path, "new.json", {"a": {"enabled": True}}),
    )
    tenants = write(tmp_path, "t.txt", "".join(f"t{i}\n" for i in range(12)))
    capped = flagkit("diff", old, new, "--tenants", tenants)
    assert (
        capped.stdout.splitlines()[1] == "  + t0, t1, t2, t3, t4, t5, t6, t7, t8, t9 … and 2 more"
    )
    everything = flagkit("diff", old, new, "--tenants", tenants, "--all")
    assert everything.stdout.splitlines()[1] == "  + " + ", ".join(f"t{i}" for i in range(12))


def test_cli_diff_prints_each_documents_warnings_once(tmp_path: Path) -> None:
    typo = write(tmp_path, "typo.json", {"a": {"enabled": True, "tenant": ["acme"]}})
    result = flagkit("diff", typo, typo, "--tenants", write(tmp_path, "t.txt", "acme\n"))
    assert result.returncode == 0
    warning = 'a.tenant: did you mean "tenants"? (kept as an attribute)'
    assert result.stderr.splitlines() == [f"{typo}: warning: {warning}"] * 2
    assert result.stdout == "summary: no flag differs; a different answer for 0 of 1 tenant\n"


def test_cli_diff_refuses_invalid_input_with_exit_1(tmp_path: Path) -> None:
    good = write(tmp_path, "good.json", {"a": {"enabled": True}})
    bad = write(tmp_path, "bad.json", {"a": {"enabled": True, "percentage": -1}})
    result = flagkit("diff", good, bad)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == f"{bad}: error: a.percentage: -1 is less than the minimum of 0\n"
    tenants = write(tmp_path, "t.txt", "acme\nacme\n")
    result = flagkit("diff", good, good, "--tenants", tenants)
    assert result.returncode == 1
    assert result.stderr == (
        f"flagkit diff: error: {tenants}:2: tenant 'acme' is listed again (first on line 1); "
        "expected each tenant once\n"
    )


def test_cli_appconfig_definition_prints_writes_and_refuses(tmp_path: Path) -> None:
    source = write(tmp_path, "flags.json", BOOLEAN_EXAMPLE)
    printed = flagkit("appconfig-definition", source)
    assert printed.returncode == 0, printed.stderr
    assert json.loads(printed.stdout) == appconfig_definition(BOOLEAN_EXAMPLE)
    out = tmp_path / "definition.json"
    written = flagkit("appconfig-definition", source, "--output", out)
    assert (written.returncode, written.stdout) == (0, f"{source}: wrote {out} (3 flags)\n")
    assert json.loads(out.read_text()) == appconfig_definition(BOOLEAN_EXAMPLE)
    refused = flagkit("appconfig-definition", EXAMPLE)
    assert (refused.returncode, refused.stdout) == (1, "")
    assert [line.split(": ", 3)[2] for line in refused.stderr.splitlines()] == [
        "_segments",
        "checkoutTheme.variants",
        "checkoutTheme.rules",
    ]


@pytest.fixture
def control() -> Iterator[AppConfigControlStub]:
    with AppConfigControlStub() as served:
        yield served


def cli_env() -> dict[str, str]:
    """The console script's environment: fake credentials, nothing from this machine."""
    keep = {name: os.environ[name] for name in ("PATH", "HOME", "LANG") if name in os.environ}
    return keep | {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_MAX_ATTEMPTS": "1",
        "NO_PROXY": "127.0.0.1",
    }


def push_cli(control: AppConfigControlStub, *args: str | Path) -> subprocess.CompletedProcess[str]:
    return flagkit(
        "push", *args, "--endpoint-url", control.url, "--region", "us-east-1", env=cli_env()
    )


def test_cli_push_creates_and_deploys_a_first_version(
    tmp_path: Path, control: AppConfigControlStub
) -> None:
    app = control.add_application("shop")
    env = control.add_environment(app, "prod")
    profile = control.add_profile(app, "flags")
    source = write(tmp_path, "flags.json", BOOL_NEW)
    result = push_cli(
        control, source, "--application", "shop", "--environment", "prod", "--profile", "flags"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"target: application 'shop' ({app}), environment 'prod' ({env}), profile 'flags' "
        f"({profile}, AWS.Freeform)",
        "compared with: nothing (the profile has no version yet)",
        "featureA: added",
        "summary: 1 flag differs (1 added, 0 removed, 0 changed); no tenants given, so which "
        "tenants are affected is unknown",
        "created: hosted configuration version 1 of profile 'flags'",
        "deployed: deployment 1 of version 1 to environment 'prod' with AppConfig.AllAtOnce "
        "(state DEPLOYING)",
    ]
    ((number, content, content_type),) = control.versions(app, profile)
    assert (number, json.loads(content), content_type) == (1, BOOL_NEW, "application/json")
    (created,) = [r for r in control.requests if r.method == "POST" and "hosted" in r.path]
    assert "Latest-Version-Number" not in created.headers


def test_cli_push_to_a_feature_flag_profile_diffs_against_the_deployed_version(
    tmp_path: Path, control: AppConfigControlStub
) -> None:
    app = control.add_application("shop")
    env = control.add_environment(app, "prod")
    profile = control.add_profile(app, "flags", FEATURE_FLAGS_TYPE)
    control.add_version(app, profile, json.dumps(appconfig_definition(BOOL_OLD)).encode())
    control.add_deployment(app, env, profile, 1)
    control.add_version(app, profile, json.dumps(appconfig_definition(BOOL_OLD)).encode())
    canary = control.add_strategy("canary")
    source = write(tmp_path, "flags.json", BOOL_NEW)
    tenants = write(tmp_path, "tenants.txt", TENANTS_FILE)
    result = push_cli(
        control,
        source,
        "--application",
        app,
        "--environment",
        "prod",
        "--profile",
        "flags",
        "--strategy",
        "canary",
        "--tenants",
        tenants,
        "--description",
        "globex joins",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[1:] == [
        "compared with: deployed version 1 (the latest version is 2)",
        "featureA: +1 tenant (changed: percentage, tenants)",
        "  + globex",
        "summary: 1 flag differs (0 added, 0 removed, 1 changed); "
        "a different answer for 1 of 4 tenants",
        "created: hosted configuration version 3 of profile 'flags'",
        f"deployed: deployment 2 of version 3 to environment 'prod' with canary ({canary}) "
        "(state DEPLOYING)",
    ]
    (created,) = [r for r in control.requests if r.method == "POST" and "hosted" in r.path]
    assert created.headers["Latest-Version-Number"] == "2"
    assert json.loads(created.body) == appconfig_definition(BOOL_NEW)
    assert control.deployments(app, env)[-1]["Description"] == "globex joins"


def test_cli_push_dry_run_creates_nothing(tmp_path: Path, control: AppConfigControlStub) -> None:
    app = control.add_application("shop")
    control.add_environment(app, "prod")
    profile = control.add_profile(app, "flags")
    control.add_version(app, profile, json.dumps(BOOL_OLD).encode())
    source = write(tmp_path, "flags.json", BOOL_NEW)
    result = push_cli(
        control, source, "--application", "shop", "--environment", "prod", "--profile", "flags",
        "--dry-run",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == (
        "dry run: nothing created; push would create a hosted configuration version after "
        "version 1 and deploy it to environment 'prod' with AppConfig.AllAtOnce"
    )
    assert [r.method for r in control.requests] == ["GET"] * len(control.requests)
    assert len(control.versions(app, profile)) == 1


def test_cli_push_that_loses_a_race_exits_1_and_says_to_rerun(
    tmp_path: Path, control: AppConfigControlStub
) -> None:
    app = control.add_application("shop")
    env = control.add_environment(app, "prod")
    profile = control.add_profile(app, "flags")
    control.add_version(app, profile, json.dumps(BOOL_OLD).encode())
    control.before_create = lambda a, p: control.add_version(a, p, b'{"other": {"enabled": true}}')
    source = write(tmp_path, "flags.json", BOOL_NEW)
    result = push_cli(
        control, source, "--application", "shop", "--environment", "prod", "--profile", "flags"
    )
    assert result.returncode == 1
    assert result.stderr == (
        f"flagkit push: error: another hosted configuration version of profile 'flags' "
        f"({profile}) was created since this push read the latest one (version 1), so nothing "
        "was created or deployed; re-run flagkit push to review the impact against the new "
        "version (AppConfig: LatestVersionNumber 1 does not match the latest version 2)\n"
    )
    assert [number for number, _, _ in control.versions(app, profile)] == [1, 2]
    assert control.deployments(app, env) == []


def test_cli_push_refuses_an_invalid_document_before_calling_appconfig(
    tmp_path: Path, control: AppConfigControlStub
) -> None:
    bad = write(tmp_path, "bad.json", {"a": {"enabled": "yes"}})
    result = push_cli(control, bad, "--application", "s", "--environment", "e", "--profile", "p")
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == f"{bad}: error: a.enabled: \"yes\" is not of type 'boolean'\n"
    assert control.requests == []


def test_cli_refuses_an_escaped_lone_surrogate_instead_of_crashing(
    tmp_path: Path, control: AppConfigControlStub
) -> None:
    """`validate` takes `"\\ud800"` (only a salt must be hashable); publishing cannot."""
    source = write(tmp_path, "flags.json", '{"a": {"enabled": true, "tiers": ["\\ud800"]}}')
    expected = f"{source}: error: a.tiers[0]: {NOT_UNICODE}\n"
    definition = flagkit("appconfig-definition", source, "--output", tmp_path / "out.json")
    assert (definition.returncode, definition.stdout, definition.stderr) == (1, "", expected)
    assert not (tmp_path / "out.json").exists()
    pushed = push_cli(control, source, "--application", "s", "--environment", "e", "--profile", "p")
    assert (pushed.returncode, pushed.stdout, pushed.stderr) == (1, "", expected)
    assert control.requests == []


def test_cli_push_names_what_exists_when_a_name_is_wrong(
    tmp_path: Path, control: AppConfigControlStub
) -> None:
    app = control.add_application("shop")
    env = control.add_environment(app, "prod")
    source = write(tmp_path, "flags.json", BOOL_NEW)
    result = push_cli(
        control, source, "--application", "shop", "--environment", "staging", "--profile", "f"
    )
    assert result.returncode == 1
    assert result.stderr == (
        f"flagkit push: error: no environment 'staging' in application 'shop' ({app}); expected "
        f"the name or id of one of: prod ({env})\n"
    )


def test_the_loopback_stub_answers_like_moto_where_both_implement_appconfig(
    moto_client: AppConfigClient, control: AppConfigControlStub
) -> None:
    """The operations both implement give the same answers (ids aside), through real boto3."""
    stub_client = boto3.client("appconfig", region_name="us-east-1", endpoint_url=control.url)
    try:
        answers = []
        for client in (moto_client, stub_client):
            app = control.add_application("shop") if client is stub_client else None
            if app is None:
                app = client.create_application(Name="shop")["Id"]
            if client is stub_client:
                profile = control.add_profile(app, "flags", FEATURE_FLAGS_TYPE)
            else:
                profile = client.create_configuration_profile(
                    ApplicationId=app, Name="flags", LocationUri="hosted", Type=FEATURE_FLAGS_TYPE
                )["Id"]
            listed = client.list_configuration_profiles(ApplicationId=app)["Items"]
            created = client.create_hosted_configuration_version(
                ApplicationId=app,
                ConfigurationProfileId=profile,
                Content=b'{"version": "1"}',
                ContentType="application/json",
                Description="first",
            )
            with created["Content"] as echoed:
                created_body = echoed.read()
            got = client.get_hosted_configuration_version(
                ApplicationId=app, ConfigurationProfileId=profile, VersionNumber=1
            )
            with got["Content"] as stored:
                got_body = stored.read()
            answers.append(
                (
                    [(p["Name"], p["LocationUri"], p["Type"]) for p in listed],
                    created["VersionNumber"],
                    created_body,
                    got["VersionNumber"],
                    got["ContentType"],
                    got["Description"],
                    got_body,
                )
            )
        assert answers[0] == answers[1]
    finally:
        stub_client.close()
