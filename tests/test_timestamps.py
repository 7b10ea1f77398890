"""RFC 3339 timestamps: what is accepted, what is refused (whole messages), and numbers.

Expected instants are written out as epoch seconds or computed with `datetime`, never
through flagkit.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flagkit.timestamps import format_timestamp, parse_timestamp, timestamp_of

CHRISTMAS_EVE_9_BERLIN = 1_798_099_200.0
"""2026-12-24T08:00:00Z, i.e. 09:00 in Berlin."""


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        pytest.param("2026-12-24T08:00:00Z", CHRISTMAS_EVE_9_BERLIN, id="Z"),
        pytest.param("2026-12-24t08:00:00z", CHRISTMAS_EVE_9_BERLIN, id="lower-case-t-and-z"),
        pytest.param("2026-12-24T09:00:00+01:00", CHRISTMAS_EVE_9_BERLIN, id="positive-offset"),
        pytest.param("2026-12-24T03:00:00-05:00", CHRISTMAS_EVE_9_BERLIN, id="negative-offset"),
        pytest.param("2026-12-24T13:45:00+05:45", CHRISTMAS_EVE_9_BERLIN, id="minutes-offset"),
        pytest.param("2026-12-24T08:00:00+00:00", CHRISTMAS_EVE_9_BERLIN, id="zero-offset"),
        pytest.param("2026-12-24T08:00:00-00:00", CHRISTMAS_EVE_9_BERLIN, id="unknown-offset"),
        pytest.param("2026-12-24T08:00:00.5Z", CHRISTMAS_EVE_9_BERLIN + 0.5, id="fraction"),
        pytest.param("2026-12-24T08:00:00.000001Z", CHRISTMAS_EVE_9_BERLIN + 1e-6, id="micros"),
        pytest.param("1970-01-01T00:00:00Z", 0.0, id="epoch"),
        pytest.param("1969-12-31T23:59:59Z", -1.0, id="before-epoch"),
        pytest.param("2028-02-29T00:00:00Z", 1_835_395_200.0, id="leap-day"),
        pytest.param("2000-02-29T00:00:00Z", 951_782_400.0, id="leap-day-of-a-400th-year"),
        pytest.param("2026-12-31T23:59:59+14:00", 1_798_711_199.0, id="largest-real-offset"),
    ],
)
def test_accepted_timestamps(text: str, seconds: float) -> None:
    assert parse_timestamp(text) == pytest.approx(seconds, abs=1e-7)
    assert timestamp_of(text) == pytest.approx(seconds, abs=1e-7)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("2026-12-24T09:00:00", id="no-offset"),
        pytest.param("2026-12-24 09:00:00+01:00", id="space-separator"),
        pytest.param("2026-12-24 09:00", id="space-and-no-seconds"),
        pytest.param("2026-12-24T09:00+01:00", id="no-seconds"),
        pytest.param("2026-12-24", id="date-only"),
        pytest.param("2026-12-24T24:00:00Z", id="24:00"),
        pytest.param("2026-13-01T00:00:00Z", id="month-13"),
        pytest.param("2026-00-01T00:00:00Z", id="month-0"),
        pytest.param("2026-02-30T00:00:00Z", id="february-30"),
        pytest.param("2026-02-29T00:00:00Z", id="february-29-of-a-common-year"),
        pytest.param("2100-02-29T00:00:00Z", id="february-29-of-a-100th-year"),
        pytest.param("2026-04-31T00:00:00Z", id="april-31"),
        pytest.param("2026-12-00T00:00:00Z", id="day-0"),
        pytest.param("2026-12-24T09:60:00Z", id="minute-60"),
        pytest.param("2026-12-31T23:59:60Z", id="leap-second"),
        pytest.param("2026-12-24T09:00:00+24:00", id="offset-hour-24"),
        pytest.param("2026-12-24T09:00:00+01:60", id="offset-minute-60"),
        pytest.param("2026-12-24T09:00:00+0100", id="offset-without-colon"),
        pytest.param("2026-12-24T09:00:00.Z", id="empty-fraction"),
        pytest.param(" 2026-12-24T09:00:00Z", id="leading-space"),
        pytest.param("2026-12-24T09:00:00Z\n", id="trailing-newline"),
        pytest.param("\uff12\uff10\uff12\uff16-12-24T09:00:00Z", id="non-ascii-digits"),
        pytest.param("", id="empty"),
    ],
)
def test_refused_timestamps(text: str) -> None:
    quoted = '"' + text.replace("\n", "\\n") + '"'
    with pytest.raises(ValueError, match="is not an RFC 3339 timestamp") as refused:
        parse_timestamp(text)
    assert str(refused.value) == (
        f'{quoted} is not an RFC 3339 timestamp with an offset (e.g. "2026-12-24T09:00:00+01:00")'
    )
    assert timestamp_of(text) is None


def test_the_message_of_a_local_time() -> None:
    with pytest.raises(ValueError, match="is not an RFC 3339 timestamp") as refused:
        parse_timestamp("2026-12-24 09:00")
    assert str(refused.value) == (
        '"2026-12-24 09:00" is not an RFC 3339 timestamp with an offset '
        '(e.g. "2026-12-24T09:00:00+01:00")'
    )


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        pytest.param(CHRISTMAS_EVE_9_BERLIN, CHRISTMAS_EVE_9_BERLIN, id="float"),
        pytest.param(1_798_099_200, CHRISTMAS_EVE_9_BERLIN, id="int"),
        pytest.param(0, 0.0, id="zero"),
        pytest.param(-1.5, -1.5, id="negative"),
        pytest.param(True, None, id="true-is-not-a-number"),
        pytest.param(False, None, id="false-is-not-a-number"),
        pytest.param(math.nan, None, id="nan"),
        pytest.param(math.inf, None, id="infinity"),
        pytest.param(-math.inf, None, id="minus-infinity"),
        pytest.param(10**400, None, id="int-too-large-for-a-float"),
        pytest.param("1798099200", None, id="numeric-string"),
        pytest.param(None, None, id="none"),
        pytest.param(["2026-12-24T08:00:00Z"], None, id="list"),
        pytest.param({"at": 0}, None, id="dict"),
    ],
)
def test_timestamp_of_reads_numbers_and_nothing_else(value: object, seconds: float | None) -> None:
    assert timestamp_of(value) == seconds


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        pytest.param(CHRISTMAS_EVE_9_BERLIN, "2026-12-24T08:00:00Z", id="whole-seconds"),
        pytest.param(CHRISTMAS_EVE_9_BERLIN + 0.25, "2026-12-24T08:00:00.25Z", id="fraction"),
        pytest.param(0.0, "1970-01-01T00:00:00Z", id="epoch"),
        pytest.param(-0.5, "1969-12-31T23:59:59.5Z", id="before-epoch"),
        pytest.param(951_782_400.0, "2000-02-29T00:00:00Z", id="leap-day"),
    ],
)
def test_format_timestamp(seconds: float, text: str) -> None:
    assert format_timestamp(seconds) == text


AWARE_DATETIMES = st.datetimes(
    min_value=datetime(1, 1, 2),
    max_value=datetime(9999, 12, 30),
    timezones=st.builds(
        timezone,
        st.integers(min_value=-23 * 60 - 59, max_value=23 * 60 + 59).map(
            lambda minutes: timedelta(minutes=minutes)
        ),
    ),
)


@given(AWARE_DATETIMES)
def test_parsing_agrees_with_datetime(moment: datetime) -> None:
    text = moment.isoformat()
    if moment.microsecond == 0:
        text = text[:19] + ".0" + text[19:]  # a fraction of zero is still RFC 3339
    if text.endswith("+00:00"):
        text = text[:-6] + "Z"
    expected = (moment - datetime(1970, 1, 1, tzinfo=UTC)) / timedelta(seconds=1)
    assert parse_timestamp(text) == pytest.approx(expected, abs=1e-6)


@given(st.integers(min_value=-62_135_596_800, max_value=253_402_300_799))
def test_formatting_agrees_with_datetime(seconds: int) -> None:
    moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=seconds)
    assert format_timestamp(seconds) == moment.strftime("%Y-%m-%dT%H:%M:%SZ").zfill(20)


@given(st.integers(min_value=-62_135_596_800_000_000, max_value=253_402_300_799_000_000))
def test_format_then_parse_round_trips(micros: int) -> None:
    seconds = micros / 1_000_000
    text = format_timestamp(seconds)
    assert parse_timestamp(text) == pytest.approx(seconds, abs=1e-6)
    assert format_timestamp(parse_timestamp(text)) == text


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        pytest.param(1_798_099_200, "1798099200", id="int"),
        pytest.param(None, "null", id="null"),
        pytest.param(True, "true", id="bool"),
    ],
)
def test_a_document_value_that_is_not_a_string(value: Any, shown: str) -> None:
    """In a document a timestamp is a string (a tenant's may be a number: timestamp_of)."""
    with pytest.raises(ValueError, match="is not an RFC 3339 timestamp") as refused:
        parse_timestamp(value)
    assert str(refused.value) == (
        f'{shown} is not an RFC 3339 timestamp with an offset (e.g. "2026-12-24T09:00:00+01:00")'
    )
