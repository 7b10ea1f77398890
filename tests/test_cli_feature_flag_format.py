"""`flagkit validate`, `eval` and `diff` read both AppConfig formats of a feature-flag profile.

The AppConfig console stores a feature-flag profile as `{"version": "1", "flags": {...},
"values": {...}}` (what `aws appconfig get-hosted-configuration-version` returns);
applications receive the retrieval format, `{"flagKey": {"enabled": ..., <attributes>}}`.
A file in either format is the same document to every command.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from flagkit.sources.snapshot import content_version
from tests.helpers import run_flagkit, write

_STAMP = {"_createdAt": "2026-11-02T09:14:03.871Z", "_updatedAt": "2026-11-20T16:40:12.019Z"}

# As the console stores it: metadata on each flag and value, attributes with constraints.
STORED: dict[str, Any] = {
    "version": "1",
    "flags": {
        "payments": {"name": "payments", "description": "Group kill switch.", **_STAMP},
        "featureA": {
            "name": "featureA",
            "attributes": {
                "tenants": {"constraints": {"type": "array", "elements": {"type": "string"}}},
                "percentage": {"constraints": {"type": "number", "minimum": 0, "maximum": 100}},
                "requires": {"constraints": {"type": "array", "elements": {"type": "string"}}},
            },
            **_STAMP,
        },
    },
    "values": {
        "payments": {"enabled": True, **_STAMP},
        "featureA": {
            "enabled": True,
            "requires": ["payments"],
            "tenants": ["acme"],
            "percentage": 25,
            **_STAMP,
        },
    },
}

# What an application receives for the same version (the retrieval format).
RETRIEVED: dict[str, Any] = {
    "payments": {"enabled": True, "description": "Group kill switch."},
    "featureA": {"enabled": True, "requires": ["payments"], "tenants": ["acme"], "percentage": 25},
}


def test_validate_reads_the_consoles_stored_format(tmp_path: Path) -> None:
    stored = write(tmp_path, "stored.json", STORED)
    version = content_version(stored.read_bytes())
    result = run_flagkit("validate", stored)
    assert (result.returncode, result.stdout, result.stderr) == (
        0,
        f"{stored}: ok, 2 flags ({version})\n",
        "",
    )


def test_validate_reports_a_stored_documents_problems_by_flag(tmp_path: Path) -> None:
    broken = json.loads(json.dumps(STORED))
    broken["values"]["featureA"]["percentage"] = 12.345
    broken["values"]["featureA"]["requires"] = ["paymnts"]
    stored = write(tmp_path, "stored.json", broken)
    result = run_flagkit("validate", stored)
    assert (result.returncode, result.stderr) == (1, "")
    assert result.stdout.splitlines() == [
        f"{stored}: error: featureA.percentage: 12.345 has more than two decimal places "
        "(steps of 0.01)",
        f'{stored}: error: featureA.requires[0]: unknown flag "paymnts"',
    ]


def test_eval_reads_the_consoles_stored_format(tmp_path: Path) -> None:
    stored = write(tmp_path, "stored.json", STORED)
    retrieved = write(tmp_path, "retrieved.json", RETRIEVED)
    from_stored = run_flagkit("eval", "featureA", "--tenant", "acme", "--file", stored, "--json")
    from_retrieved = run_flagkit(
        "eval", "featureA", "--tenant", "acme", "--file", retrieved, "--json"
    )
    assert (from_stored.returncode, from_stored.stderr) == (0, "")
    answer, expected = json.loads(from_stored.stdout), json.loads(from_retrieved.stdout)
    assert answer["version"] == content_version(stored.read_bytes())  # what validate names
    assert answer == expected | {"version": answer["version"]}
    assert (answer["value"], answer["reason"], answer["rule"]) == (
        True,
        "TARGETING_MATCH",
        "tenants",
    )


def test_eval_reports_a_stored_documents_problem(tmp_path: Path) -> None:
    broken = json.loads(json.dumps(STORED))
    broken["values"]["featureA"]["percentage"] = 120
    stored = write(tmp_path, "stored.json", broken)
    result = run_flagkit("eval", "featureA", "--tenant", "acme", "--file", stored)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (
        f"{stored}: error: featureA.percentage: 120 is greater than the maximum of 100\n"
    )


def test_diff_takes_either_format_on_either_side(tmp_path: Path) -> None:
    stored = write(tmp_path, "stored.json", STORED)
    retrieved = write(tmp_path, "retrieved.json", RETRIEVED)
    same = run_flagkit("diff", stored, retrieved, "--json")
    assert (same.returncode, same.stderr) == (0, "")
    assert json.loads(same.stdout)["flags"] == []
    proposed = json.loads(json.dumps(RETRIEVED))
    proposed["featureA"]["tenants"] = ["acme", "globex"]
    changed = write(tmp_path, "proposed.json", proposed)
    tenants = write(tmp_path, "tenants.txt", "acme\nglobex\ninitech\n")
    moved = run_flagkit("diff", changed, stored, "--tenants", tenants)
    assert (moved.returncode, moved.stderr) == (3, "")
    assert moved.stdout.splitlines()[:2] == ["featureA: -1 tenant (changed: tenants)", "  - globex"]
