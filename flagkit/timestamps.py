"""RFC 3339 timestamps: strict parsing to seconds since the Unix epoch, and back.

A timestamp in a flag document (`activeFrom`, `before`, `after`) is an RFC 3339
date-time WITH an offset: `2026-12-24T09:00:00+01:00`, `2026-12-24T08:00:00Z`,
`2026-12-24t08:00:00.250z`. A local time without an offset means a different instant
in every zone, so it is refused, as are a space for the `T`, `24:00`, month 13 and
February 30. A tenant's timestamp attribute is such a string or a number of seconds
since the epoch (`timestamp_of`).

The arithmetic is done here, on integers, rather than by `datetime`, so that
`import flagkit` stays light and an evaluation costs a regular expression match.
Leap seconds (`23:59:60`) are refused: POSIX time, which every clock here reads,
has none.
"""

from __future__ import annotations

import json
import math
import re
from functools import lru_cache

__all__ = ["format_timestamp", "parse_timestamp", "timestamp_of"]

_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?(?:([Zz])|([+-])(\d{2}):(\d{2}))",
    re.ASCII,
)
_DAYS_IN_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_SECONDS_PER_DAY = 86_400


def _is_leap_year(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _days_from_civil(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm)."""
    year -= month <= 2
    era = year // 400
    year_of_era = year - era * 400
    day_of_year = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    return era * 146_097 + day_of_era - 719_468


def _civil_from_days(days: int) -> tuple[int, int, int]:
    """The (year, month, day) `days` after 1970-01-01: the inverse of `_days_from_civil`."""
    days += 719_468
    era = days // 146_097
    day_of_era = days - era * 146_097
    year_of_era = (
        day_of_era - day_of_era // 1460 + day_of_era // 36_524 - day_of_era // 146_096
    ) // 365
    day_of_year = day_of_era - (365 * year_of_era + year_of_era // 4 - year_of_era // 100)
    shifted_month = (5 * day_of_year + 2) // 153
    day = day_of_year - (153 * shifted_month + 2) // 5 + 1
    month = shifted_month + (3 if shifted_month < 10 else -9)
    return year_of_era + era * 400 + (month <= 2), month, day


def _seconds_or_none(text: str) -> float | None:
    found = _RFC3339.fullmatch(text)
    if found is None:
        return None
    year, month, day, hour, minute, second = (int(found.group(i)) for i in range(1, 7))
    if not 1 <= month <= 12 or hour > 23 or minute > 59 or second > 59:
        return None
    days_in_month = 29 if month == 2 and _is_leap_year(year) else _DAYS_IN_MONTH[month - 1]
    if not 1 <= day <= days_in_month:
        return None
    offset = 0
    if found.group(8) is None:
        offset_hours, offset_minutes = int(found.group(10)), int(found.group(11))
        if offset_hours > 23 or offset_minutes > 59:
            return None
        offset = (offset_hours * 60 + offset_minutes) * 60
        if found.group(9) == "-":
            offset = -offset
    whole = (
        _days_from_civil(year, month, day) * _SECONDS_PER_DAY
        + hour * 3600
        + minute * 60
        + second
        - offset
    )
    fraction = found.group(7)
    return whole + float(fraction) if fraction else float(whole)


def parse_timestamp(text: str) -> float:
    """Seconds since the Unix epoch of a strict RFC 3339 date-time with an offset.

    Raises ValueError, e.g. `"2026-12-24 09:00" is not an RFC 3339 timestamp with an
    offset (e.g. "2026-12-24T09:00:00+01:00")`.
    """
    seconds = _seconds_or_none(text) if isinstance(text, str) else None
    if seconds is None:
        raise ValueError(
            f"{json.dumps(text, ensure_ascii=False, default=repr)} is not an RFC 3339 timestamp"
            " with an"
            ' offset (e.g. "2026-12-24T09:00:00+01:00")'
        )
    return seconds


_cached_seconds = lru_cache(maxsize=4096)(_seconds_or_none)
"""Tenants' timestamps repeat (a sign-up date, a release date): parse each once."""


def timestamp_of(value: object) -> float | None:
    """A tenant attribute read as a timestamp, for evaluation: never raises.

    An RFC 3339 string with an offset, or a finite int/float (not a bool) taken as
    seconds since the epoch; None for anything else.
    """
    if isinstance(value, str):
        return _cached_seconds(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            return float(value)
        except OverflowError:
            return None
    return None


def format_timestamp(seconds: float) -> str:
    """`seconds` since the epoch as RFC 3339 in UTC with `Z`, to the microsecond.

    Whole seconds have no fraction (`2026-12-24T08:00:00Z`); otherwise the fraction
    has no trailing zeros (`2026-12-24T08:00:00.25Z`).
    """
    micros = round(seconds * 1_000_000)
    whole, fraction = divmod(micros, 1_000_000)
    days, second_of_day = divmod(whole, _SECONDS_PER_DAY)
    year, month, day = _civil_from_days(days)
    hour, rest = divmod(second_of_day, 3600)
    minute, second = divmod(rest, 60)
    text = f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}"
    if fraction:
        text += "." + f"{fraction:06d}".rstrip("0")
    return text + "Z"
