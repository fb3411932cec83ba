"""Clocks from a ticket's history (pure, no database): pauses, reopening, targets, thresholds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from arende.sla import clocks
from arende.sla.clocks import TicketFacts
from arende.sla.engine import BusinessCalendar, business_time_between, swedish_calendar

STHLM = ZoneInfo("Europe/Stockholm")
CAL = swedish_calendar(range(2019, 2031))
ALWAYS = BusinessCalendar(always_open=True)
PROPS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FAR = datetime(2030, 1, 1, tzinfo=UTC)


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=STHLM)


def facts(created: datetime, *changes: tuple[datetime, str], first_response=None, escalated=None):
    return TicketFacts(
        created_at=created,
        statuses=clocks.statuses_from_changes(created, "new", list(changes)),
        first_response_at=first_response,
        escalated_at=escalated,
    )


def resolution(f: TicketFacts, target: timedelta, now: datetime, calendar=CAL) -> clocks.Clock:
    clock = clocks.compute_clock(calendar, f, metric=clocks.RESOLUTION, target=target, now=now)
    assert clock is not None
    return clock


# Examples ----------------------------------------------------------------------------------------


def test_a_pause_moves_the_deadline_by_the_business_time_it_lasted():
    created = at(2021, 3, 1, 9)  # a Monday; office hours 08-12, 13-16:30
    plain = resolution(facts(created), timedelta(hours=4), now=at(2021, 3, 1, 9, 30))
    assert plain.state == clocks.RUNNING
    assert plain.deadline == at(2021, 3, 1, 14)  # 3 h before lunch, 1 h after

    paused = facts(
        created,
        (at(2021, 3, 1, 10), "waiting_requester"),
        (at(2021, 3, 2, 9), "in_progress"),
    )
    while_paused = resolution(paused, timedelta(hours=4), now=at(2021, 3, 1, 15))
    assert while_paused.state == clocks.PAUSED
    assert while_paused.elapsed == timedelta(hours=1)
    assert while_paused.deadline is None
    resumed = resolution(paused, timedelta(hours=4), now=at(2021, 3, 2, 9, 30))
    assert resumed.state == clocks.RUNNING
    assert resumed.deadline == at(2021, 3, 2, 12)  # 1 h on Monday, 3 h on Tuesday morning
    assert [s.kind for s in resumed.segments] == ["running", "paused", "running"]


def test_a_reopened_ticket_resumes_its_resolution_clock():
    created = at(2021, 3, 1, 8)
    f = facts(
        created,
        (at(2021, 3, 1, 10), "resolved"),
        (at(2021, 3, 3, 8), "in_progress"),  # reopened on Wednesday
    )
    resolved = resolution(f, timedelta(hours=8), now=at(2021, 3, 2, 12))
    assert resolved.state == clocks.MET
    assert resolved.stopped_at == at(2021, 3, 1, 10)
    reopened = resolution(f, timedelta(hours=8), now=at(2021, 3, 3, 9))
    assert reopened.state == clocks.RUNNING
    assert reopened.elapsed == timedelta(hours=3)  # 2 h before, 1 h since reopening
    assert reopened.deadline == at(2021, 3, 3, 15, 0)  # 6 h left from 08:00, lunch skipped


def test_holidays_and_the_day_before_are_not_counted():
    # Created on the Wednesday before Easter 2021 at 15:00, 6 h target: Skärtorsdagen is a
    # shortened day (closes 12:00 by default), Långfredag to Annandag påsk are closed.
    f = facts(at(2021, 3, 31, 15))
    clock = resolution(f, timedelta(hours=6), now=at(2021, 3, 31, 15, 1))
    assert clock.deadline == at(2021, 4, 6, 8, 30)  # 1.5 h Wed, 4 h Thu morning, 0.5 h Tue


def test_a_deadline_across_the_spring_daylight_saving_change_is_exact():
    f = facts(at(2021, 3, 27, 12))  # Saturday; clocks go forward at 02:00 on Sunday
    clock = resolution(f, timedelta(hours=24), now=at(2021, 3, 27, 12, 1), calendar=ALWAYS)
    assert clock.deadline == at(2021, 3, 28, 13)  # 24 real hours: 13:00 local on Sunday


def test_first_response_stops_at_the_first_answer_and_breaches_when_late():
    created = at(2021, 3, 1, 8)
    f = facts(created, first_response=at(2021, 3, 1, 11))
    on_time = clocks.compute_clock(
        CAL, f, metric=clocks.FIRST_RESPONSE, target=timedelta(hours=4), now=FAR
    )
    late = clocks.compute_clock(
        CAL, f, metric=clocks.FIRST_RESPONSE, target=timedelta(hours=2), now=FAR
    )
    assert on_time.state == clocks.MET and on_time.elapsed == timedelta(hours=3)
    assert late.state == clocks.BREACHED and late.breached_at == at(2021, 3, 1, 10)


def test_second_line_counts_from_the_escalation_only():
    f = facts(at(2021, 3, 1, 8), (at(2021, 3, 2, 15), "resolved"), escalated=at(2021, 3, 2, 8))
    clock = clocks.compute_clock(
        CAL, f, metric=clocks.SECOND_LINE, target=timedelta(hours=8), now=FAR
    )
    assert clock.elapsed == timedelta(hours=6)
    assert clock.state == clocks.MET
    assert (
        clocks.compute_clock(
            CAL, facts(at(2021, 3, 1, 8)), metric=clocks.SECOND_LINE, target=timedelta(1), now=FAR
        )
        is None
    )


def test_a_cancelled_ticket_is_left_out_and_warnings_fall_at_their_share():
    f = facts(at(2021, 3, 1, 8), (at(2021, 3, 1, 9), "cancelled"))
    assert resolution(f, timedelta(hours=4), now=FAR).state == clocks.CANCELLED
    running = clocks.compute_clock(
        CAL,
        facts(at(2021, 3, 1, 8)),
        metric=clocks.RESOLUTION,
        target=timedelta(hours=8),
        warn_percent=75,
        critical_percent=90,
        now=at(2021, 3, 1, 8, 1),
    )
    assert running.warn_at == at(2021, 3, 1, 15)  # 6 h of business time, lunch skipped
    assert running.critical_at == at(2021, 3, 1, 16, 12)  # 7.2 h


def test_a_clock_still_running_past_its_deadline_is_breached():
    clock = resolution(facts(at(2021, 3, 1, 8)), timedelta(hours=1), now=at(2021, 3, 1, 10))
    assert clock.state == clocks.BREACHED
    assert clock.breached_at == clock.deadline == at(2021, 3, 1, 9)


# Properties --------------------------------------------------------------------------------------

# Local times (DST days included), then in UTC: the clocks order and count instants, and the
# tests add durations of real time (aware arithmetic in one zone would add wall-clock time, and
# a time in the spring gap plus a minute can be an earlier instant).
starts = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2027, 12, 1), timezones=st.just(STHLM)
).map(lambda local: local.astimezone(UTC))
offsets = st.integers(min_value=0, max_value=30 * 24 * 60).map(lambda m: timedelta(minutes=m))
targets = st.integers(min_value=1, max_value=40 * 60).map(lambda m: timedelta(minutes=m))
calendars = st.sampled_from([CAL, ALWAYS])
pausing = st.sampled_from(["waiting_requester", "waiting_supplier"])


@PROPS
@given(starts, offsets, offsets, offsets, targets, calendars, pausing)
def test_paused_time_is_never_counted(created, to_pause, pause_len, after, target, cal, status):
    pause_start = created + to_pause
    pause_end = pause_start + pause_len
    now = pause_end + after
    with_pause = facts(created, (pause_start, status), (pause_end, "in_progress"))
    clock = resolution(with_pause, target, now=now, calendar=cal)
    expected = business_time_between(cal, created, now) - business_time_between(
        cal, pause_start, pause_end
    )
    assert clock.elapsed == expected


@PROPS
@given(starts, offsets, offsets, targets, calendars, pausing)
def test_a_pause_before_the_breach_moves_it_by_exactly_the_pause(
    created, to_pause, pause_len, target, cal, status
):
    pause_start = created + to_pause
    pause_end = pause_start + pause_len
    without = resolution(facts(created), target, now=FAR, calendar=cal)
    assume(without.breached_at is not None and pause_start < without.breached_at)
    paused = resolution(
        facts(created, (pause_start, status), (pause_end, "in_progress")),
        target,
        now=FAR,
        calendar=cal,
    )
    pause = business_time_between(cal, pause_start, pause_end)
    assert business_time_between(cal, created, paused.breached_at) == target + pause


@PROPS
@given(starts, offsets, offsets, offsets, targets, calendars)
def test_reopening_keeps_the_time_counted_before(created, to_resolve, gap, after, target, cal):
    resolved = created + to_resolve
    reopened = resolved + gap
    now = reopened + after
    f = facts(created, (resolved, "resolved"), (reopened, "in_progress"))
    clock = resolution(f, target, now=now, calendar=cal)
    assert clock.elapsed == business_time_between(cal, created, resolved) + (
        business_time_between(cal, reopened, now)
    )


@PROPS
@given(starts, offsets, targets, targets, calendars)
def test_a_finished_clock_does_not_depend_on_when_it_is_computed(
    created, to_resolve, target, later, cal
):
    f = facts(created, (created + to_resolve, "resolved"))
    first = resolution(f, target, now=created + to_resolve + timedelta(minutes=1), calendar=cal)
    second = resolution(f, target, now=FAR + later, calendar=cal)
    assert first == second
    assert first.state == (clocks.MET if first.elapsed <= target else clocks.BREACHED)


@PROPS
@given(starts, offsets, targets, targets, calendars)
def test_a_longer_target_never_makes_a_clock_worse(created, to_now, target, extra, cal):
    now = created + to_now
    short = resolution(facts(created), target, now=now, calendar=cal)
    long = resolution(facts(created), target + extra, now=now, calendar=cal)
    assert long.elapsed == short.elapsed
    if short.state == clocks.RUNNING:
        assert long.state == clocks.RUNNING and long.deadline >= short.deadline
    if long.state == clocks.BREACHED:
        assert short.state == clocks.BREACHED
