"""Go durations: `time.ParseDuration` (`300ms`, `-1.5h`, `2h45m`) and `Duration.String()` (`1m20s`).

Durations reach objects in cron schedules (`@every 90s`) and leave them in messages (the
kubelet's `back-off 5m0s`). Parsing follows Go to the nanosecond and to the words of its errors;
`duration_error` gives only the error, as validation reports it.
"""

from __future__ import annotations

from decimal import Decimal

SECOND = 10**9  # nanoseconds
_UNITS = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,  # U+00B5, the micro sign
    "μs": 1_000,  # U+03BC, the Greek letter mu
    "ms": 1_000_000,
    "s": SECOND,
    "m": 60 * SECOND,
    "h": 3600 * SECOND,
}
_LIMIT = 2**63  # Go keeps the magnitude in a uint64 and allows up to 1<<63 before the sign


class DurationError(ValueError):
    """A duration Go would not parse; str() is Go's message."""


def _quote(text: str) -> str:
    """The time package's own quote: ASCII kept (with `"` and `\\` escaped), every byte of any
    other character, and of control characters, as `\\xNN`."""
    out = ['"']
    for char in text:
        if ord(char) >= 0x80 or char < " ":
            try:
                data = char.encode()
            except UnicodeEncodeError:  # a lone surrogate: Go would have the replacement character
                data = "\ufffd".encode()
            out.extend(f"\\x{byte:02x}" for byte in data)
        else:
            out.append("\\" + char if char in '"\\' else char)
    out.append('"')
    return "".join(out)


def _is_digit(char: str) -> bool:
    return "0" <= char <= "9"


def _leading_int(text: str) -> tuple[int, str] | None:
    """The leading [0-9]* of `text` and what follows; None when it overflows Go's uint64 reading."""
    value, index = 0, 0
    while index < len(text) and _is_digit(text[index]):
        if value > _LIMIT // 10:
            return None
        value = value * 10 + int(text[index])
        if value > _LIMIT:
            return None
        index += 1
    return value, text[index:]


def _leading_fraction(text: str) -> tuple[int, float, str]:
    """The digits after a decimal point as (value, scale, rest); past uint64 precision they are
    consumed but no longer counted, as Go does."""
    value, scale, index, overflow = 0, 1.0, 0, False
    while index < len(text) and _is_digit(text[index]):
        if not overflow:
            following = value * 10 + int(text[index])
            if value > (_LIMIT - 1) // 10 or following > _LIMIT:
                overflow = True
            else:
                value, scale = following, scale * 10
        index += 1
    return value, scale, text[index:]


def parse_duration_nanoseconds(text: str) -> int:
    """Go's time.ParseDuration, in nanoseconds; raises DurationError with Go's message."""
    invalid = DurationError(f"time: invalid duration {_quote(text)}")
    rest, negative = text, False
    if rest[:1] in ("-", "+"):
        negative, rest = rest[0] == "-", rest[1:]
    if rest == "0":
        return 0
    if not rest:
        raise invalid
    total = 0
    while rest:
        if not (rest[0] == "." or _is_digit(rest[0])):
            raise invalid
        leading = _leading_int(rest)
        if leading is None:
            raise invalid
        whole, after = leading
        before_digits = len(after) != len(rest)
        rest = after
        fraction, scale, after_digits = 0, 1.0, False
        if rest.startswith("."):
            fraction, scale, after = _leading_fraction(rest[1:])
            after_digits = len(after) != len(rest) - 1
            rest = after
        if not before_digits and not after_digits:
            raise invalid  # no digits, as in ".s" or "-.s"
        end = 0
        while end < len(rest) and not (rest[end] == "." or _is_digit(rest[end])):
            end += 1
        if end == 0:
            raise DurationError(f"time: missing unit in duration {_quote(text)}")
        unit_name, rest = rest[:end], rest[end:]
        unit = _UNITS.get(unit_name)
        if unit is None:
            raise DurationError(f"time: unknown unit {_quote(unit_name)} in duration {_quote(text)}")
        if whole > _LIMIT // unit:
            raise invalid
        value = whole * unit
        if fraction > 0:
            # Go's float64 arithmetic, so that fractions of hours land on the same nanosecond.
            value += int(float(fraction) * (float(unit) / scale))
            if value > _LIMIT:
                raise invalid
        total += value
        if total > _LIMIT:
            raise invalid
    if negative:
        return -total
    if total > _LIMIT - 1:
        raise invalid
    return total


def parse_duration(text: str) -> float:
    """Go's time.ParseDuration, in seconds; raises DurationError with Go's message."""
    return parse_duration_nanoseconds(text) / SECOND


def duration_error(text: str) -> str | None:
    """Go's time.ParseDuration error for `text`, or None when it parses."""
    try:
        parse_duration_nanoseconds(text)
    except DurationError as error:
        return str(error)
    return None


def _fraction(value: int, digits: int) -> tuple[str, int]:
    """(`.123` without trailing zeros, or nothing; what is left above the fraction)."""
    whole, part = divmod(value, 10**digits)
    text = f"{part:0{digits}d}".rstrip("0") if digits else ""
    return (f".{text}" if text else ""), whole


def format_nanoseconds(nanoseconds: int) -> str:
    """Go's Duration.String(): `0s`, `42ns`, `1.5µs`, `250ms`, `2.915s`, `5m0s`, `1h30m0s`."""
    magnitude = abs(nanoseconds)
    sign = "-" if nanoseconds < 0 else ""
    if magnitude == 0:
        return "0s"
    if magnitude < SECOND:
        if magnitude < 1_000:
            return f"{sign}{magnitude}ns"
        digits, unit = (3, "µs") if magnitude < 1_000_000 else (6, "ms")
        fraction, whole = _fraction(magnitude, digits)
        return f"{sign}{whole}{fraction}{unit}"
    fraction, seconds = _fraction(magnitude, 9)
    minutes, seconds = divmod(seconds, 60)
    text = f"{seconds}{fraction}s"
    if minutes:
        hours, minutes = divmod(minutes, 60)
        text = f"{minutes}m{text}"
        if hours:
            text = f"{hours}h{text}"
    return sign + text


def format_duration(seconds: float) -> str:
    """Go's Duration.String() of `seconds` (rounded to the nanosecond): `10s`, `1m20s`, `711ms`."""
    return format_nanoseconds(round(Decimal(str(seconds)) * SECOND))
