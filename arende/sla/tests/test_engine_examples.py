"""Dated examples for the business-time engine: the tricky days of 2021-2027 (no database).

The municipal calendar used here is open Monday to Friday 08:00-12:00 and 13:00-16:30
(7.5 hours a day), closed on Swedish public holidays and on julafton, midsommarafton and
nyårsafton, and closes at 12:00 on the default shortened days (trettondagsafton, skärtorsdagen,
valborgsmässoafton, the day before Kristi himmelsfärdsdag, allhelgonaafton).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from arende.sla.engine import (
    BusinessCalendar,
    add_business_time,
    business_time_between,
    day_intervals,
    hours,
    swedish_calendar,
    weekdays,
)
from arende.sla.engine import _public_holidays as public_holidays

STHLM = ZoneInfo("Europe/Stockholm")
CAL = swedish_calendar(range(2020, 2029))
NO_LUNCH = swedish_calendar(range(2020, 2029), schedule=weekdays("08:00-16:30"))
EVERY_DAY = BusinessCalendar(
    weekly=weekdays("08:00-16:30", saturday=["08:00-16:30"], sunday=["08:00-16:30"])
)
ROUND_THE_CLOCK = BusinessCalendar(
    weekly=weekdays("00:00-24:00", saturday=["00:00-24:00"], sunday=["00:00-24:00"])
)
ALWAYS = BusinessCalendar(always_open=True)


def local(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=STHLM)


def deadline(calendar, start: datetime, **duration) -> datetime:
    return add_business_time(calendar, start, timedelta(**duration))


def between(calendar, a: datetime, b: datetime) -> timedelta:
    return business_time_between(calendar, a, b)


def last_sunday(year: int, month: int) -> date:
    last = date(year, month, 31)
    return last - timedelta(days=(last.weekday() + 1) % 7)


# --- daylight saving time ---------------------------------------------------------------------


@pytest.mark.parametrize("year", range(2021, 2028))
@pytest.mark.parametrize("month", [3, 10])
def test_dst_sunday_outside_hours_counts_a_full_day(year, month):
    sunday = last_sunday(year, month)
    start = datetime.combine(sunday, time(0), STHLM)
    end = datetime.combine(sunday + timedelta(days=1), time(0), STHLM)
    assert between(EVERY_DAY, start, end) == timedelta(hours=8, minutes=30)
    assert deadline(EVERY_DAY, start, hours=8, minutes=30) == datetime.combine(
        sunday, time(16, 30), STHLM
    )
    # Around the clock the day has its real length: 23 hours in March, 25 in October.
    assert between(ROUND_THE_CLOCK, start, end) == timedelta(hours=23 if month == 3 else 25)
    assert between(ALWAYS, start, end) == timedelta(hours=23 if month == 3 else 25)


@pytest.mark.parametrize(
    ("friday", "monday"),
    [
        # Last Sunday of March (Easter 2024 and 2027 fall on it: see the Easter tests).
        (date(2021, 3, 26), date(2021, 3, 29)),
        (date(2022, 3, 25), date(2022, 3, 28)),
        (date(2023, 3, 24), date(2023, 3, 27)),
        (date(2025, 3, 28), date(2025, 3, 31)),
        (date(2026, 3, 27), date(2026, 3, 30)),
        # Last Sunday of October.
        (date(2021, 10, 29), date(2021, 11, 1)),
        (date(2022, 10, 28), date(2022, 10, 31)),
        (date(2023, 10, 27), date(2023, 10, 30)),
        (date(2024, 10, 25), date(2024, 10, 28)),
        (date(2025, 10, 24), date(2025, 10, 27)),
        (date(2026, 10, 23), date(2026, 10, 26)),
        (date(2027, 10, 29), date(2027, 11, 1)),
    ],
)
def test_deadline_across_a_dst_weekend_is_exact(friday, monday):
    start = datetime.combine(friday, time(15), STHLM)
    due = deadline(CAL, start, hours=2)
    assert due == datetime.combine(monday, time(8, 30), STHLM)
    spring = friday.month == 3
    assert due.utcoffset() == timedelta(0)
    assert due.hour == (6 if spring else 7) and due.minute == 30
    assert between(CAL, start, due) == timedelta(hours=2)
    # The whole weekend, midnight to midnight, counts Friday afternoon and Monday morning only.
    assert between(
        CAL, datetime.combine(friday, time(12), STHLM), datetime.combine(monday, time(12), STHLM)
    ) == timedelta(hours=7, minutes=30)


# --- holidays ---------------------------------------------------------------------------------


def test_easter_2024_on_the_dst_sunday_with_shortened_skartorsdag():
    # Skärtorsdagen 28 March closes at 12:00; långfredagen, påskdagen (DST change) and annandag
    # påsk are closed.
    assert deadline(CAL, local(2024, 3, 28, 10), hours=4) == local(2024, 4, 2, 10)
    assert deadline(CAL, local(2024, 3, 28, 10), hours=2) == local(2024, 3, 28, 12)
    assert between(CAL, local(2024, 3, 28, 12), local(2024, 4, 2, 8)) == timedelta(0)
    full_day = swedish_calendar([2024], shortened_days={})
    assert deadline(full_day, local(2024, 3, 28, 10), hours=4) == local(2024, 3, 28, 15)


def test_easter_2027_on_the_dst_sunday():
    # Långfredagen 26 March, påskdagen 28 March (DST change), annandag påsk 29 March.
    assert deadline(CAL, local(2027, 3, 25, 11), hours=2) == local(2027, 3, 30, 9)
    assert between(CAL, local(2027, 3, 26), local(2027, 3, 30)) == timedelta(0)


@pytest.mark.parametrize(
    ("skartorsdag", "tuesday"),
    [
        (date(2021, 4, 1), date(2021, 4, 6)),
        (date(2022, 4, 14), date(2022, 4, 19)),
        (date(2023, 4, 6), date(2023, 4, 11)),
        (date(2025, 4, 17), date(2025, 4, 22)),
        (date(2026, 4, 2), date(2026, 4, 7)),
    ],
)
def test_easter_langfredag_to_annandag_pask(skartorsdag, tuesday):
    start = datetime.combine(skartorsdag, time(11), STHLM)
    assert deadline(CAL, start, hours=2) == datetime.combine(tuesday, time(9), STHLM)
    assert deadline(CAL, start, hours=1) == datetime.combine(skartorsdag, time(12), STHLM)


def test_midsommarafton_is_closed():
    # 2025: midsommarafton Friday 20 June, midsommardagen Saturday 21 June.
    assert deadline(CAL, local(2025, 6, 19, 16), hours=1) == local(2025, 6, 23, 8, 30)
    assert between(CAL, local(2025, 6, 20), local(2025, 6, 21)) == timedelta(0)
    with_eve_open = swedish_calendar([2025], closed_eves=False)
    assert deadline(with_eve_open, local(2025, 6, 19, 16), hours=1) == local(2025, 6, 20, 8, 30)


def test_julafton_to_annandag_jul():
    # 2025: julafton Wednesday, juldagen Thursday, annandag jul Friday.
    assert deadline(CAL, local(2025, 12, 23, 16), hours=1) == local(2025, 12, 29, 8, 30)
    assert between(CAL, local(2025, 12, 23, 16, 30), local(2025, 12, 29, 8)) == timedelta(0)
    # 2024: julafton Tuesday, annandag Thursday; Friday 27 December is open.
    assert deadline(CAL, local(2024, 12, 23, 16), hours=1) == local(2024, 12, 27, 8, 30)


def test_nyarsafton_and_nyarsdagen_across_the_year_boundary():
    # 2025-12-31 Wednesday (nyårsafton), 2026-01-01 Thursday (nyårsdagen).
    start = local(2025, 12, 30, 16)
    assert deadline(CAL, start, hours=1) == local(2026, 1, 2, 8, 30)
    assert between(CAL, start, local(2026, 1, 2, 8, 30)) == timedelta(hours=1)
    # 2021-12-31 Friday and 2022-01-01 Saturday: open again on Monday 3 January.
    assert deadline(CAL, local(2021, 12, 30, 16), hours=1) == local(2022, 1, 3, 8, 30)


def test_trettondedag_jul_and_shortened_trettondagsafton():
    # 2026: trettondagsafton Monday 5 January closes at 12:00, trettondedag jul Tuesday.
    assert deadline(CAL, local(2026, 1, 5, 11), hours=2) == local(2026, 1, 7, 9)
    # 2027: trettondedag jul Wednesday.
    assert deadline(CAL, local(2027, 1, 5, 11), hours=1) == local(2027, 1, 5, 12)
    assert deadline(CAL, local(2027, 1, 5, 11), hours=2) == local(2027, 1, 7, 9)


def test_kristi_himmelsfard():
    # 2026: Kristi himmelsfärdsdag Thursday 14 May, the day before closes at 12:00.
    assert deadline(CAL, local(2026, 5, 13, 11, 30), hours=1) == local(2026, 5, 15, 8, 30)
    # 2021: Thursday 13 May.
    assert deadline(CAL, local(2021, 5, 12, 11), hours=2) == local(2021, 5, 14, 9)


def test_nationaldagen():
    # 2025: Friday 6 June; 2024: Thursday 6 June. The day before has normal hours.
    assert deadline(CAL, local(2025, 6, 5, 16), hours=1) == local(2025, 6, 9, 8, 30)
    assert deadline(CAL, local(2024, 6, 5, 16), hours=1) == local(2024, 6, 7, 8, 30)
    # 2021 and 2027: a Sunday, no effect on Monday 7 June.
    assert deadline(CAL, local(2021, 6, 4, 16), hours=1) == local(2021, 6, 7, 8, 30)


def test_alla_helgons_dag_on_a_saturday_has_no_effect():
    # 2025: alla helgons dag Saturday 1 November; allhelgonaafton Friday 31 October is shortened.
    assert date(2025, 11, 1) in CAL.closed_dates
    assert between(CAL, local(2025, 11, 1), local(2025, 11, 3)) == timedelta(0)
    assert deadline(CAL, local(2025, 10, 31, 11), hours=2) == local(2025, 11, 3, 9)
    full_day = swedish_calendar([2025], shortened_days={})
    assert deadline(full_day, local(2025, 10, 31, 11), hours=2) == local(2025, 10, 31, 14)
    no_holidays = BusinessCalendar()
    assert deadline(no_holidays, local(2025, 10, 31, 11), hours=2) == local(2025, 10, 31, 14)


def test_shortened_day_before_a_holiday_at_15():
    calendar = swedish_calendar([2025], shortened_days={"valborgsmässoafton": "15:00"})
    # 2025: valborgsmässoafton Wednesday 30 April, första maj Thursday.
    assert between(calendar, local(2025, 4, 30), local(2025, 5, 1)) == timedelta(hours=6)
    assert deadline(calendar, local(2025, 4, 30, 14), hours=2) == local(2025, 5, 2, 9)
    by_date = swedish_calendar([2025], shortened_days={date(2025, 5, 2): "12:00"})
    assert between(by_date, local(2025, 5, 2), local(2025, 5, 3)) == timedelta(hours=4)


@pytest.mark.parametrize("year", range(2021, 2028))
def test_public_holidays_are_the_named_ones_without_plain_sundays(year):
    found = public_holidays([year])
    assert len(found) == 13
    assert "Söndag" not in found.values()
    sundays = {d for d in found if d.weekday() == 6}
    assert {found[d] for d in sundays} <= {
        "Påskdagen",
        "Pingstdagen",
        "Nyårsdagen",
        "Trettondedag jul",
        "Första maj",
        "Nationaldagen",
        "Juldagen",
        "Annandag jul",
    }
    closed = {d for d in CAL.closed_dates if d.year == year}
    assert closed == set(found) | {
        date(year, 12, 24),
        date(year, 12, 31),
        next(d for d in (date(year, 6, 19) + timedelta(n) for n in range(7)) if d.weekday() == 4),
    }


# --- the working day --------------------------------------------------------------------------


def test_lunch_break():
    tuesday = (2025, 3, 11)
    assert deadline(CAL, local(*tuesday, 11, 30), hours=1) == local(*tuesday, 13, 30)
    assert deadline(CAL, local(*tuesday, 12, 15), minutes=30) == local(*tuesday, 13, 30)
    assert deadline(CAL, local(*tuesday, 11), hours=1) == local(*tuesday, 12)
    assert between(CAL, local(*tuesday, 11), local(*tuesday, 14)) == timedelta(hours=2)
    assert between(NO_LUNCH, local(*tuesday, 11), local(*tuesday, 14)) == timedelta(hours=3)


def test_deadline_at_closing_time_stays_on_the_day():
    assert deadline(CAL, local(2025, 3, 11, 16), minutes=30) == local(2025, 3, 11, 16, 30)
    assert deadline(CAL, local(2025, 3, 11, 8), hours=7, minutes=30) == local(2025, 3, 11, 16, 30)
    assert deadline(CAL, local(2025, 3, 11, 8), hours=7, minutes=31) == local(2025, 3, 12, 8, 1)


def test_start_outside_hours():
    assert deadline(CAL, local(2025, 3, 11, 18), hours=1) == local(2025, 3, 12, 9)
    assert deadline(CAL, local(2025, 3, 11, 6), hours=1) == local(2025, 3, 11, 9)
    assert deadline(CAL, local(2025, 3, 15, 10), hours=1) == local(2025, 3, 17, 9)  # Saturday


def test_start_inside_a_closed_day():
    assert deadline(CAL, local(2025, 12, 25, 10), hours=1) == local(2025, 12, 29, 9)
    assert between(CAL, local(2025, 12, 25, 10), local(2025, 12, 29, 9)) == timedelta(hours=1)


def test_zero_duration_returns_the_start_in_utc():
    saturday = local(2025, 3, 15, 10)
    result = add_business_time(CAL, saturday, timedelta(0))
    assert result == saturday
    assert result.tzinfo is UTC
    assert between(CAL, saturday, saturday) == timedelta(0)


def test_several_days_and_microseconds():
    start = local(2025, 3, 10, 9, 0)  # Monday
    assert deadline(CAL, start, hours=7, minutes=30) == local(2025, 3, 11, 9)
    assert deadline(CAL, start, hours=30) == local(2025, 3, 14, 9)
    due = deadline(CAL, start, microseconds=1)
    assert due - start == timedelta(microseconds=1)


def test_between_in_reverse_is_negative():
    a, b = local(2025, 3, 11, 9), local(2025, 3, 12, 9)
    assert between(CAL, b, a) == -between(CAL, a, b) == -timedelta(hours=7, minutes=30)


def test_invalid_input():
    with pytest.raises(ValueError):
        add_business_time(CAL, local(2025, 3, 11, 9), timedelta(minutes=-1))
    with pytest.raises(ValueError):
        add_business_time(ALWAYS, local(2025, 3, 11, 9), timedelta(minutes=-1))
    with pytest.raises(ValueError):
        add_business_time(CAL, datetime(2025, 3, 11, 9), timedelta(minutes=1))
    with pytest.raises(ValueError):
        business_time_between(ALWAYS, datetime(2025, 3, 11, 9), local(2025, 3, 11, 9))
    with pytest.raises(ValueError):
        add_business_time(BusinessCalendar(weekly=(hours(),) * 7), local(2025, 1, 1), timedelta(1))
    with pytest.raises(ValueError):
        hours("16:00-08:00")
    with pytest.raises(ValueError):
        swedish_calendar([2025], shortened_days={"julafton": "12:00"})


def test_calendars_are_values():
    assert swedish_calendar([2025]) == swedish_calendar([2025])
    assert hash(swedish_calendar([2025])) == hash(swedish_calendar([2025]))
    assert hours("13:00-16:30", "08:00-12:00") == ((28_800, 43_200), (46_800, 59_400))
    special = BusinessCalendar(special_hours={date(2025, 3, 15): "10:00-14:00"})
    assert special.hours_on(date(2025, 3, 15)) == ((36_000, 50_400),)
    assert deadline(special, local(2025, 3, 15, 9), hours=1) == local(2025, 3, 15, 11)


def test_day_intervals_in_the_spring_forward_gap():
    odd = BusinessCalendar(weekly=(hours("01:30-02:30", "03:00-04:00"),) * 7)
    sunday = date(2025, 3, 30)
    change = int(datetime(2025, 3, 30, 1, tzinfo=UTC).timestamp())
    assert day_intervals(odd, sunday) == (
        (change - 1800, change),
        (change, change + 3600),
    )
