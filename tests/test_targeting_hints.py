"""Warnings about targeting that does nothing useful (`flagkit.targeting_hints`).

Unreachable rules, conditions of one rule that no tenant passes together, and time on
`now` already past. Every message is asserted whole; every case where a warning would
be wrong (a list attribute, a null, ignoreCase, a bound that still matters) shows a
tenant or an instant the rule still matches. Hypothesis checks that what is warned
about indeed never decides an answer.
"""

from __future__ import annotations

import logging
import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flagkit import Flags, check_document, load_document
from flagkit.sources.memory import MemorySource
from tests.conftest import REPO
from tests.helpers import FLAGKIT, run_flagkit, write
from tests.markdown_text import fenced_blocks

NOW = 1_780_272_000.0  # 2026-06-01T00:00:00Z
PAST = "2026-05-01T00:00:00Z"
FUTURE = "2026-07-01T00:00:00Z"
PAST_SECONDS = 1_777_593_600  # 2026-05-01T00:00:00Z
FUTURE_SECONDS = 1_782_864_000  # 2026-07-01T00:00:00Z


def warnings_of(document: dict[str, Any], now: float = NOW) -> list[str]:
    return [str(warning) for warning in check_document(document, now=now).warnings]


def one_rule(*conditions: dict[str, Any]) -> dict[str, Any]:
    """A document whose flag `f` has one rule with `conditions`, named "r"."""
    return {
        "_segments": {"beta": ["acme", "globex"]},
        "f": {"enabled": True, "rules": [{"id": "r", "when": list(conditions), "serve": True}]},
    }


def on_plan(test: str, operand: Any, **modifiers: Any) -> dict[str, Any]:
    return {"attribute": "plan", test: operand, **modifiers}


def on(attribute: str, test: str, operand: Any, **modifiers: Any) -> dict[str, Any]:
    return {"attribute": attribute, test: operand, **modifiers}


# -- unreachable rules ------------------------------------------------------------------

GUARDED = {"when": [on_plan("equals", "pro")], "serve": True}


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        pytest.param(
            [{"serve": True}, GUARDED],
            ["f.rules[1]: never reached: rules[0] matches every tenant"],
            id="no-when-then-a-rule",
        ),
        pytest.param(
            [GUARDED, {"id": "everyone", "when": [], "serve": False}, GUARDED, GUARDED],
            [
                'f.rules[2]: never reached: rule "everyone" matches every tenant',
                'f.rules[3]: never reached: rule "everyone" matches every tenant',
            ],
            id="empty-when-with-an-id-hides-every-later-rule",
        ),
        pytest.param(
            [{"percentage": 30}, GUARDED],
            ["f.rules[1]: never reached: rules[0] matches every tenant"],
            id="a-percentage-decides-in-and-out",
        ),
        pytest.param([GUARDED, {"serve": True}], [], id="catch-all-last"),
        pytest.param([GUARDED, GUARDED], [], id="every-rule-has-conditions"),
        pytest.param([], [], id="no-rules"),
    ],
)
def test_unreachable_rules(rules: list[dict[str, Any]], expected: list[str]) -> None:
    assert warnings_of({"f": {"enabled": True, "rules": rules}}) == expected


def test_a_split_without_conditions_hides_the_rules_after_it() -> None:
    document = {
        "f": {
            "enabled": True,
            "variants": {"a": 1, "b": 2},
            "defaultVariant": "a",
            "rules": [{"split": {"a": 1, "b": 1}}, {"when": [], "serve": "b"}],
        }
    }
    assert warnings_of(document) == ["f.rules[1]: never reached: rules[0] matches every tenant"]


# -- contradictions -----------------------------------------------------------------------


def contradiction(position: int, first: int, attribute: str, noun: str = "tenant") -> str:
    return (
        f'f.rules[0].when[{position}]: contradicts when[{first}] on "{attribute}": '
        f"no {noun} passes both, so the rule never matches"
    )


