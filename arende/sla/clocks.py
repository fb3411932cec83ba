"""SLA clocks computed from a ticket's history: pure functions, no database.

A clock is always *recomputed* from the facts (when the ticket was created, its status over
time, when it was first answered and escalated), never advanced by increments. That is what
makes a change of priority, policy or calendar retroactive and exact: the same facts with new
targets give the new clock, and a pause can never lose or gain time, because paused intervals
are simply not counted.

Rules:
- every metric counts business time only (the calendar's opening hours);
- while the ticket's status is one of the policy's pause statuses, no metric counts;
- *first response* runs from creation to the first public answer by staff or the moment a
  person takes the ticket (assigned to someone), whichever comes first (services.facts_of);
- *resolution* runs from creation while the ticket is open, stops when it is resolved, closed
  or cancelled, and resumes (keeping the time already counted) when it is reopened;
- *second line* (an OLA) runs like resolution, but only from the first escalation;
- a cancelled ticket's clocks are "cancelled" and left out of compliance figures.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass

from arende.sla import engine

ZERO = datetime.timedelta(0)

FIRST_RESPONSE, RESOLUTION, SECOND_LINE = "first_response", "resolution", "second_line"
METRICS = (FIRST_RESPONSE, RESOLUTION, SECOND_LINE)

RUNNING, PAUSED, MET, BREACHED, CANCELLED = "running", "paused", "met", "breached", "cancelled"

# Status values of servicedesk.Ticket, repeated here as plain strings to keep this module pure.
STOPPED_STATUSES = frozenset({"resolved", "closed", "cancelled"})
DEFAULT_PAUSE_STATUSES = frozenset({"waiting_requester", "waiting_supplier", "pending_approval"})


@dataclass(frozen=True, slots=True)
class StatusInterval:
    """The ticket had ``status`` from ``start`` until ``end`` (None: still has it)."""

    status: str
    start: datetime.datetime
    end: datetime.datetime | None = None


@dataclass(frozen=True, slots=True)
class TicketFacts:
    """What a ticket's clocks depend on. ``statuses`` are in order and contiguous."""

    created_at: datetime.datetime
    statuses: tuple[StatusInterval, ...]
    first_response_at: datetime.datetime | None = None
    escalated_at: datetime.datetime | None = None


@dataclass(frozen=True, slots=True)
class Targets:
    """The targets of the policy that applies, in business time (None: no such clock)."""

    first_response: datetime.timedelta | None
    resolution: datetime.timedelta | None
    second_line: datetime.timedelta | None = None
    warn_percent: int = 75
    critical_percent: int = 90
    pause_statuses: frozenset[str] = DEFAULT_PAUSE_STATUSES

    def for_metric(self, metric: str) -> datetime.timedelta | None:
        return getattr(self, metric)


@dataclass(frozen=True, slots=True)
class Segment:
    """A stretch of a clock's life: counting ("running") or not ("paused")."""

    kind: str
    start: datetime.datetime
    end: datetime.datetime | None
    status: str


@dataclass(frozen=True, slots=True)
class Clock:
    """One metric's clock as of ``now``."""

    metric: str
    target: datetime.timedelta
    state: str
    started_at: datetime.datetime
    elapsed: datetime.timedelta  # business time counted up to now, or to the stop
    stopped_at: datetime.datetime | None  # met (or missed) at; None while running or paused
    deadline: datetime.datetime | None  # while running: when it breaches
    breached_at: datetime.datetime | None  # when the counted time passed the target
    warn_at: datetime.datetime | None  # while running: when the first/second warning is due
    critical_at: datetime.datetime | None
    segments: tuple[Segment, ...]

    @property
    def remaining(self) -> datetime.timedelta:
        """Business time left (negative when over the target)."""
        return self.target - self.elapsed

    @property
    def is_late(self) -> bool:
        return self.elapsed > self.target or self.breached_at is not None


# The rules below count in epoch microseconds (ints): a recomputation of a million tickets runs
# them several million times, and datetime arithmetic would cost most of that time. The public
# functions convert at the edges; both paths are the same code.

