"""Property tests for the business-time engine (no database)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arende.sla.engine import (
    BusinessCalendar,
    add_business_time,
    business_time_between,
    swedish_calendar,
    weekdays,
)

STHLM = ZoneInfo("Europe/Stockholm")
CAL = swedish_calendar(range(2019, 2031))
ALWAYS = BusinessCalendar(always_open=True)
ROUND_THE_CLOCK = BusinessCalendar(
    weekly=weekdays("00:00-24:00", saturday=["00:00-24:00"], sunday=["00:00-24:00"])
)

PROPS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

instants = st.datetimes(
    min_value=datetime(2020, 1, 1),
    max_value=datetime(2028, 12, 31),
    timezones=st.sampled_from([UTC, STHLM]),
    allow_imaginary=False,
)


def _last_sunday(year: int, month: int) -> date:
    last = date(year, month, 31)
    return last - timedelta(days=(last.weekday() + 1) % 7)


# Instants within four days of a daylight-saving change in Europe/Stockholm.
dst_instants = st.builds(
    lambda year, month, micros: (
        datetime.combine(_last_sunday(year, month), time(0), STHLM).astimezone(UTC)
        + timedelta(microseconds=micros)
    ),
    st.integers(min_value=2020, max_value=2028),
    st.sampled_from([3, 10]),
    st.integers(min_value=-4 * 86_400_000_000, max_value=4 * 86_400_000_000),
)
instants = st.one_of(instants, dst_instants)
durations = st.one_of(
    st.integers(min_value=0, max_value=5 * 24 * 60).map(lambda m: timedelta(minutes=m)),
    st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=12)),
)
# Durations long enough to need several years of calendar.
long_durations = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=400))
calendars = st.sampled_from([CAL, ROUND_THE_CLOCK])


def reference_between(calendar: BusinessCalendar, a: datetime, b: datetime) -> timedelta:
    """Slow and obvious: walk the local dates, convert each interval with zoneinfo, clip."""
    a, b = a.astimezone(UTC), b.astimezone(UTC)
    total = timedelta(0)
    day = a.astimezone(STHLM).date() - timedelta(days=1)
    last = b.astimezone(STHLM).date() + timedelta(days=1)
    while day <= last:
        for start, end in calendar.hours_on(day):
            lo = datetime.combine(day, time(start // 3600, start % 3600 // 60), STHLM)
            if end == 86_400:
                hi = datetime.combine(day + timedelta(days=1), time(0), STHLM)
            else:
                hi = datetime.combine(day, time(end // 3600, end % 3600 // 60), STHLM)
            lo, hi = max(lo.astimezone(UTC), a), min(hi.astimezone(UTC), b)
            if hi > lo:
                total += hi - lo
        day += timedelta(days=1)
    return total


@PROPS
@given(calendars, instants, durations)
def test_between_inverts_add(calendar, a, d):
    assert business_time_between(calendar, a, add_business_time(calendar, a, d)) == d


@PROPS
@given(instants, long_durations)
def test_between_inverts_add_over_years(a, d):
    assert business_time_between(CAL, a, add_business_time(CAL, a, d)) == d


@PROPS
@given(calendars, instants, durations, durations)
def test_add_is_additive(calendar, a, x, y):
    assert add_business_time(calendar, add_business_time(calendar, a, x), y) == add_business_time(
        calendar, a, x + y
    )


@PROPS
@given(instants, durations, durations)
def test_add_is_monotonic_in_duration(a, x, y):
    small, large = sorted([x, y])
    assert a <= add_business_time(CAL, a, small) <= add_business_time(CAL, a, large)


@PROPS
@given(instants, instants, durations)
def test_add_is_monotonic_in_start(a, b, d):
    early, late = sorted([a, b], key=lambda x: x.astimezone(UTC))
    assert add_business_time(CAL, early, d) <= add_business_time(CAL, late, d)


@PROPS
@given(instants, st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=9)))
def test_between_matches_a_slow_reference(a, span):
    b = a.astimezone(UTC) + span
    assert business_time_between(CAL, a, b) == reference_between(CAL, a, b)


@PROPS
@given(instants, instants, instants)
def test_between_is_antisymmetric_and_additive(a, b, c):
    ab = business_time_between(CAL, a, b)
    assert business_time_between(CAL, b, a) == -ab
    assert ab + business_time_between(CAL, b, c) == business_time_between(CAL, a, c)


@PROPS
@given(instants, durations)
def test_results_are_utc(a, d):
    result = add_business_time(CAL, a, d)
    assert result.utcoffset() == timedelta(0)
    assert result.tzinfo is UTC


# --- nothing is counted while closed ----------------------------------------------------------


def _days(first: date, last: date):
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


ALL_DAYS = list(_days(date(2020, 1, 1), date(2028, 12, 31)))
CLOSED_DAYS = [d for d in ALL_DAYS if d.weekday() >= 5 or d in CAL.closed_dates]
HOLIDAYS_ON_WEEKDAYS = [d for d in CLOSED_DAYS if d.weekday() < 5]
NORMAL_DAYS = [
    d for d in ALL_DAYS if CAL.hours_on(d) == CAL.weekly[d.weekday()] and d.weekday() < 5
]
SHORTENED_DAYS = [d for d, _ in CAL.special_hours if date(2020, 1, 1) <= d <= date(2028, 12, 31)]


def _instants_within(day: date, start: time, end: time | None):
    """Pairs of instants in [start, end) local time on `day` (end None: midnight)."""
    lo = datetime.combine(day, start, STHLM).astimezone(UTC)
    if end is None:
        hi = datetime.combine(day + timedelta(days=1), time(0), STHLM).astimezone(UTC)
    else:
        hi = datetime.combine(day, end, STHLM).astimezone(UTC)
    seconds = int((hi - lo).total_seconds())
    offsets = st.integers(min_value=0, max_value=seconds * 1_000_000 - 1)
    return st.tuples(offsets, offsets).map(
        lambda p: tuple(lo + timedelta(microseconds=x) for x in sorted(p))
    )


closed_periods = st.one_of(
    st.sampled_from(CLOSED_DAYS).flatmap(lambda d: _instants_within(d, time(0), None)),
    st.sampled_from(NORMAL_DAYS).flatmap(lambda d: _instants_within(d, time(12), time(13))),
    st.sampled_from(NORMAL_DAYS).flatmap(lambda d: _instants_within(d, time(0), time(8))),
    st.sampled_from(NORMAL_DAYS).flatmap(lambda d: _instants_within(d, time(16, 30), None)),
    st.sampled_from(SHORTENED_DAYS).flatmap(lambda d: _instants_within(d, time(12), None)),
)


@PROPS
@given(closed_periods)
def test_no_time_is_counted_while_closed(period):
    a, b = period
    assert business_time_between(CAL, a, b) == timedelta(0)


@PROPS
@given(st.sampled_from(HOLIDAYS_ON_WEEKDAYS))
def test_a_weekday_holiday_or_eve_counts_nothing(day):
    a = datetime.combine(day, time(0), STHLM)
    b = datetime.combine(day + timedelta(days=1), time(0), STHLM)
    assert business_time_between(CAL, a, b) == timedelta(0)


@PROPS
@given(st.sampled_from(NORMAL_DAYS))
def test_a_normal_day_counts_seven_and_a_half_hours(day):
    a = datetime.combine(day, time(0), STHLM)
    b = datetime.combine(day + timedelta(days=1), time(0), STHLM)
    assert business_time_between(CAL, a, b) == timedelta(hours=7, minutes=30)


@PROPS
@given(instants, durations)
def test_deadlines_land_right_after_business_time(a, d):
    """The deadline is the earliest instant: the moment just before it is open."""
    result = add_business_time(CAL, a, d)
    if d > timedelta(0):
        tick = timedelta(microseconds=1)
        assert business_time_between(CAL, result - tick, result) == tick


# --- 24/7 -------------------------------------------------------------------------------------


@PROPS
@given(st.sampled_from([ALWAYS, ROUND_THE_CLOCK]), instants, durations)
def test_round_the_clock_is_plain_arithmetic(calendar, a, d):
    utc = a.astimezone(UTC)  # elapsed time: never wall-clock arithmetic across DST
    assert add_business_time(calendar, a, d) == utc + d
    assert business_time_between(calendar, a, utc + d) == d


@PROPS
@given(st.sampled_from([ALWAYS, ROUND_THE_CLOCK]), instants, instants)
def test_round_the_clock_between_is_elapsed_time(calendar, a, b):
    assert business_time_between(calendar, a, b) == b.astimezone(UTC) - a.astimezone(UTC)
