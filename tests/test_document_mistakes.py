"""A mistake in a document is an error, not a silent change (issue #10, section 2).

- A flag key one edit (or only letter case) away from a field's name is refused, unless the
  flag lists it in `declaredAttributes`; the declaration works in a feature-flag profile too.
- A number a float cannot hold (`1e400`, read as infinity) is refused wherever it is, with
  its path, so no answer ever carries `Infinity`.

Each refusal is shown with what it keeps: the document served before goes on serving.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import flagkit
from flagkit import Flags, InvalidFlagError, SchemaValidationError
from flagkit.document import load_document, parse_document
from flagkit.publish.appconfig_format import appconfig_definition, load_flag_document
from flagkit.sources.memory import MemorySource
from tests.helpers import run_flagkit, write


def _doc(document: Any) -> bytes:
    return json.dumps(document).encode()


def _typo(path: str, field: str, meant: str) -> str:
    return (
        f'{path}: unknown field, did you mean "{meant}"? (if it is an attribute, declare it: '
        f'"declaredAttributes": ["{field}"])'
    )


# -- keys one edit away from a field ---------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "meant"),
    [
        ("percentge", "percentage"),  # a letter dropped
        ("Tenants", "tenants"),  # only letter case
        ("tenant", "tenants"),
        ("Enabled", "enabled"),
        ("tiers_", "tiers"),  # a letter added
        ("exlcudedTenants", "excludedTenants"),  # neighbours swapped
        ("sald", "salt"),  # a letter changed
        ("declaredAttribute", "declaredAttributes"),
    ],
)
def test_a_key_one_edit_from_a_field_is_an_error(field: str, meant: str) -> None:
    with pytest.raises(InvalidFlagError) as caught:
        load_document(_doc({"featureA": {"enabled": True, field: 10}}))
    assert str(caught.value) == _typo(f"featureA.{field}", field, meant)


def test_the_reported_typo_no_longer_serves_on_to_every_tenant(tmp_path: Path) -> None:
    """`{"enabled": true, "percentge": 10}` was on for everyone: now it is never served."""
    path = write(tmp_path, "flags.json", {"featureA": {"enabled": True, "percentge": 10}})
    with pytest.raises(InvalidFlagError) as caught:
        Flags.from_file(path)
    assert str(caught.value) == _typo("featureA.percentge", "percentge", "percentage")
    result = run_flagkit("validate", path)
    assert (result.returncode, result.stdout, result.stderr) == (
        1,
        f"{path}: error: {_typo('featureA.percentge', 'percentge', 'percentage')}\n",
        "",
    )


def test_every_typo_of_a_document_is_reported() -> None:
    document = {
        "featureA": {"enabled": True, "Tenants": ["acme"], "percentge": 10},
        "featureB": {"enabled": False, "tier": "gold", "temperature": 0.7},
    }
    with pytest.raises(InvalidFlagError) as caught:
        load_document(_doc(document))
    assert [str(problem) for problem in caught.value.problems] == [
        _typo("featureA.Tenants", "Tenants", "tenants"),
        _typo("featureA.percentge", "percentge", "percentage"),
        _typo("featureB.tier", "tier", "tiers"),
    ]


def test_a_running_flags_rejects_a_typo_and_keeps_serving() -> None:
    good = {"featureA": {"enabled": True, "percentage": 0}}
    source = MemorySource(good, version="1")
    flags = Flags(source)
    source.update({"featureA": {"enabled": True, "percentge": 10}}, version="2")

    with pytest.raises(InvalidFlagError) as caught:
        flags.refresh()

    message = _typo("featureA.percentge", "percentge", "percentage")
    assert str(caught.value) == message
    assert flags.status.last_error == message
    assert flags.version == "1"
    assert flags.enabled("featureA", "acme") is False  # still the 0 % of version 1


def test_declared_attributes_are_attributes_handed_back() -> None:
    document = {
        "featureA": {
            "enabled": True,
            "tenant": "acme-eu",
            "Tiers": ["gold"],
            "temperature": 0.7,
            "declaredAttributes": ["tenant", "Tiers", "notPresent"],
        }
    }
    checked = load_document(_doc(document))
    assert (checked.document, checked.warnings) == (document, ())
    evaluation = Flags.from_dict(document).evaluate("featureA", "globex")
    assert evaluation.enabled is True
    assert dict(evaluation.attributes) == {
        "tenant": "acme-eu",
        "Tiers": ["gold"],
        "temperature": 0.7,
    }


def test_declaring_a_field_is_an_error() -> None:
    document = {"featureA": {"enabled": True, "declaredAttributes": ["tenant", "percentage"]}}
    with pytest.raises(InvalidFlagError) as caught:
        load_document(_doc(document))
    assert str(caught.value) == (
        'featureA.declaredAttributes[1]: "percentage" is a field, not an attribute; '
        "remove it from this list"
    )


def test_declared_attributes_must_be_a_list_of_names() -> None:
    with pytest.raises(SchemaValidationError) as caught:
        load_document(_doc({"featureA": {"enabled": True, "declaredAttributes": "tenant"}}))
    assert str(caught.value) == "featureA.declaredAttributes: \"tenant\" is not of type 'array'"


def test_a_declaration_survives_an_appconfig_feature_flag_profile() -> None:
    """A feature-flag profile holds only flags: the declaration is an attribute of the flag,
    a string array, which the console can hold, and reads back as the same document."""
    document = {
        "featureA": {"enabled": True, "tenant": "acme-eu", "declaredAttributes": ["tenant"]}
    }
    definition = appconfig_definition(document)
    attributes = definition["flags"]["featureA"]["attributes"]
    assert attributes["declaredAttributes"] == {
        "constraints": {"type": "array", "elements": {"type": "string"}}
    }
    assert definition["values"]["featureA"] == document["featureA"]
    assert load_flag_document(json.dumps(definition)).document == document
    # ...and what AppConfig hands the application (the retrieval format) is the document.
    assert load_document(_doc(definition["values"])).document == document


def test_metadata_keys_are_never_typos_of_flag_fields() -> None:
    document = {"_tenants": ["acme"], "$percentage": 1, "featureA": {"enabled": True}}
    assert load_document(_doc(document)).warnings == ()


# -- numbers a float cannot hold -------------------------------------------------------------


def _out_of_range(path: str, text: str) -> str:
    return (
        f"{path}: {text} is not a number a document can hold (numbers must be finite, at most "
        "about 1.8e308 in size)"
    )


@pytest.mark.parametrize(
    ("text", "path", "literal"),
    [
        ('{"featureA": {"enabled": true, "maxTokens": 1e400}}', "featureA.maxTokens", "1e400"),
        (
            '{"featureA": {"enabled": true, "limits": {"a": [0, -2E+999]}}}',
            "featureA.limits.a[1]",
            "-2E+999",
        ),
        (
            '{"colour": {"enabled": true, "variants": {"red": 1e309}, "defaultVariant": "red"}}',
            "colour.variants.red",
            "1e309",
        ),
        ('{"_notes": {"budget": 1.5e400}, "a": {"enabled": true}}', "_notes.budget", "1.5e400"),
        ('{"featureA": {"enabled": true, "percentage": 1e400}}', "featureA.percentage", "1e400"),
        (
            '{"a": {"enabled": true, "rules": [{"when": [{"attribute": "x", "equals": 1e999}], '
            '"serve": true}]}}',
            "a.rules[0].when[0].equals",
            "1e999",
        ),
    ],
)
def test_a_number_too_large_for_a_float_is_refused_with_its_path(
    text: str, path: str, literal: str
) -> None:
    with pytest.raises(SchemaValidationError) as caught:
        parse_document(text)
    assert str(caught.value) == _out_of_range(path, literal)


def test_every_number_too_large_is_reported_in_document_order() -> None:
    text = '{"b": {"enabled": true, "x": [1e400, 2, -1e400]}, "a": {"enabled": true, "y": 9e999}}'
    with pytest.raises(SchemaValidationError) as caught:
        parse_document(text)
    assert [str(problem) for problem in caught.value.problems] == [
        _out_of_range("b.x[0]", "1e400"),
        _out_of_range("b.x[2]", "-1e400"),
        _out_of_range("a.y", "9e999"),
    ]


def test_the_largest_finite_numbers_are_kept() -> None:
    text = '{"a": {"enabled": true, "big": 1.7976931348623157e308, "huge": 1' + "0" * 400 + "}}"
    document = parse_document(text)
    assert document["a"]["big"] == 1.7976931348623157e308
    assert document["a"]["huge"] == 10**400


def test_no_answer_carries_infinity(tmp_path: Path) -> None:
    """Before: the file loaded, and every answer's attributes wrote `Infinity` into JSON."""
    good = write(tmp_path, "flags.json", {"featureA": {"enabled": True, "maxTokens": 256}})
    flags = Flags.from_file(good)
    good.write_text('{"featureA": {"enabled": true, "maxTokens": 1e400}}', encoding="utf-8")

    with pytest.raises(flagkit.DocumentError) as caught:
        flags.refresh()

    assert str(caught.value) == _out_of_range("featureA.maxTokens", "1e400")
    answer = flags.evaluate("featureA", "acme").as_dict()
    assert json.loads(json.dumps(answer, allow_nan=False))["attributes"] == {"maxTokens": 256}
