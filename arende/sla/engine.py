"""Business-time arithmetic for SLA clocks: pure functions, no database.

A `BusinessCalendar` says when the service desk is open, in local wall-clock time of its time
zone (Europe/Stockholm by default): a weekly schedule with any number of intervals per weekday
(a lunch break is simply a gap between two intervals), closed dates, per-date special hours, or
open around the clock (`always_open`).

The two operations:

- `add_business_time(calendar, start, duration)`: the earliest instant at which `duration` of
  business time has passed since `start`. A duration of zero returns `start` (in UTC) unchanged,
  even outside opening hours; a deadline that uses up a day's last second lands on the closing
  time (16:30), not on the next opening. Negative durations raise `ValueError`.
- `business_time_between(calendar, a, b)`: the business time in [a, b). For b < a it returns
  `-business_time_between(calendar, b, a)`, so the result is antisymmetric.

Both take aware datetimes (naive ones raise `ValueError`) and return aware UTC datetimes or
timedeltas, exact to the microsecond. Wall-clock intervals are converted to UTC day by day with
zoneinfo, so a day on which daylight saving time changes outside opening hours still has its full
8.5 hours, and an interval that spans the change has its real elapsed length. A wall-clock
boundary that falls in the spring-forward gap maps to the instant of the change; one in the
repeated autumn hour maps to its first occurrence.

Speed: open intervals are precomputed per calendar and local year as sorted epoch-microsecond
tuples with cumulative business time (LRU-cached), so both operations are a couple of bisections.
"""

from __future__ import annotations

import bisect
import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

__all__ = [
    "DEFAULT_SHORTENED_DAYS",
    "OFFICE_HOURS",
    "BusinessCalendar",
    "add_business_time",
    "add_business_us",
    "business_time_between",
    "business_us_between",
    "day_intervals",
    "from_epoch_us",
    "hours",
    "swedish_calendar",
    "to_epoch_us",
    "weekdays",
]

DAY = 86_400
_US = 1_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)

Interval = tuple[int, int]
"""Seconds after local midnight, 0 <= start < end <= 86 400 (86 400 is 24:00)."""
DayHours = tuple[Interval, ...]
WeeklySchedule = tuple[DayHours, DayHours, DayHours, DayHours, DayHours, DayHours, DayHours]


def _parse_clock(text: str) -> int:
    hh, _, mm = text.strip().partition(":")
    seconds = int(hh) * 3600 + int(mm or 0) * 60
    if not 0 <= seconds <= DAY:
        raise ValueError(f"Ogiltig tid: {text!r}")
    return seconds


def _clock(value: str | time | int) -> int:
    if isinstance(value, time):
        return value.hour * 3600 + value.minute * 60 + value.second
    if isinstance(value, int):
        return value
    return _parse_clock(value)


def _normalise_day(spans: Iterable[str | tuple]) -> DayHours:
    """Sorted, merged, validated intervals from "08:00-12:00" strings or (start, end) pairs."""
    if isinstance(spans, str):
        spans = (spans,)
    out: list[list[int]] = []
    parsed = []
    for span in spans:
        if isinstance(span, str):
            start_text, sep, end_text = span.replace("–", "-").partition("-")
            if not sep:
                raise ValueError(f"Ogiltigt intervall: {span!r}")
            start, end = _parse_clock(start_text), _parse_clock(end_text)
        else:
            start, end = (_clock(v) for v in span)
        if not 0 <= start < end <= DAY:
            raise ValueError(f"Ogiltigt intervall: {span!r}")
        parsed.append((start, end))
    for start, end in sorted(parsed):
        if out and start <= out[-1][1]:
            out[-1][1] = max(out[-1][1], end)
        else:
            out.append([start, end])
    return tuple((s, e) for s, e in out)


def hours(*spans: str | tuple) -> DayHours:
    """One day's opening hours: `hours("08:00-12:00", "13:00-16:30")`; `hours()` is closed."""
    return _normalise_day(spans)


def weekdays(*spans: str | tuple, saturday: Iterable = (), sunday: Iterable = ()) -> WeeklySchedule:
    """A weekly schedule with the same hours Monday to Friday (weekend closed unless given)."""
    day = _normalise_day(spans)
    return (day, day, day, day, day, _normalise_day(saturday), _normalise_day(sunday))


OFFICE_HOURS: WeeklySchedule = weekdays("08:00-12:00", "13:00-16:30")