Span = tuple[str, int, int | None]
"""A status interval in epoch microseconds: (status, start, end or None)."""

ClockValues = tuple[
    str, str, int, int, int | None, int | None, int | None, int | None, int | None, tuple
]
"""A clock in epoch microseconds: (metric, state, started_at, elapsed, stopped_at, deadline,
breached_at, warn_at, critical_at, segments as (running, start, end or None, status))."""


def _segments_us(
    statuses: Sequence[Span], start: int, stop: int | None, pause: frozenset[str], now: int
) -> tuple[list[tuple[bool, int, int | None, str]], int | None, bool]:
    """Running and paused stretches from ``start``; the stop instant; whether it was cancelled.

    A clock stops at ``stop`` (first response) or when the ticket enters a stopped status; a
    later reopening starts it again unless the clock has a fixed ``stop``.
    """
    segments: list[tuple[bool, int, int | None, str]] = []
    stopped_at: int | None = None
    cancelled = False
    for status, a, b in statuses:
        if a < start:
            a = start
        if stop is not None and (b is None or stop < b):
            b = stop
        if b is not None and b <= a:
            continue
        if a > now:
            break
        if status in STOPPED_STATUSES:
            if stopped_at is None:
                stopped_at = a
            cancelled = status == "cancelled"
            continue
        stopped_at, cancelled = None, False  # reopened: the clock goes on
        running = status not in pause
        if segments and segments[-1][0] == running and segments[-1][2] == a:
            segments[-1] = (running, segments[-1][1], b, status)
        else:
            segments.append((running, a, b, status))
    if stop is not None and stop <= now and (stopped_at is None or stop < stopped_at):
        stopped_at, cancelled = stop, False
    return segments, stopped_at, cancelled


def _share(target: int, percent: int) -> int:
    """``target * percent / 100`` rounded as timedelta division rounds (half to even)."""
    q, r = divmod(target * percent, 100)
    if 2 * r > 100 or (2 * r == 100 and q % 2):
        q += 1
    return q


def clock_us(
    calendar: engine.BusinessCalendar,
    statuses: Sequence[Span],
    created_at: int,
    first_response_at: int | None,
    escalated_at: int | None,
    *,
    metric: str,
    target: int,
    warn_percent: int,
    critical_percent: int,
    pause: frozenset[str],
    now: int,
) -> ClockValues | None:
    """`compute_clock` in epoch microseconds (``target`` too)."""
    if metric == SECOND_LINE:
        if escalated_at is None:
            return None
        start, stop = escalated_at, None
    elif metric == FIRST_RESPONSE:
        start, stop = created_at, first_response_at
    else:
        start, stop = created_at, None
    segments, stopped_at, cancelled = _segments_us(statuses, start, stop, pause, now)

    between = engine.business_us_between
    add = engine.add_business_us
    elapsed = 0
    breached_at = None
    last_running_start = 0
    before_last = 0
    for running, a, b, _status in segments:
        if not running:
            continue
        end = b if b is not None and b < now else now
        counted = between(calendar, a, end) if end > a else 0
        if breached_at is None and elapsed + counted > target:
            breached_at = add(calendar, a, target - elapsed)
        last_running_start, before_last = a, elapsed
        elapsed += counted

    live = bool(segments) and stopped_at is None
    deadline = warn_at = critical_at = None
    if cancelled and stopped_at is not None:
        state = CANCELLED
    elif stopped_at is not None:
        state = BREACHED if elapsed > target else MET
    elif live and segments[-1][0]:  # running now
        if before_last >= target:  # resumed after the target had already been passed
            deadline = breached_at if breached_at is not None else last_running_start
        else:
            deadline = add(calendar, last_running_start, target - before_last)
        warn_at = _threshold_us(calendar, last_running_start, before_last, target, warn_percent)
        critical_at = _threshold_us(
            calendar, last_running_start, before_last, target, critical_percent
        )
        state = BREACHED if deadline < now else RUNNING
    elif live:  # paused now
        state = BREACHED if elapsed > target else PAUSED
    else:  # created in the future or no status yet: nothing counted
        state = RUNNING
        deadline = add(calendar, start, target)
    return (
        metric,
        state,
        start,
        elapsed,
        stopped_at,
        deadline,
        breached_at,
        warn_at,
        critical_at,
        tuple(segments),
    )


