"""Cron schedules as robfig/cron/v3's ParseStandard reads them and SpecSchedule.Next steps them."""

from datetime import UTC, datetime, timedelta

import pytest

from clusters.objects.cron import ScheduleError, parse_schedule, schedule_error, time_zone
from clusters.objects.times import format_time, parse_time

# --- parsing: robfig's words ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("schedule", "error"),
    [
        ("*/5 * * * *", None),
        ("0 9 * * mon-fri", None),
        ("0 9 * * MON-FRI", None),
        ("15 2 1 jan,jul *", None),
        ("0 0 ? * *", None),
        ("0,,30 * * * *", None),  # empty list items are skipped
        ("@hourly", None),
        ("@annually", None),
        ("@midnight", None),
        ("@every 1h30m", None),
        ("@every 500ms", None),
        ("TZ=Asia/Seoul 0 9 * * *", None),
        ("CRON_TZ=UTC 0 9 * * *", None),
        ("61 * * * *", "end of range (61) above maximum (59): 61"),
        ("* 24 * * *", "end of range (24) above maximum (23): 24"),
        ("* * 0 * *", "beginning of range (0) below minimum (1): 0"),
        ("* * * 13 *", "end of range (13) above maximum (12): 13"),
        ("* * * * 7", "end of range (7) above maximum (6): 7"),
        ("*/0 * * * *", "step of range should be a positive number: */0"),
        ("5-1 * * * *", "beginning of range (5) beyond end of range (1): 5-1"),
        ("1-2-3 * * * *", "too many hyphens: 1-2-3"),
        ("*/2/3 * * * *", "too many slashes: */2/3"),
        ("x * * * *", 'failed to parse int from x: strconv.Atoi: parsing "x": invalid syntax'),
        ("-1 * * * *", 'failed to parse int from : strconv.Atoi: parsing "": invalid syntax'),
        ("*/-1 * * * *", "negative number (-1) not allowed: -1"),
        ("* * * * mon-xyz", 'failed to parse int from xyz: strconv.Atoi: parsing "xyz": invalid syntax'),
        (
            "99999999999999999999 * * * *",
            "failed to parse int from 99999999999999999999: "
            'strconv.Atoi: parsing "99999999999999999999": value out of range',
        ),
        ("* * * *", "expected exactly 5 fields, found 4: [* * * *]"),
        ("0 0 * * * *", "expected exactly 5 fields, found 6: [0 0 * * * *]"),
        ("@fortnightly", "unrecognized descriptor: @fortnightly"),
        ("@every 5", 'failed to parse duration @every 5: time: missing unit in duration "5"'),
        ("@every 1d", 'failed to parse duration @every 1d: time: unknown unit "d" in duration "1d"'),
        ("TZ=Nowhere/City 0 9 * * *", "provided bad location Nowhere/City: unknown time zone Nowhere/City"),
        ("", "empty spec string"),
    ],
)
def test_it_parses_schedules_with_robfigs_messages(schedule, error):
    assert schedule_error(schedule) == error


def test_parse_schedule_raises_what_schedule_error_says():
    with pytest.raises(ScheduleError, match=r"end of range \(60\) above maximum \(59\): 60"):
        parse_schedule("60 * * * *")


# --- the next time ------------------------------------------------------------------------------


def next_after(schedule: str, after: str, zone: str | None = None) -> str | None:
    moment = parse_schedule(schedule, zone).next(parse_time(after))
    return format_time(moment) if moment else None