@pytest.mark.parametrize(
    ("conditions", "expected"),
    [
        pytest.param(
            [on("id", "equals", "acme"), on("id", "equals", "globex")],
            contradiction(1, 0, "id"),
            id="id-equals-two-values",
        ),
        pytest.param(
            [on("tier", "equals", "gold"), on("tier", "notEquals", "gold")],
            contradiction(1, 0, "tier"),
            id="tier-equals-and-not-equals",
        ),
        pytest.param(
            [on("id", "in", ["acme", "globex"]), on("id", "notIn", ["globex", "acme", "x"])],
            contradiction(1, 0, "id"),
            id="id-in-and-not-in-covering-it",
        ),
        pytest.param(
            [on("id", "inSegment", "beta"), on("id", "startsWith", "z")],
            contradiction(1, 0, "id"),
            id="id-in-segment-none-of-whose-ids-passes-the-other",
        ),
        pytest.param(
            [on("tier", "startsWith", "g"), on("tier", "equals", "silver")],
            contradiction(1, 0, "tier"),
            id="tier-equals-a-value-the-earlier-test-refuses",
        ),
        pytest.param(
            [on_plan("equals", "pro"), on_plan("notEquals", "pro")],
            contradiction(1, 0, "plan"),
            id="attribute-equals-and-not-equals-even-for-a-list",
        ),
        pytest.param(
            [on_plan("in", ["pro", "team"]), on_plan("in", ["team", "pro"], negate=True)],
            contradiction(1, 0, "plan"),
            id="attribute-in-and-negated-in-covering-it",
        ),
        pytest.param(
            [on("seats", "equals", 10), on("seats", "lt", 20, negate=True)],
            contradiction(1, 0, "seats"),
            id="attribute-equals-and-a-negated-bound-it-fails",
        ),
        pytest.param(
            [on_plan("exists", False), on_plan("startsWith", "p")],
            contradiction(1, 0, "plan"),
            id="exists-false-and-a-test-a-null-fails",
        ),
        pytest.param(
            [on_plan("exists", True), on_plan("exists", False)],
            contradiction(1, 0, "plan"),
            id="exists-true-and-exists-false",
        ),
        pytest.param(
            [on("id", "notEquals", "acme"), on("id", "exists", False)],
            contradiction(1, 0, "id"),
            id="id-exists-false-and-a-negated-test",
        ),
        pytest.param(
            [on("now", "gt", 5), on("now", "lt", 3)],
            contradiction(1, 0, "now", "instant"),
            id="now-numeric-bounds-apart",
        ),
        pytest.param(
            [on("now", "gte", FUTURE_SECONDS), on("now", "before", FUTURE)],
            contradiction(1, 0, "now", "instant"),
            id="now-at-or-after-and-strictly-before-the-same-instant",
        ),
        pytest.param(
            [on("now", "after", FUTURE), on("now", "before", PAST)],
            contradiction(1, 0, "now", "instant"),
            id="now-after-a-later-instant-than-before",
        ),
        pytest.param(
            [on("now", "after", FUTURE), on("now", "after", FUTURE, negate=True)],
            contradiction(1, 0, "now", "instant"),
            id="now-after-and-not-after",
        ),
        pytest.param(
            [on("now", "equals", 100), on("now", "gte", 200)],
            contradiction(1, 0, "now", "instant"),
            id="now-equals-outside-a-bound",
        ),
        pytest.param(
            [on("seats", "gt", 5), on("seats", "lt", 3)],
            'f.rules[0].when[1]: contradicts when[0] on "seats": no value passes both, so the '
            "rule matches only a list with an element in each range",
            id="attribute-numeric-bounds-apart",
        ),
        pytest.param(
            [on("signup", "after", FUTURE), on("signup", "before", PAST)],
            'f.rules[0].when[1]: contradicts when[0] on "signup": no value passes both, so the '
            "rule matches only a list with an element in each range",
            id="attribute-time-bounds-apart",
        ),
        pytest.param(
            [on("region", "equals", "eu"), on("id", "equals", "a"), on("id", "equals", "b")],
            contradiction(2, 1, "id"),
            id="named-by-the-positions-of-the-pair",
        ),
        pytest.param(
            [on("now", "schedule", {"from": "09:00", "to": "09:00"})],
            "f.rules[0].when[0].schedule: the window is empty, so the rule never matches",
            id="schedule-from-equals-to",
        ),
    ],
)
def test_contradictory_conditions_are_warned_about(
    conditions: list[dict[str, Any]], expected: str
) -> None:
    assert warnings_of(one_rule(*conditions), now=0.0) == [expected]


