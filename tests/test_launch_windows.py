"""Launch windows (`activeFrom` / `activeUntil`), the clock every constructor takes, and the
instants at which a document's answers may change with the time alone."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flagkit import Flags, Reason, Tenant
from tests.helpers import write

CHRISTMAS = 1_798_102_800.0  # 2026-12-24T09:00:00Z
NEW_YEAR = 1_798_761_600.0  # 2027-01-01T00:00:00Z


class Clock:
    """A clock a test sets by hand."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


WINDOWED = {
    "launch": {
        "enabled": True,
        "activeFrom": "2026-12-24T10:00:00+01:00",
        "activeUntil": "2027-01-01T00:00:00Z",
        "tenants": ["acme"],
    },
    "always": {"enabled": True},
}


@pytest.mark.parametrize(
    ("now", "enabled", "reason", "rule"),
    [
        pytest.param(CHRISTMAS - 1, False, Reason.DISABLED, "schedule", id="a-second-before"),
        pytest.param(CHRISTMAS, True, Reason.TARGETING_MATCH, "tenants", id="at-activeFrom"),
        pytest.param(
            NEW_YEAR - 0.001, True, Reason.TARGETING_MATCH, "tenants", id="just-before-end"
        ),
        pytest.param(NEW_YEAR, False, Reason.DISABLED, "schedule", id="at-activeUntil"),
    ],
)
def test_the_window_is_active_from_inclusive_until_exclusive(
    now: float, enabled: bool, reason: Reason, rule: str
) -> None:
    flags = Flags.from_dict(WINDOWED, clock=lambda: now)
    evaluation = flags.evaluate("launch", "acme")
    assert (evaluation.enabled, evaluation.reason, evaluation.rule) == (enabled, reason, rule)
    assert flags.enabled("launch", "acme") is enabled


def test_outside_its_window_a_flag_answers_as_its_kill_switch_would() -> None:
    document = {
        "v": {
            "enabled": True,
            "activeFrom": "2030-01-01T00:00:00Z",
            "variants": {"old": 1, "new": 2},
            "defaultVariant": "new",
            "offVariant": "old",
        }
    }
    flags = Flags.from_dict(document, clock=lambda: CHRISTMAS)
    evaluation = flags.evaluate("v", "acme", default=0)
    assert (evaluation.value, evaluation.variant, evaluation.reason, evaluation.rule) == (
        1,
        "old",
        Reason.DISABLED,
        "schedule",
    )
    assert flags.value("v", Tenant("acme")) == 1


def test_a_flag_requiring_one_outside_its_window_is_off() -> None:
    document = {**WINDOWED, "child": {"enabled": True, "requires": ["launch"]}}
    before = Flags.from_dict(document, clock=lambda: CHRISTMAS - 1)
    during = Flags.from_dict(document, clock=lambda: CHRISTMAS)
    assert before.evaluate("child", "acme").rule == "requires:launch"
    assert during.evaluate("child", "acme").enabled is True


def test_the_clock_is_read_at_each_evaluation() -> None:
    clock = Clock(CHRISTMAS - 1)
    flags = Flags.from_dict(WINDOWED, clock=clock)
    assert flags.enabled("launch", "acme") is False
    clock.now = CHRISTMAS
    assert flags.enabled("launch", "acme") is True
    assert [e.enabled for e in flags.evaluate_all("acme")] == [True, True]
    assert flags.enabled_flags("acme") == ["launch", "always"]


def test_from_file_takes_a_clock(tmp_path: Path) -> None:
    path = write(tmp_path, "flags.json", WINDOWED)
    assert Flags.from_file(path, clock=lambda: CHRISTMAS).enabled("launch", "acme") is True
    assert Flags.from_file(path, clock=lambda: NEW_YEAR).enabled("launch", "acme") is False


def test_a_tenant_cannot_move_the_clock() -> None:
    document = {
        "f": {
            "enabled": True,
            "rules": [
                {"when": [{"attribute": "now", "after": "2026-12-24T09:00:00Z"}], "serve": True}
            ],
        }
    }
    flags = Flags.from_dict(document, clock=lambda: CHRISTMAS - 60)
    tenant = {"id": "acme", "now": "2030-01-01T00:00:00Z"}
    assert flags.enabled("f", tenant) is False
    assert flags.enabled("f", Tenant("acme", attributes={"now": NEW_YEAR})) is False