@pytest.mark.parametrize(
    ("schedule", "after", "expected"),
    [
        ("*/15 * * * *", "2026-03-02T09:00:00Z", "2026-03-02T09:15:00Z"),
        ("*/15 * * * *", "2026-03-02T09:14:59Z", "2026-03-02T09:15:00Z"),
        ("0 9 * * 1-5", "2026-03-06T09:00:00Z", "2026-03-09T09:00:00Z"),  # Friday, then Monday
        ("0 9 * * MON-FRI", "2026-03-07T10:00:00Z", "2026-03-09T09:00:00Z"),
        ("@hourly", "2026-03-02T09:30:00Z", "2026-03-02T10:00:00Z"),
        ("@daily", "2026-03-02T09:30:00Z", "2026-03-03T00:00:00Z"),
        ("@weekly", "2026-03-02T09:30:00Z", "2026-03-08T00:00:00Z"),
        ("@monthly", "2026-03-02T09:30:00Z", "2026-04-01T00:00:00Z"),
        ("@yearly", "2026-03-02T09:30:00Z", "2027-01-01T00:00:00Z"),
        ("30 6-16/4 * * *", "2026-03-02T10:31:00Z", "2026-03-02T14:30:00Z"),
        ("5/20 * * * *", "2026-03-02T09:26:00Z", "2026-03-02T09:45:00Z"),  # "5/20" is "5-59/20"
        ("0 0 13 * 5", "2026-03-02T00:00:00Z", "2026-03-06T00:00:00Z"),  # the 13th OR a Friday
        ("0 0 13 * *", "2026-03-02T00:00:00Z", "2026-03-13T00:00:00Z"),
        ("0 0 * * 5", "2026-03-02T00:00:00Z", "2026-03-06T00:00:00Z"),  # day of month `*`: Fridays only
        ("0 0 */1 * 5", "2026-03-02T00:00:00Z", "2026-03-06T00:00:00Z"),  # `*/1` is still a star
        ("0 0 */2 * 5", "2026-03-02T00:00:00Z", "2026-03-03T00:00:00Z"),  # `*/2` is not: odd days OR Fridays
        ("0 0 * jan,jul *", "2026-03-02T00:00:00Z", "2026-07-01T00:00:00Z"),
        ("0 0 29 2 *", "2026-03-02T00:00:00Z", "2028-02-29T00:00:00Z"),
        ("@every 90s", "2026-03-02T09:00:00Z", "2026-03-02T09:01:30Z"),
        ("@every 1m30.9s", "2026-03-02T09:00:00Z", "2026-03-02T09:01:30Z"),  # whole seconds
        ("@every 500ms", "2026-03-02T09:00:00Z", "2026-03-02T09:00:01Z"),  # at least a second
    ],
)
def test_it_computes_the_next_time_as_robfig_cron_does(schedule, after, expected):
    assert next_after(schedule, after) == expected


def test_every_counts_from_the_whole_second():
    every = parse_schedule("@every 10s")
    assert every.next(datetime(2026, 3, 2, 9, 0, 0, 700_000, tzinfo=UTC)) == datetime(2026, 3, 2, 9, 0, 10, tzinfo=UTC)


def test_a_schedule_runs_in_its_time_zone():
    assert next_after("0 9 * * *", "2026-03-02T01:00:00Z", "Asia/Seoul") == "2026-03-03T00:00:00Z"
    # A TZ prefix in the schedule wins over the CronJob's time zone.
    assert next_after("TZ=UTC 0 9 * * *", "2026-03-02T01:00:00Z", "Asia/Seoul") == "2026-03-02T09:00:00Z"


def test_a_time_skipped_by_daylight_saving_fires_an_hour_later_and_a_repeated_hour_runs_once():
    # 2026-03-08 02:30 does not exist in New York: it fires at 03:30 EDT.
    assert next_after("CRON_TZ=America/New_York 30 2 * * *", "2026-03-08T00:00:00Z") == "2026-03-08T07:30:00Z"
    # 2026-11-01 01:30 happens twice in New York; the schedule runs at the first only.
    repeated = parse_schedule("30 1 * * *", "America/New_York")
    first = repeated.next(parse_time("2026-11-01T04:00:00Z"))
    assert format_time(first) == "2026-11-01T05:30:00Z"
    assert format_time(repeated.next(first)) == "2026-11-02T06:30:00Z"


def test_a_schedule_that_never_comes_has_no_next_time():
    assert next_after("0 0 31 2 *", "2026-03-02T00:00:00Z") is None


def test_the_search_gives_up_five_years_ahead():
    assert parse_schedule("0 0 29 2 *").next(datetime(2026, 3, 2, tzinfo=UTC)) == datetime(2028, 2, 29, tzinfo=UTC)
    assert parse_schedule("0 0 29 2 *").next(datetime(2096, 3, 1, tzinfo=UTC)) is None  # 2100 is no leap year


# --- time zones ---------------------------------------------------------------------------------


def test_time_zones_are_found_as_go_loads_them():
    assert time_zone("") is UTC
    assert time_zone("UTC") is UTC
    seoul = time_zone("Asia/Seoul")
    assert seoul is not None
    assert datetime(2026, 1, 1, tzinfo=seoul).utcoffset() == timedelta(hours=9)
    assert time_zone("Nowhere/City") is None
    assert time_zone("../etc/passwd") is None