@pytest.mark.parametrize(
    ("conditions", "tenant", "at"),
    [
        pytest.param(
            [on_plan("equals", "pro"), on_plan("equals", "team")],
            {"id": "t", "plan": ["pro", "team"]},
            NOW,
            id="equals-two-values-a-list-holds-both",
        ),
        pytest.param(
            [on_plan("in", ["pro"]), on_plan("notEquals", "team")],
            {"id": "t", "plan": "pro"},
            NOW,
            id="in-and-not-equals-another-value",
        ),
        pytest.param(
            [on("seats", "lt", 3, negate=True), on("seats", "gt", 2, negate=True)],
            {"id": "t", "seats": "many"},
            NOW,
            id="two-negated-bounds-apart-a-string-passes-both",
        ),
        pytest.param(
            [on_plan("exists", False), on_plan("equals", None)],
            {"id": "t", "plan": None},
            NOW,
            id="exists-false-and-equals-null-a-null-passes",
        ),
        pytest.param(
            [on_plan("exists", False), on_plan("notEquals", "pro")],
            {"id": "t", "plan": None},
            NOW,
            id="exists-false-and-a-negated-test-a-null-passes",
        ),
        pytest.param(
            [on_plan("equals", None), on_plan("exists", True)],
            {"id": "t", "plan": [None]},
            NOW,
            id="equals-null-and-exists-a-list-of-null-passes",
        ),
        pytest.param(
            [on("id", "equals", "Acme"), on("id", "equals", "acme", ignoreCase=True)],
            {"id": "Acme"},
            NOW,
            id="ignore-case-admits-the-other-spelling",
        ),
        pytest.param(
            [on_plan("equals", "pro"), on_plan("notEquals", "pro", negate=True)],
            {"id": "t", "plan": "pro"},
            NOW,
            id="a-negated-not-equals-is-equals",
        ),
        pytest.param(
            [on("id", "equals", "acme"), on("tier", "equals", "gold")],
            {"id": "acme", "tier": "gold"},
            NOW,
            id="different-attributes",
        ),
        pytest.param(
            [on("now", "gte", FUTURE_SECONDS), on("now", "lte", FUTURE_SECONDS)],
            {"id": "t"},
            float(FUTURE_SECONDS),
            id="now-bounds-meeting-at-one-instant",
        ),
        pytest.param(
            [on("now", "after", PAST), on("now", "before", FUTURE)],
            {"id": "t"},
            NOW,
            id="now-bounds-around-an-interval",
        ),
        pytest.param(
            [on("now", "schedule", {"from": "09:00", "to": "09:00"}, negate=True)],
            {"id": "t"},
            NOW,
            id="a-negated-empty-schedule-always-holds",
        ),
    ],
)
def test_conditions_some_tenant_passes_together_are_not_warned_about(
    conditions: list[dict[str, Any]], tenant: dict[str, Any], at: float
) -> None:
    document = one_rule(*conditions)
    assert warnings_of(document, now=0.0) == []
    flags = Flags.from_dict(document, clock=lambda: at)
    assert flags.evaluate("f", tenant).rule == "r"


