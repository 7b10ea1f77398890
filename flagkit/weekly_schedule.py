"""Weekly schedules: "MON to FRI, 09:00 to 17:00, Berlin time", read at an instant.

A `schedule` condition's object, every key optional:

```json
{"days": ["MON", "TUE"], "from": "09:00", "to": "17:00", "timezone": "Europe/Berlin"}
```

`timezone` is an IANA zone (default `UTC`), `days` the days the window opens (default:
every day), `from` / `to` wall-clock times `HH:MM` (default: the whole day; `to` may be
`24:00`, the end of the day). The window holds at or after `from` and before `to`.
`to` earlier than `from` crosses midnight, and the day is the day the window opened:
`FRI 22:00 → 02:00` holds on Saturday at 01:00, not on Friday at 01:00.

The answer is a function of the instant's local wall time, so daylight-saving
changes need no special case: a wall time that does not exist (02:30 on the night
clocks spring forward) never occurs, one that occurs twice (02:30 on the night they
fall back) is in the window both times.

`contains` runs on every evaluation: it adds the zone's UTC offset (looked up once
for the span of up to a day in which it holds, so a clock's `now` rarely looks it up)
and compares the local minute and weekday with integers prepared by `parse`.
`next_change` tells when the answer may change next (so that caches keyed on answers
can expire exactly then); it walks the window's boundaries in local time and finds UTC
offset changes by bisection. `zoneinfo` and `datetime` are imported when a schedule is
first parsed, so `import flagkit` stays light.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from datetime import datetime, tzinfo

__all__ = ["DAY_NAMES", "ScheduleError", "WeeklySchedule"]

DAY_NAMES = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")
"""Day names in `datetime.weekday()` order (Monday is 0)."""

_KEYS = ("days", "from", "to", "timezone")
_EVERY_DAY = 0b111_1111
_MINUTES_PER_DAY = 1440
_SECONDS_PER_DAY = 86_400
_TIME_OF_DAY = re.compile(r"([01]\d|2[0-3]):([0-5]\d)", re.ASCII)
_MAX_STEPS = 64
"""Boundaries `next_change` visits before it answers "may change here" (a week has ~30)."""


class ScheduleError(ValueError):
    """A schedule object that cannot be read; `path` leads to the bad part inside it."""

    def __init__(self, message: str, *, path: tuple[str | int, ...]) -> None:
        super().__init__(message)
        self.path = path


def _shown(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, default=repr)


def _day_mask(raw: object) -> int:
    if raw is None:
        return _EVERY_DAY
    if not isinstance(raw, list | tuple):
        raise ScheduleError(
            f"{_shown(raw)} is not a list of day names ({', '.join(DAY_NAMES)})", path=("days",)
        )
    mask = 0
    for index, name in enumerate(raw):
        if name not in DAY_NAMES:
            raise ScheduleError(
                f"{_shown(name)} is not a day name ({', '.join(DAY_NAMES)})",
                path=("days", index),
            )
        mask |= 1 << DAY_NAMES.index(name)
    return mask


def _minute_of_day(raw: object, key: str, default: int) -> int:
    if raw is None:
        return default
    if key == "to" and raw == "24:00":
        return _MINUTES_PER_DAY
    found = _TIME_OF_DAY.fullmatch(raw) if isinstance(raw, str) else None
    if found is None:
        last = "24:00" if key == "to" else "23:59"
        raise ScheduleError(
            f'{_shown(raw)} is not a time of day "HH:MM" (00:00 to {last})', path=(key,)
        )
    return int(found.group(1)) * 60 + int(found.group(2))


def _zone(raw: object) -> tzinfo:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if isinstance(raw, str) and raw:
        try:
            return ZoneInfo(raw)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    raise ScheduleError(
        f'{_shown(raw)} is not an IANA time zone (e.g. "Europe/Berlin", "UTC")',
        path=("timezone",),
    )


def _rotate_to_next_day(mask: int) -> int:
    """The days after the days of `mask` (Sunday's next day is Monday)."""
    return ((mask << 1) | (mask >> 6)) & _EVERY_DAY


@dataclass(frozen=True, slots=True)
class WeeklySchedule:
    """A weekly window in a time zone; build it with `WeeklySchedule.parse`.

    `day_mask` has bit `d` set for each opening weekday `d` (Monday 0); `start_minute`
    and `end_minute` are minutes of the day (`end_minute` 1440 is the end of the day,
    and an end before the start crosses midnight).
    """

    day_mask: int
    start_minute: int
    end_minute: int
    timezone: str
    zone: tzinfo = field(repr=False, compare=False)
    _next_day_mask: int = field(repr=False, compare=False)
    """The days after the opening days: when the early hours of a window crossing
    midnight fall."""
    _local_time: Callable[[float, tzinfo], datetime] = field(repr=False, compare=False)
    _local_day: list[tuple[float, float, float, int]] = field(repr=False, compare=False)
    """`[(start, end, midnight, weekday)]`, the last local day looked up: from `start` to
    `end`, the local time is `weekday` and `(instant - midnight)` seconds into the day
    (no midnight and no offset change in between). Replaced whole, so threads read a
    consistent one."""

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> WeeklySchedule:
        """Read a schedule object; raises ScheduleError with the path of the bad part."""
        from datetime import datetime

        if not isinstance(raw, Mapping):
            raise ScheduleError(
                f"{_shown(raw)} is not a schedule object"
                ' (e.g. {"days": ["MON"], "from": "09:00", "to": "17:00", "timezone": "UTC"})',
                path=(),
            )
        for key in raw:
            if key not in _KEYS:
                raise ScheduleError(
                    f'unknown key {_shown(key)}: a schedule has "days", "from", "to", "timezone"',
                    path=(key,),
                )
        timezone = raw.get("timezone", "UTC")
        day_mask = _day_mask(raw.get("days"))
        return cls(
            day_mask=day_mask,
            start_minute=_minute_of_day(raw.get("from"), "from", 0),
            end_minute=_minute_of_day(raw.get("to"), "to", _MINUTES_PER_DAY),
            timezone=timezone,
            zone=_zone(timezone),
            _next_day_mask=_rotate_to_next_day(day_mask),
            _local_time=datetime.fromtimestamp,
            _local_day=[(math.inf, -math.inf, 0.0, 0)],
        )

    @property
    def never_matches(self) -> bool:
        """Whether the window is empty: `from` equals `to`, or there is no day."""
        return self.start_minute == self.end_minute or self.day_mask == 0

    @property
    def always_matches(self) -> bool:
        """Whether the window is every day, the whole day."""
        return (
            self.day_mask == _EVERY_DAY
            and self.start_minute == 0
            and self.end_minute == _MINUTES_PER_DAY
        )

    def contains(self, timestamp: float) -> bool:
        """Whether the instant's local time falls in the window.

        The instant is read exactly, never rounded: an instant a hair before a window
        opens or closes gets the answer before it. False for an instant outside the
        years 1 to 9999, or not a number.
        """
        low, high, midnight, weekday = self._local_day[0]
        if not low <= timestamp < high:
            try:
                low, high, midnight, weekday = self._look_up_local_day(timestamp)
            except (OverflowError, OSError, ValueError):
                return False
        minute = int(timestamp - midnight) // 60
        start, end = self.start_minute, self.end_minute
        if start < end:
            return start <= minute < end and bool(self.day_mask >> weekday & 1)
        if start == end:
            return False
        if minute >= start:
            return bool(self.day_mask >> weekday & 1)
        # Before `to` in the morning: the window that opened yesterday evening.
        return minute < end and bool(self._next_day_mask >> weekday & 1)

    def next_change(self, after: float) -> float:
        """The smallest instant > `after` at which `contains()` changes value.

        `math.inf` if it never can (an empty window, or every day the whole day), or
        only beyond the year 9999. Every instant in `[after, next_change(after))` gets
        the answer `after` gets. Offset changes (daylight saving) are found by
        bisection between boundaries, so two changes less than a day apart that undo
        each other would go unseen; no time zone has them.
        """
        if self.never_matches or self.always_matches:
            return math.inf
        try:
            return self._next_change(after)
        except (OverflowError, OSError, ValueError):
            return math.inf

    def _look_up_local_day(self, timestamp: float) -> tuple[float, float, float, int]:
        """The local day around `timestamp`, from it to the next local midnight or offset
        change, remembered for the next call: a clock's `now` hits it all day."""
        second = math.floor(timestamp)
        offset = self._offset(second)
        wall = second + offset
        midnight = wall - wall % _SECONDS_PER_DAY - offset
        weekday = (int(wall // _SECONDS_PER_DAY) + 3) % 7  # 1970-01-01 was a Thursday
        end = midnight + _SECONDS_PER_DAY
        try:
            if self._offset(end) != offset:
                end = self._offset_change(second, end, offset)
        except (OverflowError, OSError, ValueError):
            end = second + 1.0  # the end of the calendar, year 9999
        day = (float(second), end, midnight, weekday)
        self._local_day[0] = day
        return day

    def _offset(self, timestamp: float) -> float:
        """The UTC offset in seconds at `timestamp`, read to the second (offsets change
        on whole seconds, so this is exact and rounds no instant into the next offset)."""
        offset = self._local_time(math.floor(timestamp), self.zone).utcoffset()
        assert offset is not None  # a ZoneInfo always has one
        return offset.total_seconds()

    def _next_boundary(self, wall: float) -> float:
        """The first wall time after `wall` (seconds, local) at which the answer may change."""
        day_start = wall - wall % _SECONDS_PER_DAY
        minutes = sorted({self.start_minute, self.end_minute, _MINUTES_PER_DAY})
        return next(day_start + minute * 60 for minute in minutes if day_start + minute * 60 > wall)

    def _offset_change(self, before: float, after: float, offset: float) -> float:
        """The instant in (`before`, `after`] at which the UTC offset stops being `offset`."""
        low, high = math.floor(before), math.ceil(after)
        while high - low > 1:
            middle = (low + high) // 2
            if self._offset(middle) == offset:
                low = middle
            else:
                high = middle
        return float(high)

    def _next_change(self, after: float) -> float:
        answer = self.contains(after)
        instant = after
        for _ in range(_MAX_STEPS):
            offset = self._offset(instant)
            candidate = self._next_boundary(instant + offset) - offset
            if self._offset(candidate) != offset:
                candidate = self._offset_change(instant, candidate, offset)
            if self.contains(candidate) is not answer:
                return candidate
            instant = candidate
        return instant
