"""The pure arithmetic of the figures: unions of intervals, Stockholm months, deadlines."""

from __future__ import annotations

import datetime

from hypothesis import given
from hypothesis import strategies as st

from arende.operations import figures
from arende.sla import engine

UTC = datetime.UTC
T0 = datetime.datetime(2021, 1, 1, tzinfo=UTC)


def at(hours: float) -> datetime.datetime:
    return T0 + datetime.timedelta(hours=hours)


def test_overlapping_intervals_count_once():
    intervals = [(at(0), at(2)), (at(1), at(3)), (at(5), at(6)), (at(6), at(7))]
    assert figures.merge_intervals(intervals) == [(at(0), at(3)), (at(5), at(7))]
    assert figures.covered(intervals, (at(0), at(100))) == datetime.timedelta(hours=5)
    assert figures.covered(intervals, (at(2), at(5.5))) == datetime.timedelta(hours=1.5)


@given(
    st.lists(
        st.tuples(st.integers(0, 500), st.integers(1, 50)).map(lambda p: (p[0], p[0] + p[1])),
        max_size=12,
    )
)
def test_covered_equals_counting_minutes(pairs):
    intervals = [(at(start / 10), at(end / 10)) for start, end in pairs]
    minutes = {m for start, end in pairs for m in range(start * 6, end * 6)}
    assert figures.covered(intervals, (at(0), at(60))) == datetime.timedelta(minutes=len(minutes))


def test_stockholm_months_have_their_real_length():
    start, end = figures.month_bounds(2021, 3)
    assert end - start == datetime.timedelta(days=31, hours=-1)  # summer time begins
    start, end = figures.month_bounds(2021, 10)
    assert end - start == datetime.timedelta(days=31, hours=1)  # summer time ends
    start, end = figures.month_bounds(2021, 1)
    assert start == datetime.datetime(2020, 12, 31, 23, tzinfo=UTC)
    assert figures.month_bounds(2021, 12)[1] == datetime.datetime(2021, 12, 31, 23, tzinfo=UTC)


def test_followup_deadline_skips_weekends_and_holidays():
    calendar = engine.swedish_calendar([2021])

    def working(day):
        return bool(calendar.hours_on(day))

    # Resolved Friday 2021-04-02 (Good Friday): Easter Monday 04-05 is a holiday too,
    # so two working days later is Wednesday 2021-04-07, and the deadline its midnight.
    resolved = datetime.datetime(2021, 4, 2, 12, tzinfo=UTC)
    assert figures.followup_deadline(resolved, 2, working) == datetime.datetime(
        2021, 4, 7, 22, tzinfo=UTC
    )
    # Late in the evening Stockholm time is already the next day.
    late = datetime.datetime(2021, 3, 4, 23, 30, tzinfo=UTC)  # Friday 00:30 in Stockholm
    assert figures.followup_deadline(late, 1, working) == datetime.datetime(
        2021, 3, 8, 23, tzinfo=UTC
    )


def test_share_of_nothing_is_none():
    assert figures.share(0, 0) is None
    assert figures.share(1, 4) == 0.25