@pytest.mark.parametrize(
    "conditions",
    [
        pytest.param([on("now", "equals", True), on("now", "gt", 0)], id="now-is-never-a-boolean"),
        pytest.param([on("id", "equals", 5), on("id", "startsWith", "a")], id="an-id-is-text"),
    ],
)
def test_values_the_attribute_cannot_hold_are_no_evidence(
    conditions: list[dict[str, Any]],
) -> None:
    """Such a rule never matches, but not because its conditions contradict each other."""
    assert warnings_of(one_rule(*conditions), now=0.0) == []


# -- time already past --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("window", "expected"),
    [
        pytest.param(
            {"activeUntil": PAST},
            [
                "f.activeUntil: 2026-05-01T00:00:00Z is past, so the flag is off for good "
                "(a clean-up candidate)"
            ],
            id="until-past",
        ),
        pytest.param(
            {"activeFrom": "2026-04-01T02:00:00+02:00", "activeUntil": "2026-06-01T00:00:00Z"},
            [
                "f.activeUntil: 2026-06-01T00:00:00Z is past, so the flag is off for good "
                "(a clean-up candidate)"
            ],
            id="until-now-exactly",
        ),
        pytest.param(
            {"activeFrom": "2026-05-01T02:00:00+02:00"},
            [
                "f.activeFrom: 2026-05-01T00:00:00Z is past, so the launch window no longer "
                "matters (a clean-up candidate)"
            ],
            id="from-past-without-until",
        ),
        pytest.param({"activeUntil": FUTURE}, [], id="until-ahead"),
        pytest.param({"activeFrom": PAST, "activeUntil": FUTURE}, [], id="inside-the-window"),
        pytest.param({"activeFrom": FUTURE}, [], id="from-ahead"),
    ],
)
def test_launch_windows_already_past(window: dict[str, str], expected: list[str]) -> None:
    assert warnings_of({"f": {"enabled": True, **window}}) == expected


ALWAYS = "is past, so this condition always holds (a clean-up candidate)"
NEVER = (
    "is past, so this condition never holds again and the rule never matches (a clean-up candidate)"
)


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        pytest.param(on("now", "before", PAST), f"2026-05-01T00:00:00Z {NEVER}", id="before-past"),
        pytest.param(on("now", "after", PAST), f"2026-05-01T00:00:00Z {ALWAYS}", id="after-past"),
        pytest.param(
            on("now", "before", PAST, negate=True),
            f"2026-05-01T00:00:00Z {ALWAYS}",
            id="negated-before-past",
        ),
        pytest.param(on("now", "lt", PAST_SECONDS), f"2026-05-01T00:00:00Z {NEVER}", id="lt-past"),
        pytest.param(on("now", "lte", NOW - 0.5), f"2026-05-31T23:59:59.5Z {NEVER}", id="lte-past"),
        pytest.param(on("now", "gt", PAST_SECONDS), f"2026-05-01T00:00:00Z {ALWAYS}", id="gt-past"),
        pytest.param(on("now", "gte", NOW), f"2026-06-01T00:00:00Z {ALWAYS}", id="gte-now-exactly"),
        pytest.param(on("now", "lte", NOW), None, id="lte-now-still-holds-this-instant"),
        pytest.param(on("now", "gt", NOW), None, id="gt-now-holds-from-the-next-instant"),
        pytest.param(on("now", "before", FUTURE), None, id="before-ahead"),
        pytest.param(on("now", "after", FUTURE), None, id="after-ahead"),
        pytest.param(on("signup", "before", PAST), None, id="an-attribute-not-now"),
    ],
)
def test_bounds_on_now_already_past(condition: dict[str, Any], expected: str | None) -> None:
    expected_warnings = [] if expected is None else [f"f.rules[0].when[0]: {expected}"]
    assert warnings_of(one_rule(condition)) == expected_warnings