@dataclass(frozen=True)
class BusinessCalendar:
    """When the service desk is open, in local wall-clock time of `tz`.

    `weekly` has seven entries, Monday first. `special_hours` (a mapping or pairs of date and
    hours) replaces the weekly hours on that date and wins over `closed_dates`. With
    `always_open` the calendar is 24/7 and everything else is ignored.
    """

    weekly: WeeklySchedule = OFFICE_HOURS
    closed_dates: frozenset[date] = frozenset()
    special_hours: tuple[tuple[date, DayHours], ...] = ()
    tz: str = "Europe/Stockholm"
    always_open: bool = False
    name: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        weekly = tuple(_normalise_day(day) for day in self.weekly)
        if len(weekly) != 7:
            raise ValueError("Veckoschemat måste ha sju dagar (måndag först).")
        special = self.special_hours
        pairs = special.items() if isinstance(special, Mapping) else special
        special_t = tuple(sorted((d, _normalise_day(h)) for d, h in pairs))
        object.__setattr__(self, "weekly", weekly)
        object.__setattr__(self, "closed_dates", frozenset(self.closed_dates))
        object.__setattr__(self, "special_hours", special_t)
        object.__setattr__(self, "_zone", ZoneInfo(self.tz))
        object.__setattr__(self, "_special", dict(special_t))
        object.__setattr__(self, "_blocks", {})
        object.__setattr__(
            self,
            "_hash",
            hash((weekly, self.closed_dates, special_t, self.tz, self.always_open)),
        )

    def __hash__(self) -> int:  # cached: the LRU caches hash the calendar on every call
        return self._hash

    def hours_on(self, day: date) -> DayHours:
        """Opening hours (local wall clock) on a date."""
        if self.always_open:
            return ((0, DAY),)
        special = self._special.get(day)
        if special is not None:
            return special
        if day in self.closed_dates:
            return ()
        return self.weekly[day.weekday()]