def _threshold_us(
    calendar: engine.BusinessCalendar, resumed: int, counted_before: int, target: int, percent: int
) -> int:
    at = _share(target, percent)
    if at <= counted_before:
        return resumed  # already past the threshold when the clock resumed
    return engine.add_business_us(calendar, resumed, at - counted_before)


def _us(value: datetime.timedelta) -> int:
    return (value.days * 86_400 + value.seconds) * 1_000_000 + value.microseconds


def _spans_us(facts: TicketFacts) -> list[Span]:
    to_us = engine.to_epoch_us
    return [
        (s.status, to_us(s.start), None if s.end is None else to_us(s.end)) for s in facts.statuses
    ]


def _clock_of(values: ClockValues, target: datetime.timedelta) -> Clock:
    metric, state, start, elapsed, stopped_at, deadline, breached_at, warn_at, critical, segs = (
        values
    )
    at = engine.from_epoch_us

    def maybe(us: int | None) -> datetime.datetime | None:
        return None if us is None else at(us)

    return Clock(
        metric=metric,
        target=target,
        state=state,
        started_at=at(start),
        elapsed=datetime.timedelta(microseconds=elapsed),
        stopped_at=maybe(stopped_at),
        deadline=maybe(deadline),
        breached_at=maybe(breached_at),
        warn_at=maybe(warn_at),
        critical_at=maybe(critical),
        segments=tuple(
            Segment("running" if running else "paused", at(a), maybe(b), status)
            for running, a, b, status in segs
        ),
    )


def compute_clock(
    calendar: engine.BusinessCalendar,
    facts: TicketFacts,
    *,
    metric: str,
    target: datetime.timedelta,
    warn_percent: int = 75,
    critical_percent: int = 90,
    pause: frozenset[str] = DEFAULT_PAUSE_STATUSES,
    now: datetime.datetime,
) -> Clock | None:
    """The clock of ``metric`` as of ``now``, or None when the metric has not started.

    Times are compared as instants (as the database stores them) and come back in UTC.
    """
    to_us = engine.to_epoch_us
    values = clock_us(
        calendar,
        _spans_us(facts),
        to_us(facts.created_at),
        None if facts.first_response_at is None else to_us(facts.first_response_at),
        None if facts.escalated_at is None else to_us(facts.escalated_at),
        metric=metric,
        target=_us(target),
        warn_percent=warn_percent,
        critical_percent=critical_percent,
        pause=pause,
        now=to_us(now),
    )
    return None if values is None else _clock_of(values, target)


def compute_clocks(
    calendar: engine.BusinessCalendar,
    facts: TicketFacts,
    targets: Targets,
    *,
    now: datetime.datetime,
) -> list[Clock]:
    """Every clock the targets define for the ticket (metrics not started are left out)."""
    clocks = []
    for metric in METRICS:
        target = targets.for_metric(metric)
        if target is None:
            continue
        clock = compute_clock(
            calendar,
            facts,
            metric=metric,
            target=target,
            warn_percent=targets.warn_percent,
            critical_percent=targets.critical_percent,
            pause=targets.pause_statuses,
            now=now,
        )
        if clock is not None:
            clocks.append(clock)
    return clocks


def statuses_from_changes(
    created_at: datetime.datetime,
    initial: str,
    changes: Sequence[tuple[datetime.datetime, str]],
) -> tuple[StatusInterval, ...]:
    """Status intervals from the initial status and a list of (time, new status) changes."""
    intervals: list[StatusInterval] = []
    current, since = initial, created_at
    for at, status in sorted(changes, key=lambda change: change[0]):
        if status == current:
            continue
        at = max(at, since)
        intervals.append(StatusInterval(current, since, at))
        current, since = status, at
    intervals.append(StatusInterval(current, since, None))
    return tuple(i for i in intervals if i.end is None or i.end > i.start)
