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


def _segments(
    facts: TicketFacts,
    *,
    start: datetime.datetime,
    stop: datetime.datetime | None,
    pause: frozenset[str],
    now: datetime.datetime,
) -> tuple[list[Segment], datetime.datetime | None, bool]:
    """Running and paused stretches from ``start``; the stop instant; whether it was cancelled.

    A clock stops at ``stop`` (first response) or when the ticket enters a stopped status; a
    later reopening starts it again unless the clock has a fixed ``stop``.
    """
    segments: list[Segment] = []
    stopped_at: datetime.datetime | None = None
    cancelled = False
    for interval in facts.statuses:
        a = max(interval.start, start)
        b = interval.end if interval.end is not None else None
        if stop is not None:
            b = stop if b is None else min(b, stop)
        if b is not None and b <= a:
            continue
        if a > now:
            break
        if interval.status in STOPPED_STATUSES:
            if stopped_at is None:
                stopped_at = a
            cancelled = interval.status == "cancelled"
            continue
        stopped_at, cancelled = None, False  # reopened: the clock goes on
        kind = "paused" if interval.status in pause else "running"
        if segments and segments[-1].kind == kind and segments[-1].end == a:
            segments[-1] = Segment(kind, segments[-1].start, b, interval.status)
        else:
            segments.append(Segment(kind, a, b, interval.status))
    if stop is not None and stop <= now and (stopped_at is None or stop < stopped_at):
        stopped_at, cancelled = stop, False
    return segments, stopped_at, cancelled


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
    """The clock of ``metric`` as of ``now``, or None when the metric has not started."""
    if metric == SECOND_LINE:
        if facts.escalated_at is None:
            return None
        start, stop = facts.escalated_at, None
    elif metric == FIRST_RESPONSE:
        start, stop = facts.created_at, facts.first_response_at
    else:
        start, stop = facts.created_at, None
    segments, stopped_at, cancelled = _segments(facts, start=start, stop=stop, pause=pause, now=now)

    elapsed = ZERO
    breached_at = None
    last_running_start = None
    before_last = ZERO
    for segment in segments:
        if segment.kind != "running":
            continue
        end = segment.end if segment.end is not None and segment.end < now else now
        counted = (
            engine.business_time_between(calendar, segment.start, end)
            if end > segment.start
            else ZERO
        )
        if breached_at is None and elapsed + counted > target:
            breached_at = engine.add_business_time(calendar, segment.start, target - elapsed)
        last_running_start, before_last = segment.start, elapsed
        elapsed += counted

    running_now = bool(segments) and segments[-1].kind == "running" and stopped_at is None
    paused_now = bool(segments) and segments[-1].kind == "paused" and stopped_at is None
    deadline = warn_at = critical_at = None
    if cancelled and stopped_at is not None:
        state = CANCELLED
    elif stopped_at is not None:
        state = BREACHED if elapsed > target else MET
    elif running_now:
        assert last_running_start is not None  # running_now implies a running segment
        if before_last >= target:  # resumed after the target had already been passed
            deadline = breached_at or last_running_start
        else:
            deadline = engine.add_business_time(calendar, last_running_start, target - before_last)
        warn_at = _threshold(calendar, last_running_start, before_last, target, warn_percent)
        critical_at = _threshold(
            calendar, last_running_start, before_last, target, critical_percent
        )
        state = BREACHED if deadline < now else RUNNING
    elif paused_now:
        state = BREACHED if elapsed > target else PAUSED
    else:  # created in the future or no status yet: nothing counted
        state = RUNNING
        deadline = engine.add_business_time(calendar, start, target)
    return Clock(
        metric=metric,
        target=target,
        state=state,
        started_at=start,
        elapsed=elapsed,
        stopped_at=stopped_at,
        deadline=deadline,
        breached_at=breached_at,
        warn_at=warn_at,
        critical_at=critical_at,
        segments=tuple(segments),
    )


def _threshold(
    calendar: engine.BusinessCalendar,
    resumed: datetime.datetime,
    counted_before: datetime.timedelta,
    target: datetime.timedelta,
    percent: int,
) -> datetime.datetime:
    at = target * percent / 100
    if at <= counted_before:
        return resumed  # already past the threshold when the clock resumed
    return engine.add_business_time(calendar, resumed, at - counted_before)


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
