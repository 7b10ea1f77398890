"""Targeting v2 in the flag document: which launch windows and conditions a document may hold.

Each new test and modifier both ways: an operand that parses is accepted, one that does not
is refused with the whole message a user reads, named by its JSON path. A refused document
never replaces the last good one in a running `Flags`, and `flagkit validate` prints the
same messages for the example documents under `schemas/examples/`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import flagkit
from flagkit import DocumentError, InvalidFlagError, SchemaValidationError, check_document
from flagkit.fields import CONDITION_TESTS, TEXT_TESTS
from tests.conftest import SCHEMAS
from tests.helpers import run_flagkit
from tests.strategies import OPERATORS

WHEN = "featureA.rules[0].when[0]"
TEXT_TEST_NAMES = ", ".join(TEXT_TESTS)
ALL_TESTS = ", ".join(CONDITION_TESTS)
NOT_A_BLOCK = (
    'is not an IPv4 or IPv6 address or CIDR block (e.g. "10.0.0.0/8", "2001:db8::/32", "192.0.2.7")'
)


def _when(*conditions: dict[str, Any]) -> dict[str, Any]:
    """A document whose one flag has one rule with `conditions`."""
    return {"featureA": {"enabled": True, "rules": [{"when": list(conditions), "serve": True}]}}


def _flag(**fields: Any) -> dict[str, Any]:
    return {"featureA": {"enabled": True, **fields}}


def _refusal(document: dict[str, Any]) -> DocumentError:
    with pytest.raises(DocumentError) as caught:
        check_document(document)
    return caught.value


# -- accepted: every new test and modifier with an operand that parses --------------------

ACCEPTED = [
    pytest.param(_flag(activeFrom="2026-12-24T09:00:00+01:00"), id="active-from-alone"),
    pytest.param(_flag(activeUntil="2026-12-24T09:00:00Z"), id="active-until-alone"),
    pytest.param(
        _flag(activeFrom="2026-12-24T09:00:00+01:00", activeUntil="2026-12-24T08:00:01Z"),
        id="active-window-one-second-long",
    ),
    pytest.param(
        _flag(activeFrom="2026-12-24t09:00:00.5z", activeUntil="2026-12-24T09:00:00.6-00:00"),
        id="active-window-lowercase-and-fractions",
    ),
    *[
        pytest.param(_when({"attribute": "seats", test: operand}), id=f"{test}-{operand}")
        for test in ("lt", "lte", "gt", "gte")
        for operand in (50, -1.5)
    ],
    *[
        pytest.param(_when({"attribute": "email", test: operand}), id=f"{test}-{kind}")
        for test in ("startsWith", "endsWith", "contains")
        for kind, operand in (("string", "@acme.com"), ("list", ["a", ""]))
    ],
    *[
        pytest.param(_when({"attribute": "now", "schedule": schedule}), id=f"schedule-{name}")
        for name, schedule in (
            (
                "every-key",
                {
                    "days": ["MON", "SUN"],
                    "from": "09:00",
                    "to": "17:30",
                    "timezone": "Europe/Berlin",
                },
            ),
            ("no-key", {}),
            ("to-24-00", {"from": "23:59", "to": "24:00"}),
            ("across-midnight", {"days": ["FRI"], "from": "22:00", "to": "02:00"}),
            ("from-equals-to", {"from": "09:00", "to": "09:00"}),
            ("repeated-days", {"days": ["MON", "MON"]}),
            ("utc", {"timezone": "UTC"}),
        )
    ],
    pytest.param(_when({"attribute": "ua", "matches": "^Mobile/[0-9]+$"}), id="matches"),
    pytest.param(_when({"attribute": "ua", "matches": ""}), id="matches-empty-pattern"),
    pytest.param(_when({"attribute": "ua", "matches": "(?i)^ab+c$"}), id="matches-re2-flags"),
    *[
        pytest.param(_when({"attribute": "ip", "inCidr": blocks}), id=f"in-cidr-{name}")
        for name, blocks in (
            ("ipv4", ["10.0.0.0/8"]),
            ("ipv6", ["2001:db8::/32"]),
            ("single-addresses", ["192.0.2.7", "::1"]),
            ("mixed", ["0.0.0.0/0", "::/0"]),
        )
    ],
    *[
        pytest.param(_when({"attribute": "v", test: "1.0.0-rc.1+build.5"}), id=test)
        for test in ("versionEquals", "versionLt", "versionLte", "versionGt", "versionGte")
    ],
    *[
        pytest.param(_when({"attribute": "now", test: "2026-12-24T09:00:00+01:00"}), id=test)
        for test in ("before", "after")
    ],
    *[
        pytest.param(
            _when({"attribute": "ua", t: "x", "ignoreCase": True}), id=f"{t}-ignoring-case"
        )
        for t in ("equals", "notEquals", "startsWith", "endsWith", "contains", "matches")
    ],
    *[
        pytest.param(
            _when({"attribute": "ua", t: ["x"], "ignoreCase": True}), id=f"{t}-ignoring-case"
        )
        for t in ("in", "notIn")
    ],
    pytest.param(
        _when({"attribute": "ua", "equals": "x", "ignoreCase": False}), id="ignore-case-false"
    ),
    *[
        pytest.param(_when({"attribute": "x", test: operand, "negate": True}), id=f"{test}-negated")
        for test, operand in (
            ("equals", 1),
            ("in", [1]),
            ("gt", 1),
            ("contains", "a"),
            ("versionGte", "1.0.0"),
            ("after", "2026-01-01T00:00:00Z"),
        )
    ],
    pytest.param(_when({"attribute": "x", "gt": 1, "negate": False}), id="negate-false"),
    pytest.param(
        _when({"attribute": "x", "gt": 1, "ignoreCase": False}), id="ignore-case-false-on-gt"
    ),
    pytest.param(
        _when({"attribute": "x", "exists": False, "negate": False}), id="negate-false-on-exists"
    ),
]


@pytest.mark.parametrize("document", ACCEPTED)
def test_accepted(document: dict[str, Any]) -> None:
    assert check_document(document).document == document


# -- refused: the whole message, named by its JSON path -----------------------------------

SCHEMA_REFUSED = [
    pytest.param(
        _when({"attribute": "x", "negate": True}),
        f"{WHEN}: has no test; give one of: {ALL_TESTS}",
        id="modifier-without-test",
    ),
    pytest.param(
        _when({"attribute": "x", "gt": 5, "versionGt": "1.0.0"}),
        f"{WHEN}: has 2 tests (gt, versionGt); keep exactly one",
        id="two-tests",
    ),
    pytest.param(
        _when({"attribute": "x", "gt": "5"}),
        f"{WHEN}.gt: \"5\" is not of type 'number'",
        id="gt-numeric-string",
    ),
    pytest.param(
        _when({"attribute": "x", "lte": True}),
        f"{WHEN}.lte: true is not of type 'number'",
        id="lte-bool",
    ),
    pytest.param(
        _when({"attribute": "x", "startsWith": []}),
        f"{WHEN}.startsWith: is empty; give at least one entry",
        id="starts-with-empty-list",
    ),
    pytest.param(
        _when({"attribute": "x", "contains": ["a", 1]}),
        f"{WHEN}.contains[1]: 1 is not of type 'string'",
        id="contains-list-with-a-number",
    ),
    pytest.param(
        _when({"attribute": "x", "endsWith": 1}),
        f"{WHEN}.endsWith: 1 is not of type 'string' or 'array'",
        id="ends-with-number",
    ),
    pytest.param(
        _when({"attribute": "x", "matches": ["a"]}),
        f"{WHEN}.matches: [\"a\"] is not of type 'string'",
        id="matches-list",
    ),
    pytest.param(
        _when({"attribute": "x", "versionEquals": 1}),
        f"{WHEN}.versionEquals: 1 is not of type 'string'",
        id="version-number",
    ),
    pytest.param(
        _when({"attribute": "now", "before": 1767225600}),
        f"{WHEN}.before: 1767225600 is not of type 'string'",
        id="before-epoch-number",
    ),
    pytest.param(
        _when({"attribute": "ip", "inCidr": []}),
        f"{WHEN}.inCidr: is empty; give at least one entry",
        id="in-cidr-empty",
    ),
    pytest.param(
        _when({"attribute": "ip", "inCidr": "10.0.0.0/8"}),
        f"{WHEN}.inCidr: \"10.0.0.0/8\" is not of type 'array'",
        id="in-cidr-string",
    ),
    pytest.param(
        _when({"attribute": "now", "schedule": {"days": []}}),
        f"{WHEN}.schedule.days: is empty; give at least one entry",
        id="schedule-no-day",
    ),
    pytest.param(
        _when({"attribute": "now", "schedule": {"zone": "UTC"}}),
        f"{WHEN}.schedule.zone: unknown field (expected one of: days, from, to, timezone)",
        id="schedule-unknown-key",
    ),
    pytest.param(
        _when({"attribute": "x", "equals": "a", "ignoreCase": "yes"}),
        f"{WHEN}.ignoreCase: \"yes\" is not of type 'boolean'",
        id="ignore-case-not-boolean",
    ),
    pytest.param(
        _when({"attribute": "x", "equals": "a", "negate": 1}),
        f"{WHEN}.negate: 1 is not of type 'boolean'",
        id="negate-not-boolean",
    ),
    pytest.param(
        _flag(activeFrom=1767225600),
        "featureA.activeFrom: 1767225600 is not of type 'string'",
        id="active-from-number",
    ),
]

SEMANTIC_REFUSED = [
    pytest.param(
        _flag(activeFrom="2026-12-24 09:00"),
        'featureA.activeFrom: "2026-12-24 09:00" is not an RFC 3339 timestamp with an offset'
        ' (e.g. "2026-12-24T09:00:00+01:00")',
        id="active-from-unparsable",
    ),
    pytest.param(
        _flag(activeUntil="2026-12-24T09:00:00"),
        'featureA.activeUntil: "2026-12-24T09:00:00" is not an RFC 3339 timestamp with an'
        ' offset (e.g. "2026-12-24T09:00:00+01:00")',
        id="active-until-without-offset",
    ),
    pytest.param(
        _flag(activeFrom="2026-12-24T09:00:00+01:00", activeUntil="2026-12-24T08:00:00Z"),
        'featureA.activeUntil: "2026-12-24T08:00:00Z" is not after activeFrom'
        ' "2026-12-24T09:00:00+01:00"; the flag could never be on',
        id="active-from-equals-until",
    ),
    pytest.param(
        _flag(activeFrom="2027-01-01T00:00:00Z", activeUntil="2026-12-24T08:00:00Z"),
        'featureA.activeUntil: "2026-12-24T08:00:00Z" is not after activeFrom'
        ' "2027-01-01T00:00:00Z"; the flag could never be on',
        id="active-from-after-until",
    ),
    *[
        pytest.param(
            _when({"attribute": "v", test: operand}),
            f'{WHEN}.{test}: "{operand}" is not a SemVer 2.0.0 version'
            ' (MAJOR.MINOR.PATCH, e.g. "2.3.0")',
            id=f"{test}-{operand}",
        )
        for test, operand in (
            ("versionEquals", "v1.2.3"),
            ("versionLt", "1.2"),
            ("versionLte", "01.2.3"),
            ("versionGt", "1.2.3-"),
            ("versionGte", ""),
        )
    ],
    *[
        pytest.param(
            _when({"attribute": "ua", "matches": pattern, **modifiers}),
            f"{WHEN}.matches: not an RE2 pattern: {reason}",
            id=f"matches-{name}",
        )
        for name, pattern, modifiers, reason in (
            ("backreference", "(a)\\1", {}, "invalid escape sequence: \\1"),
            ("lookbehind", "(?<!x)y", {}, "invalid perl operator: (?<!"),
            (
                "lookahead-ignoring-case",
                "(?=x)",
                {"ignoreCase": True},
                "invalid perl operator: (?=",
            ),
            ("unclosed-class", "[a", {"negate": True}, "missing ]: [a"),
        )
    ],
    *[
        pytest.param(
            _when({"attribute": "ip", "inCidr": blocks}),
            f"{WHEN}.inCidr[{index}]: {message}",
            id=f"in-cidr-{name}",
        )
        for name, blocks, index, message in (
            (
                "host-bits",
                ["10.0.0.1/8"],
                0,
                '"10.0.0.1/8" has host bits set: write the network "10.0.0.0/8" or the single'
                ' address "10.0.0.1"',
            ),
            ("word", ["10.0.0.0/8", "office"], 1, f'"office" {NOT_A_BLOCK}'),
            ("prefix-too-long", ["2001:db8::/129"], 0, f'"2001:db8::/129" {NOT_A_BLOCK}'),
        )
    ],
    *[
        pytest.param(
            _when({"attribute": "now", "schedule": schedule}),
            f"{WHEN}.schedule.{where}: {message}",
            id=f"schedule-{name}",
        )
        for name, schedule, where, message in (
            (
                "unknown-time-zone",
                {"timezone": "Mars/Base"},
                "timezone",
                '"Mars/Base" is not an IANA time zone (e.g. "Europe/Berlin", "UTC")',
            ),
            (
                "day-name-in-full",
                {"days": ["MON", "TUESDAY"]},
                "days[1]",
                '"TUESDAY" is not a day name (MON, TUE, WED, THU, FRI, SAT, SUN)',
            ),
            (
                "lowercase-day",
                {"days": ["mon"]},
                "days[0]",
                '"mon" is not a day name (MON, TUE, WED, THU, FRI, SAT, SUN)',
            ),
            (
                "from-one-digit-hour",
                {"from": "9:00"},
                "from",
                '"9:00" is not a time of day "HH:MM" (00:00 to 23:59)',
            ),
            (
                "from-24-00",
                {"from": "24:00"},
                "from",
                '"24:00" is not a time of day "HH:MM" (00:00 to 23:59)',
            ),
            (
                "to-past-24-00",
                {"to": "24:01"},
                "to",
                '"24:01" is not a time of day "HH:MM" (00:00 to 24:00)',
            ),
        )
    ],
    *[
        pytest.param(
            _when({"attribute": "now", test: "2026-02-30T00:00:00Z"}),
            f'{WHEN}.{test}: "2026-02-30T00:00:00Z" is not an RFC 3339 timestamp with an'
            ' offset (e.g. "2026-12-24T09:00:00+01:00")',
            id=f"{test}-no-such-day",
        )
        for test in ("before", "after")
    ],
    *[
        pytest.param(
            _when({"attribute": "x", test: operand, "ignoreCase": True}),
            f"{WHEN}.ignoreCase: {test} does not compare text; only {TEXT_TEST_NAMES}"
            " take ignoreCase",
            id=f"ignore-case-on-{test}",
        )
        for test, operand in (
            ("gt", 1),
            ("versionEquals", "1.0.0"),
            ("before", "2026-01-01T00:00:00Z"),
            ("exists", True),
        )
    ],
    pytest.param(
        {
            **_when({"attribute": "id", "inSegment": "s", "ignoreCase": True}),
            "_segments": {"s": []},
        },
        f"{WHEN}.ignoreCase: inSegment does not compare text; only {TEXT_TEST_NAMES}"
        " take ignoreCase",
        id="ignore-case-on-inSegment",
    ),
    *[
        pytest.param(
            _when({"attribute": "x", "exists": exists, "negate": True}),
            f'{WHEN}.negate: exists cannot be negated; use "exists": false to match a missing'
            " attribute",
            id=f"negate-on-exists-{exists}",
        )
        for exists in (True, False)
    ],
]
"""Documents that match the schema but not the value modules, with their whole message."""


@pytest.mark.parametrize(("document", "message"), SCHEMA_REFUSED)
def test_refused_by_the_schema(document: dict[str, Any], message: str) -> None:
    refusal = _refusal(document)
    assert type(refusal) is SchemaValidationError
    assert str(refusal) == message


@pytest.mark.parametrize(("document", "message"), SEMANTIC_REFUSED)
def test_refused_by_the_document_checks(document: dict[str, Any], message: str) -> None:
    refusal = _refusal(document)
    assert type(refusal) is InvalidFlagError
    assert str(refusal) == message


def test_every_problem_of_a_document_is_named() -> None:
    document = _when(
        {"attribute": "v", "versionGte": "2.3"},
        {"attribute": "seats", "gt": 5, "ignoreCase": True},
        {"attribute": "now", "after": "yesterday"},
    )
    document["featureA"]["activeFrom"] = "tomorrow"
    assert str(_refusal(document)) == (
        "4 problems in the flag document:\n"
        '  featureA.activeFrom: "tomorrow" is not an RFC 3339 timestamp with an offset'
        ' (e.g. "2026-12-24T09:00:00+01:00")\n'
        f'  featureA.rules[0].when[0].versionGte: "2.3" is not a SemVer 2.0.0 version'
        ' (MAJOR.MINOR.PATCH, e.g. "2.3.0")\n'
        f"  featureA.rules[0].when[1].ignoreCase: gt does not compare text; only"
        f" {TEXT_TEST_NAMES} take ignoreCase\n"
        '  featureA.rules[0].when[2].after: "yesterday" is not an RFC 3339 timestamp with an'
        ' offset (e.g. "2026-12-24T09:00:00+01:00")'
    )


def test_a_refused_document_keeps_the_last_good_one_serving(tmp_path: Path) -> None:
    path = tmp_path / "flags.json"
    good = {"featureA": {"enabled": True, "tenants": ["acme"]}}
    path.write_text(json.dumps(good), "utf-8")
    flags = flagkit.Flags.from_file(path)
    version = flags.version
    assert flags.enabled("featureA", "acme") is True
    assert flags.enabled("featureA", "globex") is False

    bad = {"featureA": {"enabled": True, "activeFrom": "2026-12-24", "tenants": ["globex"]}}
    path.write_text(json.dumps(bad), "utf-8")
    message = (
        'featureA.activeFrom: "2026-12-24" is not an RFC 3339 timestamp with an offset'
        ' (e.g. "2026-12-24T09:00:00+01:00")'
    )
    with pytest.raises(InvalidFlagError) as caught:
        flags.refresh()
    assert str(caught.value) == message
    assert flags.version == version
    assert flags.status.last_error == message
    assert flags.enabled("featureA", "acme") is True
    assert flags.enabled("featureA", "globex") is False


# -- the example documents, through `flagkit validate` ------------------------------------

INVALID_EXAMPLES = {
    "invalid/condition-without-test.json": f"{WHEN}: has no test; give one of: {ALL_TESTS}",
    "invalid/gt-not-a-number.json": f"{WHEN}.gt: \"50\" is not of type 'number'",
    "invalid/in-cidr-empty.json": f"{WHEN}.inCidr: is empty; give at least one entry",
    "invalid/schedule-unknown-key.json": (
        f"{WHEN}.schedule.weekdays: unknown field (expected one of: days, from, to, timezone)"
    ),
    "invalid-semantic/active-from-after-until.json": (
        'featureA.activeUntil: "2026-12-01T00:00:00Z" is not after activeFrom'
        ' "2026-12-24T09:00:00+01:00"; the flag could never be on'
    ),
    "invalid-semantic/active-from-unparsable.json": (
        'featureA.activeFrom: "2026-12-24" is not an RFC 3339 timestamp with an offset'
        ' (e.g. "2026-12-24T09:00:00+01:00")'
    ),
    "invalid-semantic/before-unparsable.json": (
        f'{WHEN}.before: "2026-12-24 09:00" is not an RFC 3339 timestamp with an offset'
        ' (e.g. "2026-12-24T09:00:00+01:00")'
    ),
    "invalid-semantic/schedule-bad-day.json": (
        f'{WHEN}.schedule.days[1]: "Tuesday" is not a day name (MON, TUE, WED, THU, FRI, SAT, SUN)'
    ),
    "invalid-semantic/schedule-bad-time.json": (
        f'{WHEN}.schedule.to: "6pm" is not a time of day "HH:MM" (00:00 to 24:00)'
    ),
    "invalid-semantic/schedule-bad-timezone.json": (
        f'{WHEN}.schedule.timezone: "CET+1" is not an IANA time zone (e.g. "Europe/Berlin", "UTC")'
    ),
    "invalid-semantic/version-unparsable.json": (
        f'{WHEN}.versionGte: "v2.3" is not a SemVer 2.0.0 version (MAJOR.MINOR.PATCH, e.g. "2.3.0")'
    ),
    "invalid-semantic/ignore-case-on-a-number-test.json": (
        f"{WHEN}.ignoreCase: gte does not compare text; only {TEXT_TEST_NAMES} take ignoreCase"
    ),
    "invalid-semantic/matches-not-re2.json": (
        f"{WHEN}.matches: not an RE2 pattern: invalid perl operator: (?<!"
    ),
    "invalid-semantic/in-cidr-host-bits.json": (
        f'{WHEN}.inCidr[1]: "192.168.1.1/24" has host bits set: write the network'
        ' "192.168.1.0/24" or the single address "192.168.1.1"'
    ),
    "invalid-semantic/negate-on-exists.json": (
        f'{WHEN}.negate: exists cannot be negated; use "exists": false to match a missing attribute'
    ),
}


def test_flagkit_validate_prints_each_targeting_example_error() -> None:
    paths = [SCHEMAS / "examples" / name for name in INVALID_EXAMPLES]
    result = run_flagkit("validate", *paths)
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        f"{path}: error: {message}"
        for path, message in zip(paths, INVALID_EXAMPLES.values(), strict=True)
    ]


# -- docs/targeting.md shows what the code does ---------------------------------------------

TARGETING_DOC = Path(__file__).resolve().parent.parent / "docs" / "targeting.md"


def _code_blocks(language: str) -> list[str]:
    """The fenced blocks of docs/targeting.md opened with ```` ```language ````."""
    blocks: list[str] = []
    current: list[str] | None = None
    opened = ""
    for line in TARGETING_DOC.read_text("utf-8").splitlines():
        if current is None and line.startswith("```"):
            current, opened = [], line[3:]
        elif current is not None and line == "```":
            if opened == language:
                blocks.append("\n".join(current))
            current = None
        elif current is not None:
            current.append(line)
    return blocks


def test_every_condition_the_docs_show_is_accepted_and_every_test_has_an_example() -> None:
    conditions = [
        json.loads(line)
        for block in _code_blocks("json")
        for line in block.splitlines()
        if line.startswith('{ "attribute"')
    ]
    assert check_document(_when(*conditions))
    shown = {test for condition in conditions for test in CONDITION_TESTS if test in condition}
    assert shown >= set(CONDITION_TESTS) - set(OPERATORS)
    assert {"ignoreCase", "negate"} <= {key for condition in conditions for key in condition}
    windows = [json.loads(block) for block in _code_blocks("json") if '"activeFrom"' in block]
    assert len(windows) == 1
    assert check_document(windows[0])


def test_the_docs_print_the_errors_flagkit_validate_prints() -> None:
    (errors,) = [block for block in _code_blocks("") if ": has no test;" in block]
    printed = errors.splitlines()
    for message in INVALID_EXAMPLES.values():
        assert message in printed
    assert f"{WHEN}: has 2 tests (gt, versionGt); keep exactly one" in printed
    assert len(printed) == len(INVALID_EXAMPLES) + 1