# -- when the answers may change -------------------------------------------------------------

TIMED = {
    "window": {
        "enabled": True,
        "activeFrom": "2026-12-24T09:00:00Z",
        "activeUntil": "2027-01-01T00:00:00Z",
    },
    "bounded": {
        "enabled": True,
        "rules": [
            {"when": [{"attribute": "now", "before": "2026-12-25T00:00:00Z"}], "serve": True},
            {"when": [{"attribute": "signup", "before": "2026-12-26T00:00:00Z"}], "serve": True},
        ],
    },
    "office": {
        "enabled": True,
        "rules": [
            {
                "when": [
                    {
                        "attribute": "now",
                        "schedule": {
                            "days": ["MON", "TUE", "WED", "THU", "FRI"],
                            "from": "09:00",
                            "to": "17:00",
                            "timezone": "Europe/Berlin",
                        },
                    }
                ],
                "serve": True,
            }
        ],
    },
    "killed": {"enabled": False, "activeFrom": "2026-12-30T00:00:00Z"},
}


def test_a_document_without_time_never_changes_with_it() -> None:
    flags = Flags.from_dict({"f": {"enabled": True, "tenants": ["acme"]}})
    assert flags.flagset.answers_change_at(CHRISTMAS) == math.inf


def test_the_boundaries_are_the_windows_the_time_bounds_and_the_schedules() -> None:
    flagset = Flags.from_dict(TIMED).flagset
    # 2026-12-24 is a Thursday; Berlin is UTC+1 in December: 09:00 local is 08:00Z.
    assert flagset.answers_change_at(CHRISTMAS - 7200) == CHRISTMAS - 3600  # office opens
    assert flagset.answers_change_at(CHRISTMAS - 3600) == CHRISTMAS  # the window opens
    assert flagset.answers_change_at(CHRISTMAS) == CHRISTMAS + 7 * 3600  # office closes, 16:00Z
    # The tenant's own `signup` bound and the killed flag's window are not the clock's.
    assert 1_798_156_800.0 in flagset.time_boundaries.instants  # 2026-12-25T00:00:00Z
    assert 1_798_243_200.0 not in flagset.time_boundaries.instants  # 2026-12-26
    assert 1_798_588_800.0 not in flagset.time_boundaries.instants  # 2026-12-30


@settings(max_examples=60, deadline=None)
@given(start=st.floats(CHRISTMAS - 3 * 86_400, NEW_YEAR + 86_400), fraction=st.floats(0, 1))
def test_no_answer_changes_before_the_predicted_boundary(start: float, fraction: float) -> None:
    """Between `now` and the boundary predicted at `now`, every answer stays the same."""
    at_start = Flags.from_dict(TIMED, clock=lambda: start)
    boundary = at_start.flagset.answers_change_at(start)
    later = start + (min(boundary, start + 7 * 86_400) - start) * fraction
    if later >= boundary:
        later = math.nextafter(boundary, -math.inf)
    at_later = Flags.from_dict(TIMED, clock=lambda: later)
    tenant = Tenant("acme", attributes={"signup": "2026-12-25T12:00:00Z"})
    assert answers(at_start, tenant) == answers(at_later, tenant)


def answers(flags: Flags, tenant: Any) -> list[tuple[Any, ...]]:
    return [(e.flag, e.value, e.reason, e.rule) for e in flags.evaluate_all(tenant)]


def test_evaluate_all_answers_as_evaluate_does() -> None:
    clock = Clock(CHRISTMAS)
    flags = Flags.from_dict(TIMED, clock=clock)
    for tenant in ("acme", Tenant("acme", attributes={"signup": 0}), {"tier": "x"}, 42):
        assert flags.evaluate_all(tenant, "d") == [
            flags.evaluate(k, tenant, "d") for k in flags.keys
        ]
