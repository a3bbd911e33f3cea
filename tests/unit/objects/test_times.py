"""RFC 3339 times as objects carry them: metav1.Time, metav1.MicroTime, RFC3339 in a zone."""

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from clusters.objects.times import format_micro_time, format_time, format_time_in, parse_time, rfc3339_error

MOMENT = datetime(2026, 1, 2, 3, 4, 5, 678_901, tzinfo=UTC)
SEOUL = ZoneInfo("Asia/Seoul")


def test_a_time_is_written_in_utc_to_the_whole_second():
    assert format_time(MOMENT) == "2026-01-02T03:04:05Z"
    assert format_time(datetime(2026, 1, 2, 12, 4, 5, tzinfo=SEOUL)) == "2026-01-02T03:04:05Z"
    assert format_time(datetime(2026, 1, 2, 3, 4, 5, 999_999)) == "2026-01-02T03:04:05Z"  # naive: UTC, truncated


def test_a_micro_time_keeps_six_fraction_digits():
    assert format_micro_time(MOMENT) == "2026-01-02T03:04:05.678901Z"
    assert format_micro_time(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)) == "2026-01-02T03:04:05.000000Z"
    assert format_micro_time(datetime(2026, 1, 2, 12, 4, 5, 7, tzinfo=SEOUL)) == "2026-01-02T03:04:05.000007Z"


def test_years_before_1000_are_padded_as_go_pads_them():
    assert format_time(datetime(1, 1, 1, tzinfo=UTC)) == "0001-01-01T00:00:00Z"
    assert format_micro_time(datetime(999, 12, 31, 23, 59, 59, tzinfo=UTC)) == "0999-12-31T23:59:59.000000Z"


@pytest.mark.parametrize(
    ("zone", "text"),
    [
        (UTC, "2026-01-02T03:04:05Z"),
        (ZoneInfo("Etc/UTC"), "2026-01-02T03:04:05Z"),
        (SEOUL, "2026-01-02T12:04:05+09:00"),
        (ZoneInfo("America/New_York"), "2026-01-01T22:04:05-05:00"),
        (ZoneInfo("Asia/Kolkata"), "2026-01-02T08:34:05+05:30"),
        (timezone(-timedelta(hours=3, minutes=30)), "2026-01-01T23:34:05-03:30"),
    ],
)
def test_a_time_in_a_zone_is_written_as_gos_rfc3339(zone, text):
    assert format_time_in(MOMENT, zone) == text


@pytest.mark.parametrize(
    ("text", "moment"),
    [
        ("2026-01-02T03:04:05Z", datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)),
        ("2026-01-02T12:04:05+09:00", datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)),
        ("2026-01-01T22:04:05-05:00", datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)),
        ("2026-01-02T03:04:05.678901Z", MOMENT),
        ("2026-01-02T03:04:05.678901234Z", MOMENT),  # nanoseconds, as the Docker engine writes them
        ("2026-01-02T03:04:05.5Z", datetime(2026, 1, 2, 3, 4, 5, 500_000, tzinfo=UTC)),
        ("2026-01-02t03:04:05z", datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)),  # RFC 3339 allows lower case
        ("2026-01-02T03:04:05.678901+00:00", MOMENT),  # Python's isoformat
        ("2026-01-02T03:04:05", datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)),  # no offset: UTC
    ],
)
def test_it_reads_rfc3339_times_as_aware_utc(text, moment):
    parsed = parse_time(text)
    assert parsed == moment
    assert parsed.tzinfo is UTC


@pytest.mark.parametrize("text", [None, "", "yesterday", "2026-13-01T00:00:00Z", "2026-01-02T25:00:00Z"])
def test_nothing_or_something_unreadable_is_no_time(text):
    assert parse_time(text) is None


def test_what_is_written_reads_back():
    assert parse_time(format_time(MOMENT)) == MOMENT.replace(microsecond=0)
    assert parse_time(format_micro_time(MOMENT)) == MOMENT
    assert parse_time(format_time_in(MOMENT, SEOUL)) == MOMENT.replace(microsecond=0)


@pytest.mark.parametrize(
    "text",
    [
        "2026-01-02T03:04:05Z",
        "2026-01-02t03:04:05z",
        "2026-01-02T03:04:05.123456789Z",
        "2026-01-02T12:04:05+09:00",
        "2026-01-01T22:04:05-05:00",
    ],
)
def test_the_decoder_accepts_rfc3339(text):
    assert rfc3339_error(text) is None


@pytest.mark.parametrize(
    "text",
    [
        "",
        "2026-01-02",
        "2026-01-02 03:04:05Z",
        "2026-01-02T03:04:05",
        "2026-01-02T03:04Z",
        "20260102T030405Z",
        "2026-01-02T03:04:05+0900",
        "2026-13-02T03:04:05Z",
        "2026-02-30T03:04:05Z",
        "2026-01-02T03:04:05Z\n",
    ],
)
def test_the_decoder_refuses_anything_else_as_go_words_it(text):
    assert rfc3339_error(text) == (
        f'parsing time "{text.encode("unicode_escape").decode()}" as "2006-01-02T15:04:05Z07:00": '
        f'cannot parse "{text.encode("unicode_escape").decode()}" as "2006"'
    )
