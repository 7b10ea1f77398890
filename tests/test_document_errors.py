"""What a user reads when a flag document is rejected: the whole message, path and all.

Each case is the bytes of a document, the error class and the exact `str(exc)`;
the same cases are then fed to a running `Flags` through its file, which must
refuse each one, say why in its status, and keep serving the last good document.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import flagkit
from flagkit import (
    CheckedDocument,
    DocumentError,
    InvalidFlagError,
    Problem,
    SchemaValidationError,
    load_document,
)
from flagkit.document import DEFAULT_MAX_DOCUMENT_BYTES, parse_document

FLAG_KEY_RULE = (
    "not a valid flag key (a flag key starts with a lowercase letter and has at most 64 "
    "letters, digits, '_' and '-'; keys starting with '$' or '_' are metadata)"
)
RULE_FIELDS = "id, description, when, serve, percentage, split"


def _doc(document: dict[str, Any]) -> bytes:
    return json.dumps(document).encode("utf-8")


def _nested_attribute(depth: int) -> bytes:
    """`{"a": {"enabled": true, "x": [[[...]]]}}` with `depth` arrays."""
    return b'{"a": {"enabled": true, "x": ' + b"[" * depth + b"]" * depth + b"}}"


# (id, document bytes, error class, the whole message)
PARSE_AND_SCHEMA_CASES: list[tuple[str, bytes, type[DocumentError], str]] = [
    (
        "not-json",
        b"{",
        SchemaValidationError,
        "(document): not valid JSON: Expecting property name enclosed in double quotes"
        " at line 1 column 2",
    ),
    (
        "not-an-object-array",
        b"[]",
        SchemaValidationError,
        "(document): a flag document is a JSON object of flags, not an array",
    ),
    (
        "not-an-object-string",
        b'"x"',
        SchemaValidationError,
        "(document): a flag document is a JSON object of flags, not a string",
    ),
    (
        "bad-flag-key-uppercase",
        b'{"FeatureA": {"enabled": true}}',
        SchemaValidationError,
        f"FeatureA: {FLAG_KEY_RULE}",
    ),
    (
        "bad-flag-key-space",
        b'{"feature a": {"enabled": true}}',
        SchemaValidationError,
        f'["feature a"]: {FLAG_KEY_RULE}',
    ),
    (
        "percentage-120",
        b'{"featureA": {"enabled": true, "percentage": 120}}',
        SchemaValidationError,
        "featureA.percentage: 120 is greater than the maximum of 100",
    ),
    (
        "percentage-negative",
        b'{"featureA": {"enabled": true, "percentage": -0.5}}',
        SchemaValidationError,
        "featureA.percentage: -0.5 is less than the minimum of 0",
    ),
    # Wrong types: the value as the JSON had it, and the JSON type the field takes.
    (
        "enabled-a-string",
        b'{"featureA": {"enabled": "yes"}}',
        SchemaValidationError,
        "featureA.enabled: \"yes\" is not of type 'boolean'",
    ),
    (
        "flag-not-an-object",
        b'{"featureA": true}',
        SchemaValidationError,
        "featureA: true is not of type 'object'",
    ),
    (
        "tenants-a-string",
        b'{"featureA": {"enabled": true, "tenants": "acme"}}',
        SchemaValidationError,
        "featureA.tenants: \"acme\" is not of type 'array'",
    ),
    (
        "percentage-a-string",
        b'{"featureA": {"enabled": true, "percentage": "50"}}',
        SchemaValidationError,
        "featureA.percentage: \"50\" is not of type 'number'",
    ),
    (
        "tier-a-number",
        b'{"featureA": {"enabled": true, "tiers": [1]}}',
        SchemaValidationError,
        "featureA.tiers[0]: 1 is not of type 'string'",
    ),
    (
        "empty-tenant-id",
        b'{"featureA": {"enabled": true, "tenants": ["acme", ""]}}',
        SchemaValidationError,
        "featureA.tenants[1]: an empty string; give at least 1 character",
    ),
    (
        "rule-when-not-an-array",
        _doc(
            {
                "featureA": {
                    "enabled": True,
                    "rules": [{"when": {"attribute": "id", "equals": "acme"}, "serve": True}],
                }
            }
        ),
        SchemaValidationError,
        'featureA.rules[0].when: {"attribute": "id", "equals": "acme"} is not of type \'array\'',
    ),
    (
        "variants-not-an-object",
        _doc({"featureA": {"enabled": True, "variants": ["red", "blue"], "defaultVariant": "red"}}),
        SchemaValidationError,
        'featureA.variants: ["red", "blue"] is not of type \'object\'',
    ),
    (
        "missing-enabled",
        b'{"featureA": {"tenants": ["acme"]}}',
        SchemaValidationError,
        'featureA: missing "enabled"',
    ),
    (
        "required-flag-key-uppercase",
        b'{"featureA": {"enabled": true, "requires": ["Payments"]}}',
        SchemaValidationError,
        'featureA.requires[0]: "Payments" is not a flag key (a flag key starts with a lowercase'
        " letter and has at most 64 letters, digits, '_' and '-')",
    ),
    (
        "rule-serve-and-percentage",
        _doc({"featureA": {"enabled": True, "rules": [{"serve": True, "percentage": 5}]}}),
        SchemaValidationError,
        "featureA.rules[0]: has serve, percentage; give exactly one of: serve, percentage, split",
    ),
    (
        "condition-without-operator",
        _doc({"f": {"enabled": True, "rules": [{"when": [{"attribute": "id"}], "serve": True}]}}),
        SchemaValidationError,
        "f.rules[0].when[0]: has no test; give one of:"
        " equals, notEquals, in, notIn, inSegment, notInSegment, exists, lt, lte, gt, gte,"
        " startsWith, endsWith, contains, matches, versionEquals, versionLt, versionLte,"
        " versionGt, versionGte, before, after, inCidr, schedule",
    ),
    (
        "rule-unknown-field",
        _doc({"featureA": {"enabled": True, "rules": [{"serve": True, "priority": 1}]}}),
        SchemaValidationError,
        f"featureA.rules[0].priority: unknown field (expected one of: {RULE_FIELDS})",
    ),
    (
        "several-problems",
        _doc(
            {
                "featureA": {"enabled": True, "percentage": 120},
                "B": {"enabled": True},
                "c": {
                    "enabled": True,
                    "rules": [
                        {"serve": True, "percentage": 1},
                        {"when": []},
                        {"serve": True, "priority": 1},
                    ],
                },
            }
        ),
        SchemaValidationError,
        "5 problems in the flag document:\n"
        f"  B: {FLAG_KEY_RULE}\n"
        "  c.rules[0]: has serve, percentage; give exactly one of: serve, percentage, split\n"
        "  c.rules[1]: needs exactly one of: serve, percentage, split\n"
        f"  c.rules[2].priority: unknown field (expected one of: {RULE_FIELDS})\n"
        "  featureA.percentage: 120 is greater than the maximum of 100",
    ),
    (
        "nested-100000-deep",
        b"[" * 100_000,
        SchemaValidationError,
        "(document): nested deeper than 32 levels",
    ),
    (
        "nested-40-deep-in-an-attribute",
        _nested_attribute(40),
        SchemaValidationError,
        "a.x" + "[0]" * 31 + ": nested deeper than 32 levels",
    ),
    (
        "nan",
        b'{"a": {"enabled": true, "x": NaN}}',
        SchemaValidationError,
        "(document): not valid JSON: NaN is not a JSON number",
    ),
    (
        "infinity",
        b'{"a": {"enabled": true, "x": -Infinity}}',
        SchemaValidationError,
        "(document): not valid JSON: -Infinity is not a JSON number",
    ),
    (
        "invalid-utf-8",
        b'{"a": {"enabled": true, "x": "\xff"}}',
        SchemaValidationError,
        "(document): not UTF-8 text: invalid start byte at byte 30",
    ),
]

SEMANTIC_CASES: list[tuple[str, bytes, type[DocumentError], str]] = [
    (
        "requires-cycle",
        _doc(
            {"a": {"enabled": True, "requires": ["b"]}, "b": {"enabled": True, "requires": ["a"]}}
        ),
        InvalidFlagError,
        "a.requires: cycle of prerequisites: a -> b -> a",
    ),
    (
        "requires-itself",
        _doc({"a": {"enabled": True, "requires": ["a"]}}),
        InvalidFlagError,
        "a.requires: cycle of prerequisites: a -> a",
    ),
    (
        "requires-unknown-flag",
        _doc({"a": {"enabled": True, "requires": ["payments"]}}),
        InvalidFlagError,
        'a.requires[0]: unknown flag "payments"',
    ),
    (
        "unknown-segment",
        _doc({"_segments": {"beta": ["acme"]}, "a": {"enabled": True, "segments": ["beta", "b"]}}),
        InvalidFlagError,
        'a.segments[1]: unknown segment "b"',
    ),
    (
        "unknown-segment-in-rule",
        _doc(
            {
                "a": {
                    "enabled": True,
                    "rules": [{"when": [{"attribute": "id", "notInSegment": "x"}], "serve": True}],
                }
            }
        ),
        InvalidFlagError,
        'a.rules[0].when[0].notInSegment: unknown segment "x"',
    ),
    (
        "duplicate-rule-id",
        _doc(
            {
                "a": {
                    "enabled": True,
                    "rules": [
                        {"id": "eu", "serve": True},
                        {"id": "us", "serve": True},
                        {"id": "eu", "serve": False},
                    ],
                }
            }
        ),
        InvalidFlagError,
        'a.rules[2].id: duplicate rule id "eu" (also rules[0])',
    ),
    (
        "split-weights-zero",
        _doc(
            {
                "c": {
                    "enabled": True,
                    "variants": {"red": 1, "blue": 2},
                    "defaultVariant": "red",
                    "split": {"red": 0, "blue": 0},
                }
            }
        ),
        InvalidFlagError,
        "c.split: weights add up to 0; at least one must be positive",
    ),
    (
        "split-unknown-variant",
        _doc(
            {
                "c": {
                    "enabled": True,
                    "variants": {"red": 1, "blue": 2},
                    "defaultVariant": "red",
                    "rules": [{"split": {"red": 1, "green": 1}}],
                }
            }
        ),
        InvalidFlagError,
        'c.rules[0].split.green: unknown variant "green" (variants: red, blue)',
    ),
    (
        "default-variant-not-a-variant",
        _doc({"c": {"enabled": True, "variants": {"red": 1, "blue": 2}, "defaultVariant": "x"}}),
        InvalidFlagError,
        'c.defaultVariant: unknown variant "x" (variants: red, blue)',
    ),
    (
        "default-variant-missing",
        _doc({"c": {"enabled": True, "variants": {"red": 1}}}),
        InvalidFlagError,
        'c.defaultVariant: is required when the flag has "variants"',
    ),
    (
        "off-variant-without-variants",
        _doc({"c": {"enabled": True, "offVariant": "off"}}),
        InvalidFlagError,
        'c.offVariant: needs "variants" in the same flag',
    ),
    (
        "serve-variant-on-boolean-flag",
        _doc({"a": {"enabled": True, "rules": [{"serve": "blue"}]}}),
        InvalidFlagError,
        'a.rules[0].serve: "blue" is not true or false, and the flag has no variants',
    ),
    (
        "percentage-three-decimals",
        _doc({"a": {"enabled": True, "percentage": 12.345}}),
        InvalidFlagError,
        "a.percentage: 12.345 has more than two decimal places (steps of 0.01)",
    ),
    (
        "rule-percentage-three-decimals",
        _doc({"a": {"enabled": True, "rules": [{"percentage": 0.001}]}}),
        InvalidFlagError,
        "a.rules[0].percentage: 0.001 has more than two decimal places (steps of 0.01)",
    ),
    (
        "several-semantic-problems",
        _doc(
            {
                "b": {"enabled": True, "requires": ["a"], "segments": ["nope"]},
                "a": {"enabled": True, "requires": ["b", "zz"]},
            }
        ),
        InvalidFlagError,
        "3 problems in the flag document:\n"
        '  a.requires[1]: unknown flag "zz"\n'
        "  b.requires: cycle of prerequisites: b -> a -> b\n"
        '  b.segments[0]: unknown segment "nope"',
    ),
]

CASES = PARSE_AND_SCHEMA_CASES + SEMANTIC_CASES


@pytest.mark.parametrize(
    ("content", "error", "message"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_rejected_document_message(
    content: bytes, error: type[DocumentError], message: str
) -> None:
    with pytest.raises(DocumentError) as caught:
        load_document(content)
    assert type(caught.value) is error
    assert str(caught.value) == message
    # Every problem is listed, in the order the message shows them.
    assert [str(problem) for problem in caught.value.problems] == [
        line.strip() for line in message.splitlines()[-len(caught.value.problems) :]
    ]


def test_a_50_mb_document_is_refused_before_it_is_parsed() -> None:
    size = 50 * 1024 * 1024
    content = b"{" + b" " * (size - 1)  # not JSON either: the size alone must decide
    with pytest.raises(SchemaValidationError) as caught:
        parse_document(content)
    assert str(caught.value) == (
        f"(document): 52428800 bytes is larger than the limit of {DEFAULT_MAX_DOCUMENT_BYTES} bytes"
    )
    assert DEFAULT_MAX_DOCUMENT_BYTES == 4_194_304


def test_a_50_mb_document_is_refused_by_a_running_flags(tmp_path: Path) -> None:
    path = tmp_path / "flags.json"
    path.write_bytes(_doc(GOOD))
    flags = flagkit.Flags.from_file(path)
    answers, version = _answers(flags), flags.version
    size = 50 * 1024 * 1024
    path.write_bytes(b'{"a": "' + b"x" * (size - 9) + b'"}')  # valid JSON: the size alone decides
    assert path.stat().st_size == size
    message = (
        f"(document): 52428800 bytes is larger than the limit of {DEFAULT_MAX_DOCUMENT_BYTES} bytes"
    )

    with pytest.raises(SchemaValidationError) as caught:
        flags.refresh()
    assert str(caught.value) == message
    assert caught.value.source == f"file:{path}"
    assert flags.version == version
    assert _answers(flags) == answers
    status = flags.status
    assert (status.version, status.last_error, status.consecutive_failures) == (version, message, 1)

    with pytest.raises(SchemaValidationError) as caught:
        flagkit.Flags.from_file(path)
    assert str(caught.value) == message
    assert caught.value.source == f"file:{path}"


def test_the_size_of_text_is_counted_in_utf_8_bytes() -> None:
    with pytest.raises(SchemaValidationError) as caught:
        parse_document('"\u00e9\u00e9\u00e9"', max_bytes=7)
    assert str(caught.value) == "(document): 8 bytes is larger than the limit of 7 bytes"
    assert parse_document('"\u00e9\u00e9\u00e9"', max_bytes=8) == "\u00e9\u00e9\u00e9"


def test_nesting_up_to_the_limit_is_accepted() -> None:
    # The innermost of 31 arrays in `a.x` is 32 levels down: the deepest a document may go.
    assert load_document(_nested_attribute(31)).document["a"]["x"] is not None
    with pytest.raises(SchemaValidationError) as caught:
        load_document(_nested_attribute(32))
    assert str(caught.value) == "a.x" + "[0]" * 31 + ": nested deeper than 32 levels"


def test_metadata_typo_warnings_do_not_reject_the_document() -> None:
    """A flag's mistyped field is an error (tests/test_document_mistakes.py); a metadata key
    one edit from `_segments` or `$schema` is only a warning: no flag reads it."""
    document = {
        "_segment": {"beta": ["acme"]},
        "_schema": "flags.v1.schema.json",
        "featureB": {"enabled": True, "temperature": 0.7},
    }
    checked = load_document(_doc(document))
    assert checked == CheckedDocument(
        document,
        (
            Problem("_segment", 'unknown key; did you mean "_segments"?'),
            Problem("_schema", 'unknown key; did you mean "$schema"?'),
        ),
    )
    assert flagkit.Flags.from_dict(document).enabled("featureB", "globex") is True


GOOD = {
    "featureA": {"enabled": True, "tenants": ["acme"]},
    "payments": {"enabled": True},
    "killed": {"enabled": False},
    "rollout": {"enabled": True, "percentage": 50},
}
TENANTS = ["acme", "globex", "initech", "t-1", "t-2", "t-3", "t-4", "t-5", "t-6", "t-7"]
FILE_LIMIT = 200_000


def _answers(flags: flagkit.Flags) -> dict[tuple[str, str], bool]:
    return {(key, tenant): flags.enabled(key, tenant) for key in GOOD for tenant in TENANTS}


def test_a_rejected_refresh_keeps_serving_the_last_good_document(tmp_path: Path) -> None:
    path = tmp_path / "flags.json"
    path.write_bytes(_doc(GOOD))
    flags = flagkit.Flags.from_file(path, max_document_bytes=FILE_LIMIT)
    answers, version = _answers(flags), flags.version
    assert answers[("featureA", "acme")] is True
    assert answers[("featureA", "globex")] is False
    assert {answers[("rollout", tenant)] for tenant in TENANTS} == {True, False}
    assert flags.status.consecutive_failures == 0
    assert flags.status.last_error is None

    oversized = b"{" + b" " * FILE_LIMIT
    bad_documents = [(content, error, message) for _, content, error, message in CASES] + [
        (
            oversized,
            SchemaValidationError,
            f"(document): {FILE_LIMIT + 1} bytes is larger than the limit of {FILE_LIMIT} bytes",
        )
    ]
    for failures, (content, error, message) in enumerate(bad_documents, start=1):
        path.write_bytes(content)
        with pytest.raises(DocumentError) as caught:
            flags.refresh()
        assert type(caught.value) is error
        assert str(caught.value) == message
        assert caught.value.source == f"file:{path}"
        assert flags.version == version
        assert _answers(flags) == answers
        status = flags.status
        assert status.version == version
        assert status.last_error == message
        assert status.consecutive_failures == failures

    # A good document again: it is swapped in and the failure count starts over.
    path.write_bytes(_doc({**GOOD, "featureA": {"enabled": True, "tenants": ["globex"]}}))
    assert flags.refresh() is True
    assert flags.version != version
    assert flags.enabled("featureA", "globex") is True
    assert flags.enabled("featureA", "acme") is False
    assert flags.status.consecutive_failures == 0
    assert flags.status.last_error is None


# -- found by review: each was accepted, crashed, or read as Python rather than JSON --------


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (
            {"a\n": {"enabled": True}},
            '["a\\n"]: not a valid flag key (a flag key starts with a lowercase letter and has at '
            "most 64 letters, digits, '_' and '-'; keys starting with '$' or '_' are metadata)",
        ),
        (
            {"a": {"enabled": True, "requires": ["b\n"]}, "b": {"enabled": True}},
            'a.requires[0]: "b\\n" is not a flag key (a flag key starts with a lowercase letter '
            "and has at most 64 letters, digits, '_' and '-')",
        ),
        (
            {
                "a": {
                    "enabled": True,
                    "variants": {"x": 1},
                    "defaultVariant": "x",
                    "split": {"x": 1.0},
                }
            },
            "a.split.x: 1.0 is not of type 'integer'",
        ),
        (
            {"a": {"enabled": True, "percentage": float("nan")}},
            "a.percentage: NaN is not of type 'number'",
        ),
        ({1: {"enabled": True}}, "(document): keys must be strings, not int 1"),
        ({"a": {"tenants": ["x"]}}, 'a: missing "enabled"'),
        (
            {"a": {"enabled": True, "tenants": [""]}},
            "a.tenants[0]: an empty string; give at least 1 character",
        ),
    ],
    ids=[
        "key-trailing-newline",
        "requires-trailing-newline",
        "integral-float-weight",
        "nan-from-python",
        "int-key",
        "missing-enabled",
        "empty-tenant-id",
    ],
)
def test_review_findings_are_refused_with_a_clear_message(document: Any, message: str) -> None:
    with pytest.raises(flagkit.DocumentError) as caught:
        flagkit.check_document(document)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            b'{"a": {"enabled": false}, "a": {"enabled": true}}',
            '(document): not valid JSON: the key "a" appears twice in one object',
        ),
        (
            b'{"a": {"enabled": true, "tenants": ["\xed\xa0\x80"]}}',
            "(document): not UTF-8 text: invalid continuation byte at byte 37",
        ),
        (
            '{"a": {"enabled": true}}'.encode("utf-16"),
            "(document): not UTF-8 text: invalid start byte at byte 0",
        ),
        (b"  \n", "(document): the document is empty"),
    ],
    ids=["duplicate-key", "encoded-surrogate", "utf-16", "empty"],
)
def test_bytes_are_strict_utf8_json(content: bytes, message: str) -> None:
    with pytest.raises(flagkit.SchemaValidationError) as caught:
        flagkit.load_document(content)
    assert str(caught.value) == message


def test_problems_come_in_document_order_and_the_message_is_capped() -> None:
    rules = [{"serve": True, "percentage": 5} for _ in range(25)]
    with pytest.raises(flagkit.SchemaValidationError) as caught:
        flagkit.check_document({"a": {"enabled": True, "rules": rules}})
    paths = [problem.path for problem in caught.value.problems]
    assert paths == [f"a.rules[{index}]" for index in range(25)]
    lines = str(caught.value).splitlines()
    assert lines[0] == "25 problems in the flag document:"
    assert lines[1:3] == [
        "  a.rules[0]: has serve, percentage; give exactly one of: serve, percentage, split",
        "  a.rules[1]: has serve, percentage; give exactly one of: serve, percentage, split",
    ]
    assert lines[-1] == "  ... and 5 more"
    assert len(lines) == 1 + 20 + 1


def test_a_str_document_with_a_lone_surrogate_does_not_crash_parsing() -> None:
    checked = flagkit.load_document('{"a": {"enabled": true, "note": "\ud800"}}')
    assert checked.document["a"]["note"] == "\ud800"