def test_without_now_past_is_judged_against_the_current_time() -> None:
    document = {"f": {"enabled": True, "activeUntil": "2001-01-01T00:00:00Z"}}
    expected = (
        "f.activeUntil: 2001-01-01T00:00:00Z is past, so the flag is off for good "
        "(a clean-up candidate)"
    )
    assert [str(w) for w in check_document(document).warnings] == [expected]
    assert [str(w) for w in load_document(b'{"f": {"enabled": true}}').warnings] == []
    assert (
        load_document(
            b'{"f": {"enabled": true, "activeUntil": "2001-01-01T00:00:00Z"}}', now=0.0
        ).warnings
        == ()
    )


def test_validate_prints_each_warning_and_still_accepts_the_document(tmp_path: Path) -> None:
    document = {
        "f": {
            "enabled": True,
            "activeUntil": "2001-01-01T00:00:00Z",
            "rules": [{"serve": True}, {"when": [on("id", "equals", "acme")], "serve": False}],
        },
        "g": {"enabled": True, "activeUntil": "2999-01-01T00:00:00Z"},
    }
    path = write(tmp_path, "flags.json", document)
    result = run_flagkit("validate", path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[:2] == [
        f"{path}: warning: f.activeUntil: 2001-01-01T00:00:00Z is past, so the flag is off "
        "for good (a clean-up candidate)",
        f"{path}: warning: f.rules[1]: never reached: rules[0] matches every tenant",
    ]
    assert result.stdout.splitlines()[2].startswith(f"{path}: ok, 2 flags (hash:")


def test_a_refresher_judges_past_time_by_its_own_clock(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="flagkit")
    document = {"f": {"enabled": True, "activeUntil": "2001-01-01T00:00:00Z"}}

    Flags(MemorySource(document, version="v1"), clock=lambda: 0.0)  # 1970: still ahead
    assert [r.getMessage() for r in caplog.records if r.levelname == "WARNING"] == []

    Flags(MemorySource(document, version="v1"), clock=lambda: NOW)
    assert [r.getMessage() for r in caplog.records if r.levelname == "WARNING"] == [
        "flag document v1 (memory): f.activeUntil: 2001-01-01T00:00:00Z is past, "
        "so the flag is off for good (a clean-up candidate)"
    ]


# -- properties ---------------------------------------------------------------------------

ATTRIBUTES = ("id", "tier", "plan")
VALUES = st.sampled_from(["a", "b", "c", 1, 5, None])


def generated_conditions() -> st.SearchStrategy[dict[str, Any]]:
    attribute = st.sampled_from(ATTRIBUTES)
    text = st.sampled_from(["a", "b", "c"])
    tests = st.one_of(
        st.tuples(st.sampled_from(["equals", "notEquals"]), st.sampled_from(["a", "b", "c", 1, 5])),
        st.tuples(st.sampled_from(["in", "notIn"]), st.lists(text, min_size=1, max_size=2)),
        st.tuples(st.just("exists"), st.booleans()),
        st.tuples(st.sampled_from(["lt", "gt", "lte", "gte"]), st.sampled_from([1, 3, 5])),
        st.tuples(st.just("startsWith"), text),
    )

    def build(attribute: str, test: tuple[str, Any], negate: bool) -> dict[str, Any]:
        condition = {"attribute": attribute, test[0]: test[1]}
        if negate and test[0] != "exists":
            condition["negate"] = True
        return condition

    return st.builds(build, attribute, tests, st.booleans())


def generated_rules() -> st.SearchStrategy[list[dict[str, Any]]]:
    outcome = st.one_of(
        st.builds(lambda serve: {"serve": serve}, st.booleans()),
        st.builds(lambda share: {"percentage": share}, st.sampled_from([0, 50, 100])),
    )
    rule = st.builds(
        lambda when, decides: {"when": when, **decides},
        st.lists(generated_conditions(), max_size=3),
        outcome,
    )
    return st.lists(rule, min_size=1, max_size=5).map(
        lambda rules: [{"id": f"r{index}", **rule} for index, rule in enumerate(rules)]
    )


def generated_tenants() -> st.SearchStrategy[dict[str, Any]]:
    scalar_or_list = st.one_of(VALUES, st.lists(VALUES | st.sampled_from([0, 6]), max_size=3))
    return st.fixed_dictionaries(
        {},
        optional={
            "id": st.sampled_from(["a", "b", "c", ""]),
            "tier": st.sampled_from(["a", "b", "c"]),
            "plan": scalar_or_list,
        },
    )


@settings(max_examples=300, deadline=None)
@given(rules=generated_rules(), tenants=st.lists(generated_tenants(), min_size=1, max_size=20))
def test_what_is_warned_about_never_decides_an_answer(
    rules: list[dict[str, Any]], tenants: list[dict[str, Any]]
) -> None:
    """A rule warned about never decides; one warned about "only a list" decides for no
    tenant without a list value."""
    document = {"f": {"enabled": True, "rules": rules}}
    warnings = check_document(document, now=NOW).warnings
    warned = {
        warning.path.split(".when")[0].removeprefix("f."): "only a list" in warning.message
        for warning in warnings
    }
    silent = {
        f"r{index}": warned[f"rules[{index}]"]
        for index in range(len(rules))
        if f"rules[{index}]" in warned
    }
    flags = Flags.from_dict(document, clock=lambda: NOW)
    for tenant in tenants:
        rule = flags.evaluate("f", tenant).rule
        if rule in silent:
            assert silent[rule]
            assert any(isinstance(value, list) for value in tenant.values())


@settings(max_examples=200, deadline=None)
@given(
    bounds=st.lists(
        st.tuples(st.sampled_from(["lt", "lte", "gt", "gte"]), st.integers(0, 6), st.booleans()),
        min_size=2,
        max_size=2,
    ),
)
def test_bounds_on_now_warned_about_leave_no_instant(
    bounds: list[tuple[str, int, bool]],
) -> None:
    conditions = [
        {"attribute": "now", test: bound, **({"negate": True} if negate else {})}
        for test, bound, negate in bounds
    ]
    document = one_rule(*conditions)
    warned = warnings_of(document, now=-1.0) != []
    flags_at = [Flags.from_dict(document, clock=_fixed(at)) for at in _instants_around()]
    matched = any(flags.evaluate("f", "t").rule == "r" for flags in flags_at)
    assert warned is not matched


def _fixed(at: float) -> Callable[[], float]:
    return lambda: at


def _instants_around() -> list[float]:
    """Every integer from -1 to 7 and the midpoints: enough to tell bounds 0..6 apart."""
    return [step / 2 for step in range(-2, 15)]


def test_the_docs_example_prints_what_flagkit_validate_prints(tmp_path: Path) -> None:
    page = (REPO / "docs" / "targeting.md").read_text(encoding="utf-8")
    (content,) = re.findall(r"this `flags.json`:\n\n```json\n(.*?)```", page, re.S)
    write(tmp_path, "flags.json", content)
    (session,) = [block for block in fenced_blocks(page, "") if block.startswith("$ ")]
    command, *printed = session.splitlines()
    assert command == "$ flagkit validate flags.json"
    result = subprocess.run(
        [FLAGKIT, "validate", "flags.json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (result.stdout.splitlines(), result.returncode) == (printed, 0)
    assert len(printed) == 5


def test_bounds_apart_on_an_attribute_still_match_a_list_spanning_them() -> None:
    """Why that warning says "only a list": the rule does match one, as documented."""
    document = one_rule(on("seats", "gt", 5), on("seats", "lt", 3))
    flags = Flags.from_dict(document)
    assert flags.enabled("f", {"id": "t", "seats": [1, 9]}) is True
    assert flags.enabled("f", {"id": "t", "seats": 4}) is False