def _wall_to_epoch(zone: ZoneInfo, day: date, seconds: int) -> int:
    """Epoch seconds of a local wall-clock time; gap times map to the DST change itself."""
    if seconds >= DAY:
        day, seconds = day + timedelta(days=1), seconds - DAY
    hh, rest = divmod(seconds, 3600)
    local = datetime(day.year, day.month, day.day, hh, rest // 60, rest % 60, tzinfo=zone)
    first = int(local.timestamp())  # fold=0: the earlier offset; first occurrence if repeated
    second = int(local.replace(fold=1).timestamp())
    if second >= first:  # normal time, or the repeated autumn hour
        return first
    # Spring-forward gap: the change happens somewhere in (second, first]; find it.
    offset_after = local.replace(fold=1).utcoffset()
    lo, hi = second, first
    while lo + 1 < hi:
        mid = (lo + hi) // 2
        if datetime.fromtimestamp(mid, zone).utcoffset() == offset_after:
            hi = mid
        else:
            lo = mid
    return hi


@functools.lru_cache(maxsize=8192)
def day_intervals(calendar: BusinessCalendar, day: date) -> tuple[tuple[int, int], ...]:
    """The open intervals of a local date as (start, end) epoch seconds, sorted, non-empty."""
    zone = calendar._zone
    out: list[tuple[int, int]] = []
    previous = None
    for start, end in calendar.hours_on(day):
        s = _wall_to_epoch(zone, day, start)
        e = _wall_to_epoch(zone, day, end)
        if previous is not None:
            s = max(s, previous)
        if e > s:
            out.append((s, e))
            previous = e
    return tuple(out)


@dataclass(frozen=True, slots=True)
class _Block:
    """One local year: open intervals in epoch microseconds with cumulative business time."""

    lo: int  # local 1 January 00:00
    hi: int  # local 1 January 00:00 of the next year
    starts: tuple[int, ...]
    cum: tuple[int, ...]  # business time before each interval, from `lo`
    cum_end: tuple[int, ...]  # business time up to each interval's end
    total: int

    def offset(self, t: int) -> int:
        """Business microseconds in [lo, t)."""
        i = bisect.bisect_right(self.starts, t) - 1
        if i < 0:
            return 0
        return min(self.cum[i] + t - self.starts[i], self.cum_end[i])


@functools.lru_cache(maxsize=512)
def _block(calendar: BusinessCalendar, year: int) -> _Block:
    zone = calendar._zone
    lo = _wall_to_epoch(zone, date(year, 1, 1), 0) * _US
    hi = _wall_to_epoch(zone, date(year + 1, 1, 1), 0) * _US
    starts: list[int] = []
    cum: list[int] = []
    cum_end: list[int] = []
    total = 0
    previous_end = None
    day = date(year, 1, 1)
    one = timedelta(days=1)
    while day.year == year:
        for s, e in day_intervals(calendar, day):
            if s * _US == previous_end:  # merge across midnight (24/7-like days)
                total += (e - s) * _US
                cum_end[-1] = total
            else:
                starts.append(s * _US)
                cum.append(total)
                total += (e - s) * _US
                cum_end.append(total)
            previous_end = e * _US
        day += one
    return _Block(lo, hi, tuple(starts), tuple(cum), tuple(cum_end), total)


def _year_of(calendar: BusinessCalendar, t: int) -> tuple[int, _Block]:
    blocks = calendar._blocks  # per-instance front for the LRU cache: no hashing on a hit
    year = 1970 + (t // (DAY * _US)) * 400 // 146_097
    block = blocks.get(year)
    if block is not None and block.lo <= t < block.hi:
        return year, block
    year, block = _find_year(calendar, t, year)
    if len(blocks) >= 64:
        blocks.clear()
    blocks[year] = block
    return year, block


def _find_year(calendar: BusinessCalendar, t: int, year: int) -> tuple[int, _Block]:
    block = _block(calendar, year)
    while t < block.lo:
        year -= 1
        block = _block(calendar, year)
    while t >= block.hi:
        year += 1
        block = _block(calendar, year)
    return year, block


def _to_us(dt: datetime) -> int:
    try:
        delta = dt - _EPOCH
    except TypeError:
        raise ValueError("Tidpunkten måste ha tidszon (aware datetime).") from None
    return (delta.days * DAY + delta.seconds) * _US + delta.microseconds


def _from_us(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=us)


to_epoch_us = _to_us  # aware datetime -> epoch microseconds (naive raises ValueError)
from_epoch_us = _from_us  # epoch microseconds -> aware datetime in UTC


_MAX_EMPTY_YEARS = 30


def add_business_time(calendar: BusinessCalendar, start: datetime, duration: timedelta) -> datetime:
    """The earliest instant at which `duration` of business time has passed since `start`.

    Returns an aware datetime in UTC. Zero returns `start`; negative raises `ValueError`.
    """
    d = (duration.days * DAY + duration.seconds) * _US + duration.microseconds
    return _from_us(add_business_us(calendar, _to_us(start), d))


def add_business_us(calendar: BusinessCalendar, t: int, d: int) -> int:
    """`add_business_time` in epoch microseconds, for callers that count in them."""
    if d <= 0 or calendar.always_open:
        if d < 0:
            raise ValueError("Varaktigheten får inte vara negativ.")
        return t + d
    year, block = _year_of(calendar, t)
    target = block.offset(t) + d
    empty = 0
    while target > block.total:
        target -= block.total
        empty = empty + 1 if block.total == 0 else 0
        if empty > _MAX_EMPTY_YEARS:
            raise ValueError("Kalendern har ingen öppettid.")
        year += 1
        block = _block(calendar, year)
    j = bisect.bisect_left(block.cum_end, target)
    return block.starts[j] + target - block.cum[j]


def business_time_between(calendar: BusinessCalendar, a: datetime, b: datetime) -> timedelta:
    """Business time in [a, b); for b < a the negative of `business_time_between(b, a)`."""
    return timedelta(microseconds=business_us_between(calendar, _to_us(a), _to_us(b)))


def business_us_between(calendar: BusinessCalendar, ta: int, tb: int) -> int:
    """`business_time_between` in epoch microseconds."""
    if calendar.always_open:
        return tb - ta
    sign = 1
    if tb < ta:
        ta, tb, sign = tb, ta, -1
    ya, block_a = _year_of(calendar, ta)
    if tb < block_a.hi:
        us = block_a.offset(tb) - block_a.offset(ta)
    else:
        yb, block_b = _year_of(calendar, tb)
        us = block_a.total - block_a.offset(ta) + block_b.offset(tb)
        for year in range(ya + 1, yb):
            us += _block(calendar, year).total
    return sign * us


# --- Swedish calendars ------------------------------------------------------------------------


def _easter(year: int) -> date:
    """Gregorian Easter Sunday (anonymous algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    ll = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * ll) // 451
    month, day = divmod(h + ll - 7 * m + 114, 31)
    return date(year, month, day + 1)


def _friday_between(year: int, month: int, first: int) -> date:
    """The Friday in the seven days from `first`."""
    start = date(year, month, first)
    return start + timedelta(days=(4 - start.weekday()) % 7)


def _public_holidays(years: Iterable[int]) -> dict[date, str]:
    """Swedish public holidays from the `holidays` package, without plain Sundays.

    Some versions of the package list every Sunday as a holiday in the SE calendar (by default,
    or with `include_sundays=True`); 0.109 does not by default. We ask for no Sundays where the
    package supports it and drop any name part that only says Sunday either way, so a Sunday
    that is a real holiday (påskdagen, pingstdagen) stays and ordinary Sundays go.
    """
    import holidays

    years = list(years)
    try:
        found = holidays.country_holidays("SE", years=years, language="sv", include_sundays=False)
    except TypeError:  # older package versions
        found = holidays.country_holidays("SE", years=years)
    out: dict[date, str] = {}
    for day, name in found.items():
        parts = [p.strip() for p in name.replace(",", ";").split(";")]
        parts = [p for p in parts if p and p.casefold() not in {"söndag", "sunday"}]
        if parts:
            out[day] = "; ".join(parts)
    return out


def _eves(year: int) -> dict[date, str]:
    """The days the municipality treats as closed although they are not public holidays."""
    return {
        _friday_between(year, 6, 19): "Midsommarafton",
        date(year, 12, 24): "Julafton",
        date(year, 12, 31): "Nyårsafton",
    }


def _shortened_candidates(year: int) -> dict[str, date]:
    easter = _easter(year)
    return {
        "trettondagsafton": date(year, 1, 5),
        "skärtorsdagen": easter - timedelta(days=3),
        "valborgsmässoafton": date(year, 4, 30),
        "dagen före Kristi himmelsfärdsdag": easter + timedelta(days=38),
        "dagen före nationaldagen": date(year, 6, 5),
        "allhelgonaafton": _friday_between(year, 10, 30),
    }


DEFAULT_SHORTENED_DAYS: Mapping[str, str] = {
    "trettondagsafton": "12:00",
    "skärtorsdagen": "12:00",
    "valborgsmässoafton": "12:00",
    "dagen före Kristi himmelsfärdsdag": "12:00",
    "allhelgonaafton": "12:00",
}
"""Days before a holiday with shortened hours: name (or a date) -> closing time."""


def _clip(day_hours: DayHours, closing: int) -> DayHours:
    return tuple((s, min(e, closing)) for s, e in day_hours if s < closing)


def swedish_calendar(
    years: Iterable[int],
    *,
    schedule: WeeklySchedule = OFFICE_HOURS,
    closed_eves: bool = True,
    shortened_days: Mapping[str | date, str | time] = DEFAULT_SHORTENED_DAYS,
    closed_dates: Iterable[date] = (),
    special_hours: Mapping[date, Iterable] | None = None,
    tz: str = "Europe/Stockholm",
    name: str = "",
) -> BusinessCalendar:
    """A Swedish municipal calendar for `years`.

    Closed on the public holidays (from the `holidays` package) and, with `closed_eves`, on
    julafton, midsommarafton and nyårsafton. `shortened_days` maps the name of a day before a
    holiday (see `DEFAULT_SHORTENED_DAYS`; also "dagen före nationaldagen") or a date to its
    closing time; the weekly hours of that day are cut there, so a lunch break still applies.
    A shortened day that is closed anyway stays closed. `closed_dates` and `special_hours` add
    one-off exceptions (special hours win). Dates outside `years` follow the weekly schedule.
    """
    years = sorted(set(years))
    closed: set[date] = set(_public_holidays(years))
    if closed_eves:
        for year in years:
            closed.update(_eves(year))
    closed.update(closed_dates)
    special: dict[date, DayHours] = {}
    weekly = tuple(_normalise_day(day) for day in schedule)
    named = {key: value for key, value in shortened_days.items() if isinstance(key, str)}
    unknown = set(named) - set(_shortened_candidates(2000))
    if unknown:
        raise ValueError(f"Okända förkortade dagar: {sorted(unknown)}")
    for year in years:
        for key, day in _shortened_candidates(year).items():
            if key in named and day not in closed:
                special[day] = _clip(weekly[day.weekday()], _clock(named[key]))
    for key, value in shortened_days.items():
        if isinstance(key, date) and key not in closed:
            special[key] = _clip(weekly[key.weekday()], _clock(value))
    for day, day_hours in (special_hours or {}).items():
        special[day] = _normalise_day(day_hours)
    return BusinessCalendar(
        weekly=weekly,
        closed_dates=frozenset(closed),
        special_hours=tuple(special.items()),
        tz=tz,
        name=name,
    )
