"""`--at` and `--old-at`: `flagkit eval` and `flagkit diff` as of another instant, through the
installed console script, with launch windows and conditions on `now`."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from flagkit.timestamps import format_timestamp
from tests.helpers import run_flagkit, write

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
