"""Cron schedules as robfig/cron/v3's `ParseStandard` reads them, for CronJob validation and the
CronJob controller alike.

Five fields (minute, hour, day of month, month, day of week) with names (`jan`, `mon`), ranges,
steps and lists; `@yearly`, `@annually`, `@monthly`, `@weekly`, `@daily`, `@midnight`, `@hourly`;
`@every <Go duration>`; and a `TZ=`/`CRON_TZ=` prefix naming the time zone. `parse_schedule`
raises ScheduleError with robfig's message; `schedule_error` gives only that message.

`Schedule.next` follows robfig's SpecSchedule.Next: when either day field is `*` both must match,
otherwise either; a time in an hour skipped by a daylight-saving change fires an hour later on the
wall clock (02:30 at 03:30), and a repeated hour runs once; the search gives up five years ahead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from clusters.objects.durations import SECOND, DurationError, parse_duration_nanoseconds
from clusters.objects.go_strconv import go_atoi

# robfig/cron gives up looking for the next time five years ahead.
SEARCH_YEARS = 5

_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTH_NAMES = {name: number for number, name in enumerate(_MONTHS, 1)}
_DOW_NAMES = {name: number for number, name in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))}
# (low, high, names) of minute, hour, day of month, month, day of week.
_FIELDS: tuple[tuple[int, int, dict[str, int] | None], ...] = (
    (0, 59, None),
    (0, 23, None),
    (1, 31, None),
    (1, 12, _MONTH_NAMES),
    (0, 6, _DOW_NAMES),
)
_DESCRIPTORS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_EVERY = "@every "


class ScheduleError(ValueError):
    """A schedule robfig/cron would not parse; str() is its message."""


@dataclass(frozen=True)
class Schedule:
    """A parsed cron schedule: `next(after)` is the first time strictly after `after` (None: never)."""

    minutes: frozenset[int] = frozenset()
    hours: frozenset[int] = frozenset()
    days: frozenset[int] = frozenset()
    months: frozenset[int] = frozenset()
    weekdays: frozenset[int] = frozenset()
    any_day: bool = False  # the day-of-month field was `*` (or `?`)
    any_weekday: bool = False
    zone: tzinfo = UTC
    every: timedelta | None = None

    def next(self, after: datetime) -> datetime | None:
        if self.every is not None:
            return after.replace(microsecond=0) + self.every
        local = after.astimezone(self.zone)
        day = local.date()
        for _ in range(366 * SEARCH_YEARS):
            if day.month in self.months and self._day_matches(day):
                for hour in sorted(self.hours):
                    for minute in sorted(self.minutes):
                        candidate = datetime(day.year, day.month, day.day, hour, minute, tzinfo=self.zone)
                        if candidate > after:
                            return candidate.astimezone(UTC)
            day += timedelta(days=1)
        return None

    def _day_matches(self, day: date) -> bool:
        in_month = day.day in self.days
        in_week = (day.isoweekday() % 7) in self.weekdays
        if self.any_day or self.any_weekday:
            return in_month and in_week
        return in_month or in_week


def time_zone(name: str) -> tzinfo | None:
    """The zone Go's time.LoadLocation finds for `name` (`""` and `UTC` are UTC), or None."""
    if name in ("", "UTC"):
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


def _number(text: str) -> int:
    """robfig's mustParseInt."""
    try:
        number = go_atoi(text)
    except ValueError as error:
        raise ScheduleError(f"failed to parse int from {text}: {error}") from None
    if number < 0:
        raise ScheduleError(f"negative number ({number}) not allowed: {text}")
    return number


def _number_or_name(text: str, names: dict[str, int] | None) -> int:
    if names and text.lower() in names:
        return names[text.lower()]
    return _number(text)


def _range(expr: str, low: int, high: int, names: dict[str, int] | None) -> tuple[range, bool]:
    """robfig's getRange: the values one `start-end/step` expression selects, and whether it
    counts as `*` (a star with no step above one)."""
    range_and_step = expr.split("/")
    low_and_high = range_and_step[0].split("-")
    star = low_and_high[0] in ("*", "?")
    if star:
        start, end = low, high
    else:
        start = _number_or_name(low_and_high[0], names)
        if len(low_and_high) == 1:
            end = start
        elif len(low_and_high) == 2:
            end = _number_or_name(low_and_high[1], names)
        else:
            raise ScheduleError(f"too many hyphens: {expr}")
    if len(range_and_step) == 1:
        step = 1
    elif len(range_and_step) == 2:
        step = _number(range_and_step[1])
        if len(low_and_high) == 1:
            end = high  # "N/step" means "N-max/step"
        star = star and step <= 1
    else:
        raise ScheduleError(f"too many slashes: {expr}")
    if start < low:
        raise ScheduleError(f"beginning of range ({start}) below minimum ({low}): {expr}")
    if end > high:
        raise ScheduleError(f"end of range ({end}) above maximum ({high}): {expr}")
    if start > end:
        raise ScheduleError(f"beginning of range ({start}) beyond end of range ({end}): {expr}")
    if step == 0:
        raise ScheduleError(f"step of range should be a positive number: {expr}")
    return range(start, end + 1, step), star


def _field(text: str, low: int, high: int, names: dict[str, int] | None) -> tuple[frozenset[int], bool]:
    values: set[int] = set()
    star = False
    for expr in filter(None, text.split(",")):
        selected, star_here = _range(expr, low, high, names)
        values.update(selected)
        star = star or star_here
    return frozenset(values), star


def parse_schedule(text: str, time_zone_name: str | None = None) -> Schedule:
    """robfig's ParseStandard. A `TZ=`/`CRON_TZ=` prefix names the zone; without one, the
    schedule runs in `time_zone_name` (the CronJob's `spec.timeZone`, as upstream's
    formatSchedule adds it) or UTC."""
    if time_zone_name and "TZ" not in text:
        text = f"TZ={time_zone_name} {text}"
    if not text:
        raise ScheduleError("empty spec string")
    zone: tzinfo = UTC
    if text.startswith(("TZ=", "CRON_TZ=")):
        space = text.find(" ")
        location = text[text.find("=") + 1 : space if space >= 0 else len(text)]
        found = time_zone(location)
        if found is None:
            raise ScheduleError(f"provided bad location {location}: unknown time zone {location}")
        zone = found
        text = text[space:].strip() if space >= 0 else ""
    if text.startswith(_EVERY):
        try:
            nanoseconds = parse_duration_nanoseconds(text[len(_EVERY) :])
        except DurationError as error:
            raise ScheduleError(f"failed to parse duration {text}: {error}") from None
        # robfig's Every: at least a second, whole seconds.
        return Schedule(zone=zone, every=timedelta(seconds=max(1, nanoseconds // SECOND)))
    if text.startswith("@"):
        if text not in _DESCRIPTORS:
            raise ScheduleError(f"unrecognized descriptor: {text}")
        text = _DESCRIPTORS[text]
    fields = text.split()
    if len(fields) != len(_FIELDS):
        raise ScheduleError(f"expected exactly 5 fields, found {len(fields)}: [{' '.join(fields)}]")
    parsed = [_field(part, *bounds) for part, bounds in zip(fields, _FIELDS, strict=True)]
    (minutes, _), (hours, _), (days, any_day), (months, _), (weekdays, any_weekday) = parsed
    return Schedule(minutes, hours, days, months, weekdays, any_day, any_weekday, zone)


def schedule_error(text: str) -> str | None:
    """robfig's ParseStandard error for a schedule, or None when it parses."""
    try:
        parse_schedule(text)
    except ScheduleError as error:
        return str(error)
    return None
