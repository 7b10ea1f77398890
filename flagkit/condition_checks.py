"""The document errors of targeting v2 that a JSON Schema cannot express.

A launch window whose bounds do not parse or do not bound anything (`activeFrom` at
or after `activeUntil`); a condition's operand that does not parse (a version, a
timestamp, an RE2 pattern, a CIDR block, a schedule's time of day, day name or time
zone); `ignoreCase` on a test that does not compare text; `negate` on `exists`.
Each problem is named by its JSON path, and its message is the one the value module
that parses the operand gives (`flagkit.semver`, `flagkit.timestamps`,
`flagkit.patterns`, `flagkit.networks`, `flagkit.weekly_schedule`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from flagkit.errors import Problem
from flagkit.fields import CONDITION_TESTS, LAUNCH_WINDOW, TEXT_TESTS
from flagkit.schema import format_path

__all__ = ["condition_problems", "launch_window_problems"]

Path = tuple[str | int, ...]

_VERSION_TESTS = ("versionEquals", "versionLt", "versionLte", "versionGt", "versionGte")
_TIME_TESTS = ("before", "after")


def launch_window_problems(key: str, flag: Mapping[str, Any]) -> Iterator[Problem]:
    """Unparsable `activeFrom` / `activeUntil`, and a window that is empty."""
    from flagkit.timestamps import parse_timestamp

    bounds: dict[str, float] = {}
    for field in LAUNCH_WINDOW:
        if field in flag:
            try:
                bounds[field] = parse_timestamp(flag[field])
            except ValueError as exc:
                yield Problem(format_path([key, field]), str(exc))
    if len(bounds) == 2 and bounds["activeFrom"] >= bounds["activeUntil"]:
        yield Problem(
            format_path([key, "activeUntil"]),
            f"{json.dumps(flag['activeUntil'])} is not after activeFrom "
            f"{json.dumps(flag['activeFrom'])}; the flag could never be on",
        )


def condition_problems(path: Path, condition: Mapping[str, Any]) -> Iterator[Problem]:
    """Every problem of one condition (that matches the schema) at `path`."""
    test = next(name for name in CONDITION_TESTS if name in condition)
    if condition.get("ignoreCase") is True and test not in TEXT_TESTS:
        yield Problem(
            format_path([*path, "ignoreCase"]),
            f"{test} does not compare text; only {', '.join(TEXT_TESTS)} take ignoreCase",
        )
    if condition.get("negate") is True and test == "exists":
        yield Problem(
            format_path([*path, "negate"]),
            'exists cannot be negated; use "exists": false to match a missing attribute',
        )
    check = _OPERAND_CHECKS.get(test)
    if check is not None:
        for inner, message in check(condition[test], condition.get("ignoreCase") is True):
            yield Problem(format_path([*path, test, *inner]), message)


OperandCheck = Callable[[Any, bool], Iterator[tuple[Path, str]]]
"""(operand, ignoreCase) → (path inside the operand, message) for each problem."""


def _version_problems(operand: str, _ignore_case: bool) -> Iterator[tuple[Path, str]]:
    from flagkit.semver import parse_semver

    try:
        parse_semver(operand)
    except ValueError as exc:
        yield (), str(exc)


def _timestamp_problems(operand: str, _ignore_case: bool) -> Iterator[tuple[Path, str]]:
    from flagkit.timestamps import parse_timestamp

    try:
        parse_timestamp(operand)
    except ValueError as exc:
        yield (), str(exc)


def _pattern_problems(operand: str, ignore_case: bool) -> Iterator[tuple[Path, str]]:
    from flagkit.patterns import compile_pattern

    try:
        compile_pattern(operand, ignore_case=ignore_case)
    except ValueError as exc:
        yield (), str(exc)


def _network_problems(operand: list[str], _ignore_case: bool) -> Iterator[tuple[Path, str]]:
    from flagkit.networks import NetworkError, parse_networks

    try:
        parse_networks(operand)
    except NetworkError as exc:
        yield (exc.index,), str(exc)


def _schedule_problems(
    operand: Mapping[str, Any], _ignore_case: bool
) -> Iterator[tuple[Path, str]]:
    from flagkit.weekly_schedule import ScheduleError, WeeklySchedule

    try:
        WeeklySchedule.parse(operand)
    except ScheduleError as exc:
        yield exc.path, str(exc)


_OPERAND_CHECKS: dict[str, OperandCheck] = {
    "matches": _pattern_problems,
    "inCidr": _network_problems,
    "schedule": _schedule_problems,
    **dict.fromkeys(_VERSION_TESTS, _version_problems),
    **dict.fromkeys(_TIME_TESTS, _timestamp_problems),
}
