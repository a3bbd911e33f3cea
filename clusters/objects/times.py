"""RFC 3339 times as objects carry them: `metav1.Time` (`2026-01-02T03:04:05Z`, UTC, whole
seconds), `metav1.MicroTime` (six fraction digits), Go's `time.RFC3339` in a zone (`+09:00`).

`format_time`, `format_micro_time` and `format_time_in` write them. `parse_time` reads what the
API and our own records hold (`Z` or an offset, any fraction; a time without an offset is taken
as UTC) and returns an aware UTC datetime, or None for nothing or something unreadable.
`rfc3339_error` is the decoder's strict check, worded as Go's `time.Parse` words its refusal.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, tzinfo

from clusters.objects.go_strconv import go_quote

_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")


def _utc(moment: datetime) -> datetime:
    """`moment` in UTC; a naive datetime is taken to be UTC already."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _clock(moment: datetime) -> str:
    # Written out rather than with strftime, whose %Y does not pad years before 1000 as Go does.
    return (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}"
        f"T{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}"
    )


def format_time(moment: datetime) -> str:
    """`metav1.Time`: `moment` in UTC, whole seconds (the fraction dropped), `Z`."""
    return _clock(_utc(moment)) + "Z"


def format_micro_time(moment: datetime) -> str:
    """`metav1.MicroTime`: `moment` in UTC with six fraction digits, `Z` (`…05.123456Z`)."""
    utc = _utc(moment)
    return f"{_clock(utc)}.{utc.microsecond:06d}Z"


def format_time_in(moment: datetime, zone: tzinfo) -> str:
    """Go's time.RFC3339 of `moment` in `zone`: `Z` for a zero offset, else `+09:00`."""
    local = moment.astimezone(zone)
    offset = local.utcoffset() or timedelta(0)
    text = _clock(local)
    if not offset:
        return text + "Z"
    sign, offset = ("+", offset) if offset >= timedelta(0) else ("-", -offset)
    hours, minutes = divmod(int(offset.total_seconds()) // 60, 60)
    return f"{text}{sign}{hours:02d}:{minutes:02d}"


def parse_time(text: str | None) -> datetime | None:
    """An RFC 3339 time (`2026-01-02T03:04:05Z`, `…05.123456+09:00`) as an aware UTC datetime;
    None when absent (Go's zero time) or unreadable."""
    if not text:
        return None
    try:
        return _utc(datetime.fromisoformat(text.upper()))  # RFC 3339 allows a lower-case `t` and `z`
    except ValueError:
        return None


def rfc3339_error(text: str) -> str | None:
    """Go's time.Parse(time.RFC3339) refusal of `text`, as `metav1.Time`'s decoder reports it, or None."""
    candidate = text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text
    try:
        if not _RFC3339.fullmatch(text):
            raise ValueError(text)
        datetime.fromisoformat(candidate.replace("t", "T"))
    except ValueError:
        return f'parsing time {go_quote(text)} as "2006-01-02T15:04:05Z07:00": cannot parse {go_quote(text)} as "2006"'
    return None
