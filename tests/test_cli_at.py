"""`--at` and `--old-at`: `flagkit eval` and `flagkit diff` as of another instant, through the
installed console script, with launch windows and conditions on `now`."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import pytest

from flagkit.timestamps import format_timestamp
from tests.conftest import REPO
from tests.helpers import FLAGKIT, run_command, run_flagkit, run_python, write
from tests.markdown_text import fenced_blocks

LAUNCH: dict[str, Any] = {
    "launch": {
        "enabled": True,
        "activeFrom": "2026-12-24T09:00:00+01:00",
        "activeUntil": "2027-01-06T00:00:00Z",
    },
    "xmas": {
        "enabled": True,
        "rules": [
            {
                "id": "after-eve",
                "when": [{"attribute": "now", "after": "2026-12-24T08:00:00Z"}],
                "serve": True,
            }
        ],
    },
}
"""`launch` is on in [08:00Z on Dec 24, Jan 6); `xmas` strictly after 08:00Z on Dec 24."""


def _eval_lines(flag: str, state: str, reason: str, rule: str, at: str) -> list[str]:
    value, variant = ("true", "on") if state == "on" else ("false", "off")
    return [
        f"{flag} for tenant 'acme': {state}",
        f"  value:      {value}",
        f"  variant:    {variant}",
        f"  reason:     {reason}",
        f"  rule:       {rule}",
        "  version:    VERSION",
        f"  at:         {at}",
    ]


@pytest.mark.parametrize(
    ("flag", "at", "expected"),
    [
        pytest.param(
            "launch", "2026-12-24T07:59:59Z",
            _eval_lines("launch", "off", "DISABLED", "schedule", "2026-12-24T07:59:59Z"),
            id="window-not-yet-open",
        ),
        pytest.param(
            "launch", "2026-12-24T09:00:00+01:00",
            _eval_lines("launch", "on", "STATIC", "static", "2026-12-24T08:00:00Z"),
            id="window-opens-at-activeFrom-given-with-an-offset",
        ),
        pytest.param(
            "launch", "2027-01-05T23:59:59.5Z",
            _eval_lines("launch", "on", "STATIC", "static", "2027-01-05T23:59:59.5Z"),
            id="window-still-open-just-before-activeUntil",
        ),
        pytest.param(
            "launch", "2027-01-06T00:00:00Z",
            _eval_lines("launch", "off", "DISABLED", "schedule", "2027-01-06T00:00:00Z"),
            id="window-closed-at-activeUntil",
        ),
        pytest.param(
            "xmas", "2026-12-24T08:00:00Z",
            _eval_lines("xmas", "off", "DEFAULT", "default", "2026-12-24T08:00:00Z"),
            id="now-after-is-exclusive",
        ),
        pytest.param(
            "xmas", "2026-12-24T08:00:01Z",
            _eval_lines("xmas", "on", "TARGETING_MATCH", "after-eve", "2026-12-24T08:00:01Z"),
            id="now-after-holds",
        ),
    ],
)  # fmt: skip
def test_eval_at_evaluates_as_of_that_instant_and_says_which(
    tmp_path: Path, flag: str, at: str, expected: list[str]
) -> None:
    document = write(tmp_path, "flags.json", LAUNCH)
    result = run_flagkit("eval", flag, "--tenant", "acme", "--file", document, "--at", at)
    assert (result.returncode, result.stderr) == (0, "")
    lines = result.stdout.splitlines()
    assert lines[5].startswith("  version:    hash:")
    assert [*lines[:5], "  version:    VERSION", *lines[6:]] == expected


@pytest.mark.parametrize(
    ("window", "state"),
    [
        pytest.param({"activeFrom": -3600}, "on", id="opened-an-hour-ago"),
        pytest.param({"activeFrom": 3600}, "off", id="opens-in-an-hour"),
        pytest.param({"activeUntil": -3600}, "off", id="closed-an-hour-ago"),
        pytest.param({"activeUntil": 3600}, "on", id="closes-in-an-hour"),
    ],
)
def test_eval_without_at_evaluates_as_of_now_and_prints_no_instant(
    tmp_path: Path, window: dict[str, int], state: str
) -> None:
    now = time.time()
    flag = {name: format_timestamp(now + delta) for name, delta in window.items()}
    document = write(tmp_path, "flags.json", {"f": {"enabled": True, **flag}})
    result = run_flagkit("eval", "f", "--tenant", "acme", "--file", document)
    assert (result.returncode, result.stderr) == (0, "")
    lines = result.stdout.splitlines()
    assert lines[0] == f"f for tenant 'acme': {state}"
    assert [line.split(":")[0].strip() for line in lines[1:]] == [
        "value", "variant", "reason", "rule", "version",
    ]  # fmt: skip


def test_eval_json_at_gives_the_evaluation_as_of_that_instant(tmp_path: Path) -> None:
    document = write(tmp_path, "flags.json", LAUNCH)
    result = run_flagkit(
        "eval", "launch", "--tenant", "acme", "--file", document, "--at", "2026-12-24T08:00:00Z",
        "--json",
    )  # fmt: skip
    assert (result.returncode, result.stderr) == (0, "")
    answer = json.loads(result.stdout)
    assert (answer["enabled"], answer["reason"], answer["rule"]) == (True, "STATIC", "static")


@pytest.mark.parametrize(
    "at",
    [
        pytest.param("2026-12-24", id="a-date"),
        pytest.param("2026-12-24T09:00:00", id="no-offset"),
        pytest.param("2026-12-24 09:00:00Z", id="space-for-T"),
        pytest.param("2026-02-30T09:00:00Z", id="no-such-day"),
        pytest.param("", id="empty"),
    ],
)
def test_eval_refuses_a_bad_at_as_a_usage_error(tmp_path: Path, at: str) -> None:
    document = write(tmp_path, "flags.json", LAUNCH)
    result = run_flagkit("eval", "launch", "--tenant", "acme", "--file", document, "--at", at)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        f'flagkit eval: error: --at: "{at}" is not an RFC 3339 timestamp with an offset '
        '(e.g. "2026-12-24T09:00:00+01:00")\n'
    )


# -- flagkit diff --at / --old-at ----------------------------------------------------------------

TENANTS = "acme pro\nglobex free\n"

DIFF_LAUNCH: dict[str, Any] = {
    **LAUNCH,
    "needsLaunch": {"enabled": True, "requires": ["launch"]},
    "killed": {"enabled": False, "activeFrom": "2026-12-24T08:00:00Z"},
    "steady": {"enabled": True, "tiers": ["pro"]},
}
"""`needsLaunch` reads the clock only through `launch`; `killed` never reads it."""

EVE, LAUNCH_AT, AFTER = "2026-12-24T07:59:59Z", "2026-12-24T08:00:00Z", "2026-12-24T08:00:01Z"
SUMMARY = "summary: no flag differs, {} by the clock; a different answer for {} of 2 tenants"


@pytest.mark.parametrize(
    ("instants", "status", "expected"),
    [
        pytest.param(
            ["--old-at", EVE, "--at", LAUNCH_AT], 3,
            [
                f"old as of {EVE}, new as of {LAUNCH_AT}",
                "launch: +2 tenants (by the clock)",
                "  + acme, globex",
                "needsLaunch: +2 tenants (by the clock)",
                "  + acme, globex",
                SUMMARY.format("2 change", 2),
            ],
            id="window-opens",
        ),
        pytest.param(
            ["--old-at", LAUNCH_AT, "--at", EVE], 3,
            [
                f"old as of {LAUNCH_AT}, new as of {EVE}",
                "launch: -2 tenants (by the clock)",
                "  - acme, globex",
                "needsLaunch: -2 tenants (by the clock)",
                "  - acme, globex",
                SUMMARY.format("2 change", 2),
            ],
            id="backwards-in-time-it-closes",
        ),
        pytest.param(
            ["--old-at", LAUNCH_AT, "--at", AFTER], 3,
            [
                f"old as of {LAUNCH_AT}, new as of {AFTER}",
                "xmas: +2 tenants (by the clock)",
                "  + acme, globex",
                SUMMARY.format("1 changes", 2),
            ],
            id="now-after-starts-to-hold-after-its-instant",
        ),
        pytest.param(
            ["--old-at", "2027-01-05T23:59:59Z", "--at", "2027-01-06T00:00:00Z"], 3,
            [
                "old as of 2027-01-05T23:59:59Z, new as of 2027-01-06T00:00:00Z",
                "launch: -2 tenants (by the clock)",
                "  - acme, globex",
                "needsLaunch: -2 tenants (by the clock)",
                "  - acme, globex",
                SUMMARY.format("2 change", 2),
            ],
            id="window-closes-at-activeUntil",
        ),
        pytest.param(
            ["--old-at", AFTER, "--at", "2027-01-05T23:59:59Z"], 0,
            [
                f"old as of {AFTER}, new as of 2027-01-05T23:59:59Z",
                "summary: no flag differs; a different answer for 0 of 2 tenants",
            ],
            id="no-boundary-in-between",
        ),
        pytest.param(
            ["--at", LAUNCH_AT], 0,
            [
                f"as of {LAUNCH_AT}",
                "summary: no flag differs; a different answer for 0 of 2 tenants",
            ],
            id="one-instant-for-both",
        ),
    ],
)  # fmt: skip
def test_diff_of_a_document_with_itself_shows_what_the_clock_changes(
    tmp_path: Path, instants: list[str], status: int, expected: list[str]
) -> None:
    document = write(tmp_path, "flags.json", DIFF_LAUNCH)
    tenants = write(tmp_path, "tenants.txt", TENANTS)
    result = run_flagkit("diff", document, document, "--tenants", tenants, *instants)
    assert (result.returncode, result.stderr) == (status, "")
    assert result.stdout.splitlines() == expected


@pytest.mark.parametrize(
    ("at", "status", "expected"),
    [
        pytest.param(
            EVE, 3,
            [
                f"as of {EVE}",
                "steady: -1 tenant (changed: activeFrom)",
                "  - acme",
                "summary: 1 flag differs (0 added, 0 removed, 1 changed); "
                "a different answer for 1 of 2 tenants",
            ],
            id="before-the-new-window-opens-it-turns-off",
        ),
        pytest.param(
            LAUNCH_AT, 0,
            [
                f"as of {LAUNCH_AT}",
                "steady: no tenant's answer changes (changed: activeFrom)",
                "summary: 1 flag differs (0 added, 0 removed, 1 changed); "
                "a different answer for 0 of 2 tenants",
            ],
            id="once-it-opened-nothing-changes",
        ),
    ],
)  # fmt: skip
def test_diff_at_evaluates_both_documents_as_of_that_instant(
    tmp_path: Path, at: str, status: int, expected: list[str]
) -> None:
    old = write(tmp_path, "old.json", {"steady": {"enabled": True, "tiers": ["pro"]}})
    windowed = {"enabled": True, "tiers": ["pro"], "activeFrom": LAUNCH_AT}
    new = write(tmp_path, "new.json", {"steady": windowed})
    tenants = write(tmp_path, "tenants.txt", TENANTS)
    result = run_flagkit("diff", old, new, "--tenants", tenants, "--at", at)
    assert (result.returncode, result.stderr) == (status, "")
    assert result.stdout.splitlines() == expected


@pytest.mark.parametrize(
    ("instants", "status", "expected"),
    [
        pytest.param(
            ["--old-at", EVE, "--at", AFTER], 3,
            [
                f"old as of {EVE}, new as of {AFTER}",
                "launch: by the clock",
                "xmas: by the clock",
                "needsLaunch: by the clock",
                "summary: no flag differs, 3 change by the clock; "
                "no tenants given, so which tenants are affected is unknown",
            ],
            id="boundaries-in-between",
        ),
        pytest.param(
            ["--old-at", AFTER, "--at", "2027-01-01T00:00:00+01:00"], 0,
            [
                f"old as of {AFTER}, new as of 2026-12-31T23:00:00Z",
                "summary: no flag differs; "
                "no tenants given, so which tenants are affected is unknown",
            ],
            id="no-boundary-in-between",
        ),
    ],
)  # fmt: skip
def test_diff_without_tenants_lists_the_flags_the_clock_may_change(
    tmp_path: Path, instants: list[str], status: int, expected: list[str]
) -> None:
    document = write(tmp_path, "flags.json", DIFF_LAUNCH)
    result = run_flagkit("diff", document, document, *instants)
    assert (result.returncode, result.stderr) == (status, "")
    assert result.stdout.splitlines() == expected


@pytest.mark.parametrize(
    ("tenants", "status", "expected"),
    [
        pytest.param(
            TENANTS, 4,
            [
                f"old as of {EVE}, new as of {LAUNCH_AT}",
                "trialOffer: could not assess (by the clock)",
                '  ? not in the tenants file: attribute "plan", read by rules; '
                "tenant newco, named by tenants",
                "summary: no flag differs, 1 changes by the clock; a different answer for 0 "
                "of 2 tenants; 1 flag could not be assessed (its answers depend on what the "
                "tenants file does not carry)",
            ],
            id="attribute-and-named-tenant-missing",
        ),
        pytest.param(
            '{"id": "acme", "plan": "trial"}\n{"id": "newco", "plan": "paid"}\n', 3,
            [
                f"old as of {EVE}, new as of {LAUNCH_AT}",
                "trialOffer: +2 tenants (by the clock)",
                "  + acme, newco",
                "summary: no flag differs, 1 changes by the clock; "
                "a different answer for 2 of 2 tenants",
            ],
            id="tenants-carry-what-it-reads",
        ),
    ],
)  # fmt: skip
def test_diff_by_the_clock_cannot_assess_what_the_tenants_file_lacks(
    tmp_path: Path, tenants: str, status: int, expected: list[str]
) -> None:
    trial_offer = {
        "enabled": True,
        "activeFrom": LAUNCH_AT,
        "tenants": ["newco"],
        "rules": [{"when": [{"attribute": "plan", "equals": "trial"}], "serve": True}],
    }
    document = write(tmp_path, "flags.json", {"trialOffer": trial_offer})
    name = "tenants.txt" if status == 4 else "tenants.jsonl"
    tenants_file = write(tmp_path, name, tenants)
    result = run_flagkit(
        "diff", document, document, "--tenants", tenants_file, "--old-at", EVE, "--at", LAUNCH_AT
    )
    assert (result.returncode, result.stderr) == (status, "")
    assert result.stdout.splitlines() == expected


def test_diff_json_names_both_instants(tmp_path: Path) -> None:
    document = write(tmp_path, "flags.json", LAUNCH)
    tenants = write(tmp_path, "tenants.txt", "acme\n")
    result = run_flagkit(
        "diff", document, document, "--tenants", tenants, "--json",
        "--old-at", "2026-12-24T08:59:59+01:00", "--at", LAUNCH_AT,
    )  # fmt: skip
    assert (result.returncode, result.stderr) == (3, "")
    assert json.loads(result.stdout) == {
        "old": str(document),
        "new": str(document),
        "added": [],
        "removed": [],
        "changed": [],
        "flags": [
            {
                "flag": "launch",
                "status": "scheduled",
                "fields": [],
                "gained": ["acme"],
                "lost": [],
                "variantChanges": [],
                "assessed": True,
                "missing": [],
            }
        ],
        "tenants": 1,
        "affectedTenants": 1,
        "changesAnswers": True,
        "unassessed": [],
        "at": LAUNCH_AT,
        "oldAt": EVE,
    }


@pytest.mark.parametrize(
    ("option", "value"),
    [
        pytest.param("--at", "tomorrow", id="at-a-word"),
        pytest.param("--at", "2026-12-24T09:00", id="at-no-seconds-no-offset"),
        pytest.param("--old-at", "2026-12-24T25:00:00Z", id="old-at-hour-25"),
        pytest.param("--old-at", "1734000000", id="old-at-epoch-seconds"),
    ],
)
def test_diff_refuses_a_bad_instant_as_a_usage_error(
    tmp_path: Path, option: str, value: str
) -> None:
    document = write(tmp_path, "flags.json", LAUNCH)
    result = run_flagkit("diff", document, document, option, value)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        f'flagkit diff: error: {option}: "{value}" is not an RFC 3339 timestamp with an '
        'offset (e.g. "2026-12-24T09:00:00+01:00")\n'
    )


@pytest.mark.parametrize(
    ("attribute", "status", "expected"),
    [
        pytest.param(
            "now", 3,
            [
                "promo: -2 tenants (changed: rules)",
                "  - acme, globex",
                "summary: 1 flag differs (0 added, 0 removed, 1 changed); "
                "a different answer for 2 of 2 tenants",
            ],
            id="now-is-the-clock-not-a-tenant-attribute",
        ),
        pytest.param(
            "signup", 4,
            [
                "promo: -2 tenants, could not assess the rest (changed: rules)",
                "  - acme, globex",
                '  ? not in the tenants file: attribute "signup", read by rules',
                "summary: 1 flag differs (0 added, 0 removed, 1 changed); a different answer "
                "for 2 of 2 tenants; 1 flag could not be assessed (its answers depend on what "
                "the tenants file does not carry)",
            ],
            id="a-tenant-timestamp-attribute-is-missing",
        ),
    ],
)  # fmt: skip
def test_diff_of_a_rule_on_now_needs_nothing_from_the_tenants_file(
    tmp_path: Path, attribute: str, status: int, expected: list[str]
) -> None:
    rule = {"when": [{"attribute": attribute, "before": LAUNCH_AT}], "serve": False}
    old = write(tmp_path, "old.json", {"promo": {"enabled": True}})
    new = write(tmp_path, "new.json", {"promo": {"enabled": True, "rules": [rule]}})
    tenants = write(tmp_path, "tenants.txt", TENANTS)
    result = run_flagkit("diff", old, new, "--tenants", tenants, "--at", EVE)
    assert (result.returncode, result.stderr) == (status, "")
    assert result.stdout.splitlines() == [f"as of {EVE}", *expected]


# -- docs/previews.md shows what the commands do ---------------------------------------------------

PREVIEWS = REPO / "docs" / "previews.md"


def test_the_previews_docs_sessions_print_what_they_show(tmp_path: Path) -> None:
    """Every `<!-- file: NAME -->` block is written, then every `$ flagkit` session runs,
    then the Python example."""
    text = PREVIEWS.read_text(encoding="utf-8")
    files = re.findall(r"<!-- file: (\S+) -->\n```\w*\n(.*?)```", text, re.DOTALL)
    assert [name for name, _ in files] == ["flags.json", "tenants.txt", "proposed.json"]
    for name, content in files:
        write(tmp_path, name, content)
    sessions = fenced_blocks(text, "console")
    assert len(sessions) == 9
    for session in sessions:
        command, *printed, echo, status = session.splitlines()
        assert (command.startswith("$ flagkit "), echo) == (True, "$ echo $?")
        result = run_command([FLAGKIT, *command.removeprefix("$ flagkit ").split()], cwd=tmp_path)
        assert (result.stdout.splitlines(), str(result.returncode), result.stderr) == (
            printed,
            status,
            "",
        )
    [example] = fenced_blocks(text, "python")
    ran = run_python(example, cwd=tmp_path)
    assert (ran.returncode, ran.stderr) == (0, "")


def test_the_previews_docs_errors_are_what_the_commands_print(tmp_path: Path) -> None:
    text = PREVIEWS.read_text(encoding="utf-8")
    [errors] = [block for block in fenced_blocks(text, "") if "error: --" in block]
    document = write(tmp_path, "flags.json", LAUNCH)
    for line in errors.splitlines():
        found = re.fullmatch(r'flagkit (\w+): error: (--[\w-]+): "(.*?)" .*', line)
        assert found is not None, line
        command, option, value = found.groups()
        args = ["launch", "--file", document] if command == "eval" else [document, document]
        result = run_flagkit(command, *args, option, value)
        assert (result.returncode, result.stdout, result.stderr) == (2, "", line + "\n")
