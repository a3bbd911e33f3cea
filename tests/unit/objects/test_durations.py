"""Go durations: time.ParseDuration and Duration.String(), with the edge cases of Go's own tests."""

import pytest

from clusters.objects.durations import (
    DurationError,
    duration_error,
    format_duration,
    format_nanoseconds,
    parse_duration,
    parse_duration_nanoseconds,
)

SECOND = 10**9
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
MAX = 2**63 - 1
MIN = -(2**63)


@pytest.mark.parametrize(
    ("text", "nanoseconds"),
    [
        ("0", 0),
        ("+0", 0),
        ("-0", 0),
        ("5s", 5 * SECOND),
        ("30s", 30 * SECOND),
        ("1478s", 1478 * SECOND),
        ("-5s", -5 * SECOND),
        ("+5s", 5 * SECOND),
        ("-0s", 0),
        ("5.0s", 5 * SECOND),
        ("5.6s", 5 * SECOND + 600_000_000),
        ("5.s", 5 * SECOND),
        (".5s", SECOND // 2),
        ("1.004s", SECOND + 4_000_000),
        ("100.00100s", 100 * SECOND + 1_000_000),
        ("10ns", 10),
        ("11us", 11_000),
        ("12µs", 12_000),  # the micro sign
        ("12μs", 12_000),  # the Greek letter mu
        ("13ms", 13_000_000),
        ("15m", 15 * MINUTE),
        ("16h", 16 * HOUR),
        ("3h30m", 3 * HOUR + 30 * MINUTE),
        ("10.5s4m", 4 * MINUTE + 10 * SECOND + SECOND // 2),
        ("-2m3.4s", -(2 * MINUTE + 3 * SECOND + 400_000_000)),
        ("1h2m3s4ms5us6ns", HOUR + 2 * MINUTE + 3 * SECOND + 4_000_000 + 5_000 + 6),
        ("39h9m14.425s", 39 * HOUR + 9 * MINUTE + 14 * SECOND + 425_000_000),
        ("52763797000ns", 52_763_797_000),
        ("0.3333333333333333333h", 20 * MINUTE),
        ("9007199254740993ns", 2**53 + 1),
        ("9223372036854775807ns", MAX),
        ("9223372036854775.807us", MAX),
        ("9223372036854ms775us807ns", MAX),
        ("-9223372036854775808ns", MIN),
        ("-9223372036854775.808us", MIN),
        ("-9223372036854ms775us808ns", MIN),
        ("-2562047h47m16.854775808s", MIN),
        ("0.100000000000000000000h", 6 * MINUTE),
        ("0.830103483285477580700h", 49 * MINUTE + 48 * SECOND + 372_539_827),
    ],
)
def test_it_parses_durations_to_the_nanosecond_as_go_does(text, nanoseconds):
    assert parse_duration_nanoseconds(text) == nanoseconds
    assert duration_error(text) is None


def test_seconds_are_the_nanoseconds_over_a_billion():
    assert parse_duration("1m30s") == 90.0
    assert parse_duration("-1.5h") == -5400.0
    assert parse_duration("300ms") == 0.3


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", 'time: invalid duration ""'),
        ("3", 'time: missing unit in duration "3"'),
        ("-", 'time: invalid duration "-"'),
        ("s", 'time: invalid duration "s"'),
        (".", 'time: invalid duration "."'),
        ("-.", 'time: invalid duration "-."'),
        (".s", 'time: invalid duration ".s"'),
        ("+.s", 'time: invalid duration "+.s"'),
        ("1..5s", 'time: missing unit in duration "1..5s"'),
        ("1d", 'time: unknown unit "d" in duration "1d"'),
        ("5 s", 'time: unknown unit " s" in duration "5 s"'),
        ("1h 30m", 'time: unknown unit "h " in duration "1h 30m"'),
        ('5"x', 'time: unknown unit "\\"x" in duration "5\\"x"'),
        # The time package's own quoting: every byte of a non-ASCII character as \xNN.
        ("5µx", 'time: unknown unit "\\xc2\\xb5x" in duration "5\\xc2\\xb5x"'),
        ("\ufffd", 'time: invalid duration "\\xef\\xbf\\xbd"'),
        ("٣s", 'time: invalid duration "\\xd9\\xa3s"'),  # only ASCII digits count
        # Overflow.
        ("9223372036854775810ns", 'time: invalid duration "9223372036854775810ns"'),
        ("9223372036854775808ns", 'time: invalid duration "9223372036854775808ns"'),
        ("-9223372036854775809ns", 'time: invalid duration "-9223372036854775809ns"'),
        ("9223372036854776us", 'time: invalid duration "9223372036854776us"'),
        ("3000000h", 'time: invalid duration "3000000h"'),
        ("9223372036854775.808us", 'time: invalid duration "9223372036854775.808us"'),
        ("9223372036854ms775us808ns", 'time: invalid duration "9223372036854ms775us808ns"'),
    ],
)
def test_it_refuses_what_go_refuses_in_gos_words(text, message):
    with pytest.raises(DurationError) as raised:
        parse_duration_nanoseconds(text)
    assert str(raised.value) == message
    assert duration_error(text) == message


@pytest.mark.parametrize(
    ("nanoseconds", "text"),
    [
        (0, "0s"),
        (1, "1ns"),
        (1_100, "1.1µs"),
        (2_200_000, "2.2ms"),
        (3_300_000_000, "3.3s"),
        (4 * MINUTE + 5 * SECOND, "4m5s"),
        (4 * MINUTE + 5_001_000_000, "4m5.001s"),
        (5 * HOUR + 6 * MINUTE + 7_001_000_000, "5h6m7.001s"),
        (8 * MINUTE + 1, "8m0.000000001s"),
        (HOUR, "1h0m0s"),
        (MAX, "2562047h47m16.854775807s"),
        (MIN, "-2562047h47m16.854775808s"),
        (-2 * SECOND, "-2s"),
    ],
)
def test_it_prints_durations_as_go_does(nanoseconds, text):
    assert format_nanoseconds(nanoseconds) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(10, "10s"), (20, "20s"), (80, "1m20s"), (160, "2m40s"), (300, "5m0s"), (2.915, "2.915s"), (0.711, "711ms")],
)
def test_seconds_print_as_the_kubelet_prints_its_back_off_and_pull_times(seconds, text):
    assert format_duration(seconds) == text


def test_a_printed_duration_parses_back_to_itself():
    for nanoseconds in (1, 999, 1_500, 2_200_000, 3_300_000_000, 5 * HOUR + 7, MAX, MIN):
        assert parse_duration_nanoseconds(format_nanoseconds(nanoseconds)) == nanoseconds
