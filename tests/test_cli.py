"""The `flagkit` console script, run as a user runs it: a subprocess of the installed command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES, SCHEMAS
from tests.helpers import run_flagkit, write

EXAMPLE = EXAMPLES / "flags.json"


def test_validate_accepts_the_example_and_names_its_version() -> None:
    result = run_flagkit("validate", EXAMPLE)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith(f"{EXAMPLE}: ok, 6 flags (hash:")


def test_validate_prints_every_problem_on_its_own_line_and_exits_1(tmp_path: Path) -> None:
    good = write(tmp_path, "good.json", {"featureA": {"enabled": True}})
    bad = write(
        tmp_path,
        "bad.json",
        {
            "featureA": {"enabled": "yes", "percentage": 120},
            "FeatureB": {"enabled": True},
        },
    )
    result = run_flagkit("validate", good, bad)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"{good}: ok, 1 flag (hash:")
    assert lines[1:] == [
        f"{bad}: error: FeatureB: not a valid flag key (a flag key starts with a lowercase "
        "letter and has at most 64 letters, digits, '_' and '-'; keys starting with '$' or "
        "'_' are metadata)",
        f"{bad}: error: featureA.enabled: \"yes\" is not of type 'boolean'",
        f"{bad}: error: featureA.percentage: 120 is greater than the maximum of 100",
    ]


def test_validate_reports_semantic_errors_and_warnings(tmp_path: Path) -> None:
    cyclic = write(
        tmp_path,
        "cyclic.json",
        {"a": {"enabled": True, "requires": ["b"]}, "b": {"enabled": True, "requires": ["a"]}},
    )
    typo = write(tmp_path, "typo.json", {"a": {"enabled": True, "percentge": 5}})
    metadata = write(tmp_path, "metadata.json", {"_segment": {}, "a": {"enabled": True}})
    result = run_flagkit("validate", cyclic, typo, metadata)
    assert result.returncode == 1
    assert result.stdout.splitlines()[:3] == [
        f"{cyclic}: error: a.requires: cycle of prerequisites: a -> b -> a",
        f'{typo}: error: a.percentge: unknown field, did you mean "percentage"? (if it is an '
        'attribute, declare it: "declaredAttributes": ["percentge"])',
        f'{metadata}: warning: _segment: unknown key; did you mean "_segments"?',
    ]
    assert result.stdout.splitlines()[3].startswith(f"{metadata}: ok, 1 flag")


def test_validate_reports_unreadable_files(tmp_path: Path) -> None:
    missing = tmp_path / "missing.json"
    result = run_flagkit("validate", missing)
    assert result.returncode == 1
    assert result.stdout == (
        f"{missing}: error: cannot read flag document {str(missing)!r}: No such file or directory\n"
    )


def test_validate_rejects_text_that_is_not_json(tmp_path: Path) -> None:
    broken = write(tmp_path, "broken.json", '{"featureA": {"enabled": true,}}')
    result = run_flagkit("validate", broken)
    assert result.returncode == 1
    assert result.stdout == (
        f"{broken}: error: (document): not valid JSON: Expecting property name enclosed "
        "in double quotes at line 1 column 31\n"
    )


def test_eval_prints_value_variant_reason_and_rule() -> None:
    result = run_flagkit("eval", "featureA", "--tenant", "acme", "--file", EXAMPLE)
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "featureA for tenant 'acme': on"
    assert lines[1:5] == [
        "  value:      true",
        "  variant:    on",
        "  reason:     TARGETING_MATCH",
        "  rule:       tenants",
    ]
    assert lines[-1] == '  attributes: {"temperature": 0.7}'


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["featureA", "--tenant", "initech", "--tier", "enterprise"],
            {
                "enabled": False,
                "variant": "off",
                "reason": "TARGETING_MATCH",
                "rule": "excludedTenants",
            },
        ),
        (
            ["featureA", "--tenant", "someone", "--tier", "enterprise"],
            {"enabled": True, "variant": "on", "reason": "TARGETING_MATCH", "rule": "tiers"},
        ),
        (
            ["aiSummaries", "--tenant", "acme", "--tier", "enterprise"],
            {"enabled": False, "variant": "off", "reason": "DISABLED", "rule": "kill-switch"},
        ),
        (
            ["checkoutTheme", "--tenant", "globex", "--attr", "region=eu-west-1"],
            {"enabled": True, "variant": "fresh", "reason": "TARGETING_MATCH", "rule": "eu-beta"},
        ),
        (
            ["searchV2", "--tenant", "acme", "--attr", "userId=42"],
            {"enabled": False, "variant": "off", "reason": "SPLIT", "rule": "percentage"},
        ),
        (
            ["searchV2", "--tenant", "acme"],
            {"enabled": False, "variant": "off", "reason": "DEFAULT", "rule": "percentage"},
        ),
    ],
    ids=["excluded", "tier", "kill-switch", "rule-with-attribute", "int-stickiness", "not-sticky"],
)
def test_eval_json_gives_machines_the_whole_evaluation(
    args: list[str], expected: dict[str, object]
) -> None:
    result = run_flagkit("eval", *args, "--file", EXAMPLE, "--json")
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert {key: answer[key] for key in expected} == expected
    assert answer["version"].startswith("hash:")
    assert answer["errorCode"] is None


def test_eval_of_an_unknown_flag_says_so_and_exits_1() -> None:
    result = run_flagkit("eval", "nope", "--tenant", "acme", "--file", EXAMPLE, "--json")
    assert result.returncode == 1
    answer = json.loads(result.stdout)
    assert (answer["reason"], answer["errorCode"], answer["errorMessage"]) == (
        "ERROR",
        "FLAG_NOT_FOUND",
        "no flag 'nope'",
    )


def test_eval_without_a_tenant_on_a_targeting_flag_is_an_error() -> None:
    result = run_flagkit("eval", "featureA", "--file", EXAMPLE)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[:3] == ["featureA for no tenant: off", "  value:      null", "  reason:     ERROR"]
    assert lines[3].startswith("  version:    hash:")
    assert lines[4:] == [
        "  error:      TARGETING_KEY_MISSING: flag 'featureA' needs a tenant id to decide, "
        "and none was given",
        '  attributes: {"temperature": 0.7}',
    ]


def test_eval_rejects_a_malformed_attribute() -> None:
    result = run_flagkit(
        "eval", "featureA", "--tenant", "acme", "--attr", "region", "--file", EXAMPLE
    )
    assert result.returncode == 2
    assert result.stderr == "flagkit eval: error: --attr takes KEY=VALUE, got 'region'\n"


def test_eval_on_an_invalid_document_names_the_problem(tmp_path: Path) -> None:
    bad = write(tmp_path, "bad.json", {"featureA": {"enabled": True, "percentage": -1}})
    result = run_flagkit("eval", "featureA", "--tenant", "acme", "--file", bad)
    assert result.returncode == 1
    assert result.stderr == f"{bad}: error: featureA.percentage: -1 is less than the minimum of 0\n"


@pytest.mark.parametrize(
    ("flag", "file"),
    [([], "flags.v1.schema.json"), (["--draft4"], "flags.v1.draft4.schema.json")],
    ids=["2020-12", "draft-04"],
)
def test_schema_prints_the_published_schema(flag: list[str], file: str) -> None:
    result = run_flagkit("schema", *flag)
    assert result.returncode == 0
    assert json.loads(result.stdout) == json.loads((SCHEMAS / file).read_text())


def test_usage_errors_exit_2() -> None:
    result = run_flagkit("frobnicate")
    assert result.returncode == 2
    assert "invalid choice: 'frobnicate'" in result.stderr
