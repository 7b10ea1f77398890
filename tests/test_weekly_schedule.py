"""Weekly schedules: days, times, midnight, both DST changes of 2026 in Berlin and New York,
errors with their paths and whole messages, and next_change against contains.

Instants are written as RFC 3339 with the offset the zone has then (CET `+01:00`, CEST
`+02:00`, EST `-05:00`, EDT `-04:00`), so a repeated wall time is spelled unambiguously,
and read with `datetime.fromisoformat`, never through flagkit.
"""

from __future__ import annotations

import json
import math
import time
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flagkit.weekly_schedule import ScheduleError, WeeklySchedule
from tests.helpers import run_python


def at(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


BERLIN = "Europe/Berlin"
NEW_YORK = "America/New_York"
OFFICE_HOURS = {"days": ["MON", "TUE", "WED", "THU", "FRI"], "from": "09:00", "to": "17:00"}
FRIDAY_NIGHT = {"days": ["FRI"], "from": "22:00", "to": "02:00", "timezone": BERLIN}


@pytest.mark.parametrize(
    ("schedule", "instant", "holds"),
    [
        # Office hours in Berlin (winter, CET).
        pytest.param(
            {**OFFICE_HOURS, "timezone": BERLIN}, "2026-12-18T09:00:00+01:00", True, id="at-from"
        ),
        pytest.param(
            {**OFFICE_HOURS, "timezone": BERLIN}, "2026-12-18T08:59:59+01:00", False, id="before"
        ),
        pytest.param(
            {**OFFICE_HOURS, "timezone": BERLIN}, "2026-12-18T16:59:59+01:00", True, id="last-s"
        ),
        pytest.param(
            {**OFFICE_HOURS, "timezone": BERLIN}, "2026-12-18T17:00:00+01:00", False, id="at-to"
        ),
        pytest.param(
            {**OFFICE_HOURS, "timezone": BERLIN}, "2026-12-19T10:00:00+01:00", False, id="sat"
        ),
        pytest.param(
            {**OFFICE_HOURS, "timezone": BERLIN}, "2026-12-18T08:30:00Z", True, id="other-zone"
        ),
        pytest.param(OFFICE_HOURS, "2026-12-18T08:30:00Z", False, id="utc-by-default"),
        pytest.param(OFFICE_HOURS, "2026-12-18T09:30:00Z", True, id="utc-by-default-holds"),
        # Days default to every day; from/to to the whole day; "24:00" ends the day.
        pytest.param({"from": "09:00"}, "2026-12-19T23:59:59Z", True, id="to-defaults-to-end"),
        pytest.param({"from": "09:00"}, "2026-12-19T08:59:59Z", False, id="from-09-before"),
        pytest.param({"to": "09:00"}, "2026-12-19T00:00:00Z", True, id="from-defaults-to-0"),
        pytest.param({"to": "09:00"}, "2026-12-19T09:00:00Z", False, id="to-09-at"),
        pytest.param({"from": "20:00", "to": "24:00"}, "2026-12-19T23:59:59Z", True, id="24:00"),
        pytest.param({"from": "20:00", "to": "24:00"}, "2026-12-20T00:00:00Z", False, id="24:00+"),
        pytest.param({"days": ["SUN"]}, "2026-12-20T00:00:00Z", True, id="whole-sunday-starts"),
        pytest.param({"days": ["SUN"]}, "2026-12-20T23:59:59Z", True, id="whole-sunday-ends"),
        pytest.param({"days": ["SUN"]}, "2026-12-21T00:00:00Z", False, id="whole-sunday-after"),
        pytest.param({}, "2026-12-21T00:00:00Z", True, id="empty-object-always"),
        pytest.param({"days": []}, "2026-12-21T00:00:00Z", False, id="no-day-never"),
        pytest.param({"from": "10:00", "to": "10:00"}, "2026-12-21T10:00:00Z", False, id="empty"),
        # A window crossing midnight belongs to the day it opened.
        pytest.param(FRIDAY_NIGHT, "2026-12-25T23:00:00+01:00", True, id="friday-23h"),
        pytest.param(FRIDAY_NIGHT, "2026-12-26T01:00:00+01:00", True, id="saturday-01h"),
        pytest.param(FRIDAY_NIGHT, "2026-12-26T02:00:00+01:00", False, id="saturday-02h"),
        pytest.param(FRIDAY_NIGHT, "2026-12-25T01:00:00+01:00", False, id="friday-01h"),
        pytest.param(FRIDAY_NIGHT, "2026-12-25T21:59:59+01:00", False, id="friday-before-22h"),
        pytest.param(FRIDAY_NIGHT, "2026-12-26T23:00:00+01:00", False, id="saturday-23h"),
        pytest.param(
            {"days": ["SUN"], "from": "22:00", "to": "02:00"},
            "2026-12-21T01:00:00Z",
            True,
            id="sunday-night-into-monday",
        ),
        # Berlin springs forward on Sunday 2026-03-29: 02:00 CET becomes 03:00 CEST.
        pytest.param(
            {"from": "02:15", "to": "02:45", "timezone": BERLIN},
            "2026-03-29T01:59:59+01:00",
            False,
            id="berlin-spring-missing-hour-just-before",
        ),
        pytest.param(
            {"from": "02:15", "to": "02:45", "timezone": BERLIN},
            "2026-03-29T03:00:00+02:00",
            False,
            id="berlin-spring-missing-hour-right-after",
        ),
        pytest.param(
            {"from": "02:15", "to": "02:45", "timezone": BERLIN},
            "2026-03-30T02:30:00+02:00",
            True,
            id="berlin-spring-missing-hour-next-day",
        ),
        pytest.param(
            {"from": "02:30", "to": "03:30", "timezone": BERLIN},
            "2026-03-29T03:00:00+02:00",
            True,
            id="berlin-spring-straddling-window-opens-at-the-jump",
        ),
        pytest.param(
            {"from": "02:30", "to": "03:30", "timezone": BERLIN},
            "2026-03-29T01:59:59+01:00",
            False,
            id="berlin-spring-straddling-window-before-the-jump",
        ),
        # Berlin falls back on Sunday 2026-10-25: 03:00 CEST becomes 02:00 CET.
        pytest.param(
            {"from": "02:15", "to": "02:45", "timezone": BERLIN},
            "2026-10-25T02:30:00+02:00",
            True,
            id="berlin-autumn-repeated-hour-first-time",
        ),
        pytest.param(
            {"from": "02:15", "to": "02:45", "timezone": BERLIN},
            "2026-10-25T02:30:00+01:00",
            True,
            id="berlin-autumn-repeated-hour-second-time",
        ),
        pytest.param(
            {"from": "02:15", "to": "02:45", "timezone": BERLIN},
            "2026-10-25T02:59:59+02:00",
            False,
            id="berlin-autumn-between-the-two-times",
        ),
        pytest.param(
            {"from": "02:15", "to": "02:45", "timezone": BERLIN},
            "2026-10-25T02:00:00+01:00",
            False,
            id="berlin-autumn-second-02h00",
        ),
        # New York springs forward on Sunday 2026-03-08: 02:00 EST becomes 03:00 EDT.
        pytest.param(
            {"days": ["SUN"], "from": "02:00", "to": "03:00", "timezone": NEW_YORK},
            "2026-03-08T01:59:59-05:00",
            False,
            id="new-york-spring-missing-hour-before",
        ),
        pytest.param(
            {"days": ["SUN"], "from": "02:00", "to": "03:00", "timezone": NEW_YORK},
            "2026-03-08T03:00:00-04:00",
            False,
            id="new-york-spring-missing-hour-after",
        ),
        pytest.param(
            {"days": ["SUN"], "from": "02:00", "to": "03:00", "timezone": NEW_YORK},
            "2026-03-15T02:30:00-04:00",
            True,
            id="new-york-spring-missing-hour-next-sunday",
        ),
        # New York falls back on Sunday 2026-11-01: 02:00 EDT becomes 01:00 EST.
        pytest.param(
            {"days": ["SUN"], "from": "01:15", "to": "01:45", "timezone": NEW_YORK},
            "2026-11-01T01:30:00-04:00",
            True,
            id="new-york-autumn-repeated-hour-first-time",
        ),
        pytest.param(
            {"days": ["SUN"], "from": "01:15", "to": "01:45", "timezone": NEW_YORK},
            "2026-11-01T01:30:00-05:00",
            True,
            id="new-york-autumn-repeated-hour-second-time",
        ),
        pytest.param(
            {"days": ["SUN"], "from": "01:15", "to": "01:45", "timezone": NEW_YORK},
            "2026-11-01T01:00:00-05:00",
            False,
            id="new-york-autumn-second-01h00",
        ),
        pytest.param(
            {"days": ["SUN"], "from": "01:15", "to": "01:45", "timezone": NEW_YORK},
            "2026-11-01T01:59:59-04:00",
            False,
            id="new-york-autumn-between-the-two-times",
        ),
    ],
)
def test_contains(schedule: dict[str, Any], instant: str, holds: bool) -> None:
    assert WeeklySchedule.parse(schedule).contains(at(instant)) is holds


@pytest.mark.parametrize(
    "timestamp",
    [
        pytest.param(math.nan, id="nan"),
        pytest.param(math.inf, id="infinity"),
        pytest.param(1e20, id="beyond-year-9999"),
        pytest.param(-1e20, id="before-year-1"),
    ],
)
def test_contains_outside_the_calendar_is_false(timestamp: float) -> None:
    assert WeeklySchedule.parse({}).contains(timestamp) is False
    assert WeeklySchedule.parse({}).next_change(timestamp) == math.inf
    assert WeeklySchedule.parse(FRIDAY_NIGHT).next_change(timestamp) == math.inf


@pytest.mark.parametrize(
    ("schedule", "after", "change"),
    [
        pytest.param(
            {**OFFICE_HOURS, "timezone": BERLIN},
            "2026-12-18T16:00:00+01:00",
            "2026-12-18T17:00:00+01:00",
            id="closes-at-five",
        ),
        pytest.param(
            {**OFFICE_HOURS, "timezone": BERLIN},
            "2026-12-18T17:00:00+01:00",
            "2026-12-21T09:00:00+01:00",
            id="opens-on-monday",
        ),
        pytest.param(
            FRIDAY_NIGHT,
            "2026-12-25T23:00:00+01:00",
            "2026-12-26T02:00:00+01:00",
            id="closes-across-midnight",
        ),
        pytest.param(
            {"from": "02:30", "to": "03:30", "timezone": BERLIN},
            "2026-03-29T01:00:00+01:00",
            "2026-03-29T03:00:00+02:00",
            id="berlin-spring-opens-when-the-clocks-jump",
        ),
        pytest.param(
            {"from": "02:15", "to": "02:45", "timezone": BERLIN},
            "2026-10-25T02:45:00+02:00",
            "2026-10-25T02:15:00+01:00",
            id="berlin-autumn-opens-again-in-the-repeated-hour",
        ),
        pytest.param(
            {"days": ["SUN"], "from": "02:00", "to": "03:00", "timezone": NEW_YORK},
            "2026-03-07T12:00:00-05:00",
            "2026-03-15T02:00:00-04:00",
            id="new-york-spring-skips-the-missing-window",
        ),
        pytest.param(
            {"from": "00:00", "to": "24:00", "timezone": BERLIN},
            "2026-12-18T16:00:00+01:00",
            None,
            id="always",
        ),
        pytest.param({"days": []}, "2026-12-18T16:00:00+01:00", None, id="never"),
    ],
)
def test_next_change(schedule: dict[str, Any], after: str, change: str | None) -> None:
    expected = math.inf if change is None else at(change)
    assert WeeklySchedule.parse(schedule).next_change(at(after)) == expected


ERRORS_AND_MESSAGES = [
    pytest.param(
        {"days": ["MON", "MOM"]},
        ("days", 1),
        '"MOM" is not a day name (MON, TUE, WED, THU, FRI, SAT, SUN)',
        id="bad-day",
    ),
    pytest.param(
        {"days": ["mon"]},
        ("days", 0),
        '"mon" is not a day name (MON, TUE, WED, THU, FRI, SAT, SUN)',
        id="lower-case-day",
    ),
    pytest.param(
        {"days": "MON"},
        ("days",),
        '"MON" is not a list of day names (MON, TUE, WED, THU, FRI, SAT, SUN)',
        id="days-not-a-list",
    ),
    pytest.param(
        {"from": "25:00"},
        ("from",),
        '"25:00" is not a time of day "HH:MM" (00:00 to 23:59)',
        id="from-25h",
    ),
    pytest.param(
        {"from": "9:00"},
        ("from",),
        '"9:00" is not a time of day "HH:MM" (00:00 to 23:59)',
        id="from-one-digit-hour",
    ),
    pytest.param(
        {"from": "24:00"},
        ("from",),
        '"24:00" is not a time of day "HH:MM" (00:00 to 23:59)',
        id="from-24h",
    ),
    pytest.param(
        {"to": "17:60"},
        ("to",),
        '"17:60" is not a time of day "HH:MM" (00:00 to 24:00)',
        id="to-minute-60",
    ),
    pytest.param(
        {"to": "24:01"},
        ("to",),
        '"24:01" is not a time of day "HH:MM" (00:00 to 24:00)',
        id="to-after-24h",
    ),
    pytest.param(
        {"to": 17},
        ("to",),
        '17 is not a time of day "HH:MM" (00:00 to 24:00)',
        id="to-a-number",
    ),
    pytest.param(
        {"timezone": "Europe/Berln"},
        ("timezone",),
        '"Europe/Berln" is not an IANA time zone (e.g. "Europe/Berlin", "UTC")',
        id="unknown-zone",
    ),
    pytest.param(
        {"timezone": "../etc/passwd"},
        ("timezone",),
        '"../etc/passwd" is not an IANA time zone (e.g. "Europe/Berlin", "UTC")',
        id="path-as-zone",
    ),
    pytest.param(
        {"timezone": ""},
        ("timezone",),
        '"" is not an IANA time zone (e.g. "Europe/Berlin", "UTC")',
        id="empty-zone",
    ),
    pytest.param(
        ["MON"],
        (),
        '["MON"] is not a schedule object'
        ' (e.g. {"days": ["MON"], "from": "09:00", "to": "17:00", "timezone": "UTC"})',
        id="not-an-object",
    ),
    pytest.param(
        {"timezone": "UTC", "zone": "UTC"},
        ("zone",),
        'unknown key "zone": a schedule has "days", "from", "to", "timezone"',
        id="unknown-key",
    ),
]


@pytest.mark.parametrize(("schedule", "path", "message"), ERRORS_AND_MESSAGES)
def test_schedule_errors(schedule: Any, path: tuple[str | int, ...], message: str) -> None:
    with pytest.raises(ScheduleError, match=r"not|unknown") as refused:
        WeeklySchedule.parse(schedule)
    assert (refused.value.path, str(refused.value)) == (path, message)
    assert isinstance(refused.value, ValueError)


@pytest.mark.parametrize(
    ("schedule", "never"),
    [
        pytest.param({"from": "10:00", "to": "10:00"}, True, id="from-equals-to"),
        pytest.param({"days": []}, True, id="no-day"),
        pytest.param({"from": "10:00", "to": "10:01"}, False, id="one-minute"),
        pytest.param({"from": "10:01", "to": "10:00"}, False, id="all-but-one-minute"),
        pytest.param({}, False, id="always"),
    ],
)
def test_never_matches(schedule: dict[str, Any], never: bool) -> None:
    assert WeeklySchedule.parse(schedule).never_matches is never


def test_equal_schedules_compare_equal() -> None:
    assert WeeklySchedule.parse({"days": ["MON", "MON"], "timezone": "UTC"}) == (
        WeeklySchedule.parse({"days": ["MON"]})
    )
    assert WeeklySchedule.parse({"days": ["MON"]}) != WeeklySchedule.parse({"days": ["TUE"]})


def test_contains_is_fast() -> None:
    """A correctness guard against per-call parsing, not a benchmark: generous bound."""
    schedule = WeeklySchedule.parse(FRIDAY_NIGHT)
    instant = at("2026-12-26T01:00:00+01:00")
    started = time.perf_counter()
    answers = [schedule.contains(instant) for _ in range(10_000)]
    elapsed = time.perf_counter() - started
    assert answers == [True] * 10_000
    assert elapsed < 0.5, f"10,000 calls took {elapsed:.3f} s"


ZONES = ["UTC", BERLIN, NEW_YORK, "Australia/Lord_Howe", "Asia/Kolkata", "America/St_Johns"]
TIMES = st.sampled_from(["00:00", "01:30", "02:00", "02:30", "03:00", "12:00", "22:00", "23:59"])
TRANSITIONS_2026 = [
    at("2026-03-29T01:00:00Z"),  # Berlin springs forward
    at("2026-10-25T01:00:00Z"),  # Berlin falls back
    at("2026-03-08T07:00:00Z"),  # New York springs forward
    at("2026-11-01T06:00:00Z"),  # New York falls back
]


@st.composite
def raw_schedules(draw: st.DrawFn) -> dict[str, Any]:
    raw: dict[str, Any] = {"timezone": draw(st.sampled_from(ZONES))}
    if draw(st.booleans()):
        raw["days"] = draw(st.lists(st.sampled_from(["MON", "FRI", "SAT", "SUN"]), max_size=3))
    if draw(st.booleans()):
        raw["from"] = draw(TIMES)
    if draw(st.booleans()):
        raw["to"] = draw(TIMES | st.just("24:00"))
    return raw


INSTANTS = st.one_of(
    st.floats(min_value=at("2000-01-01T00:00:00Z"), max_value=at("2040-01-01T00:00:00Z")),
    st.builds(
        lambda transition, delta: transition + delta,
        st.sampled_from(TRANSITIONS_2026),
        st.integers(min_value=-3 * 86_400, max_value=3 * 86_400).map(float),
    ),
)


@given(
    raw_schedules().map(WeeklySchedule.parse),
    INSTANTS,
    st.lists(st.floats(min_value=0, max_value=1), max_size=8),
)
def test_the_answer_changes_only_at_next_change(
    schedule: WeeklySchedule, instant: float, fractions: list[float]
) -> None:
    change = schedule.next_change(instant)
    assert change > instant
    answer = schedule.contains(instant)
    end = change if change != math.inf else instant + 8 * 86_400
    samples = [instant + (end - instant) * fraction for fraction in fractions]
    samples += [math.nextafter(end, -math.inf), end - 0.001, end - 1]
    assert [schedule.contains(s) for s in samples if instant <= s < end] == [
        answer for s in samples if instant <= s < end
    ]
    if change != math.inf:
        assert schedule.contains(change) is not answer


def test_importing_the_value_modules_loads_none_of_their_dependencies() -> None:
    """`import flagkit` stays light: datetime, zoneinfo, re2 and ipaddress load on first use."""
    code = (
        "import sys, json, flagkit\n"
        "before = set(sys.modules)\n"
        "import flagkit.networks, flagkit.patterns, flagkit.semver, flagkit.timestamps\n"
        "import flagkit.weekly_schedule\n"
        "flagkit.timestamps.timestamp_of('2026-12-24T08:00:00Z')\n"
        "flagkit.semver.semver_key('1.2.3')\n"
        "print(json.dumps(sorted(set(sys.modules) - before)))\n"
    )
    result = run_python(code)
    assert result.returncode == 0, result.stderr
    loaded = set(json.loads(result.stdout))
    assert "flagkit.weekly_schedule" in loaded
    assert loaded & {"datetime", "zoneinfo", "re2", "ipaddress", "_datetime"} == set()


def expected_answer(raw: dict[str, Any], instant: float) -> bool:
    """The contract read literally, with `datetime` and `zoneinfo`: the oracle."""
    local = datetime.fromtimestamp(math.floor(instant), ZoneInfo(raw.get("timezone", "UTC")))
    days = raw.get("days", ["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"])
    start = raw.get("from", "00:00")
    end = raw.get("to", "24:00")
    now = f"{local:%H:%M}"
    day = f"{local:%a}".upper()
    yesterday = f"{local - timedelta(days=1):%a}".upper()
    if start < end:
        return day in days and start <= now < end
    if start == end:
        return False
    return (day in days and now >= start) or (yesterday in days and now < end)


@given(raw_schedules(), st.lists(INSTANTS, min_size=1, max_size=6))
def test_contains_agrees_with_datetime(raw: dict[str, Any], instants: list[float]) -> None:
    """Several instants in a row: the remembered UTC offset never answers for another."""
    schedule = WeeklySchedule.parse(raw)
    assert [schedule.contains(instant) for instant in instants] == [
        expected_answer(raw, instant) for instant in instants
    ]
