"""Reads of SLA configuration: which calendar and which policy apply to a ticket."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.db.models import Q
from django.utils import timezone

from arende.core.reference_cache import ReferenceCache
from arende.sla import engine
from arende.sla.models import WEEKDAY_KEYS, Calendar, SlaPolicy

# Years a calendar knows its holidays for: far enough back for imported history (the demo starts
# in 2021) and ahead for deadlines. Outside them only the weekly hours apply.
FIRST_YEAR, YEARS_AHEAD = 2015, 5


def calendar_for(organisation_id: int | None, service_id: int | None) -> Calendar | None:
    """The most specific calendar: service and organisation, service, organisation, default."""
    candidates = Calendar.objects.filter(
        Q(service_id=service_id) | Q(service__isnull=True),
        Q(organisation_id=organisation_id) | Q(organisation__isnull=True),
    )

    def rank(calendar: Calendar) -> tuple[bool, bool, int]:
        return (calendar.service_id is None, calendar.organisation_id is None, calendar.pk)

    return min(candidates, key=rank, default=None)


@dataclass(frozen=True)
class CalendarSpec:
    """A configured calendar as plain values: what ``_build`` needs, and what it applies to."""

    pk: int
    organisation_id: int | None
    service_id: int | None
    name: str
    always_open: bool
    weekly: tuple
    closed_eves: bool
    shortened_days: bool
    time_zone: str
    exceptions: tuple

    @classmethod
    def of(cls, calendar: Calendar) -> CalendarSpec:
        return cls(
            pk=calendar.pk,
            organisation_id=calendar.organisation_id,
            service_id=calendar.service_id,
            name=calendar.name,
            always_open=calendar.always_open,
            weekly=tuple(tuple(calendar.weekly_hours.get(key, [])) for key in WEEKDAY_KEYS),
            closed_eves=calendar.closed_eves,
            shortened_days=calendar.shortened_days,
            time_zone=calendar.time_zone,
            exceptions=tuple(
                sorted(  # sorted here, so that a prefetched list is used as it is
                    (exception.date, tuple(exception.hours))
                    for exception in calendar.exceptions.all()
                )
            ),
        )

    def built(self, year: int) -> engine.BusinessCalendar:
        return _build(
            self.name,
            year,
            self.always_open,
            self.weekly,
            self.closed_eves,
            self.shortened_days,
            self.time_zone,
            self.exceptions,
        )


def business_calendar(calendar: Calendar, *, today: datetime.date | None = None):
    """The engine's calendar for a configured one (built once per configuration and year)."""
    return CalendarSpec.of(calendar).built((today or timezone.localdate()).year)


@lru_cache(maxsize=64)
def _build(name, year, always_open, weekly, closed_eves, shortened, tz, exceptions):
    # Everything the result depends on is in the arguments, so an edit makes a new entry.
    if always_open:
        return engine.BusinessCalendar(always_open=True, tz=tz, name=name)
    return engine.swedish_calendar(
        range(min(FIRST_YEAR, year), year + YEARS_AHEAD + 1),
        schedule=tuple(engine.hours(*spans) for spans in weekly),
        closed_eves=closed_eves,
        shortened_days=engine.DEFAULT_SHORTENED_DAYS if shortened else {},
        closed_dates=[day for day, hours in exceptions if not hours],
        special_hours={day: hours for day, hours in exceptions if hours},
        tz=tz,
        name=name,
    )


def policy_for(
    *, organisation_id: int | None, service_id: int | None, kind: str, priority: int
) -> SlaPolicy | None:
    """The first active policy, in order, whose set conditions all match."""
    return (
        SlaPolicy.objects.filter(is_active=True)
        .filter(Q(organisation_id=organisation_id) | Q(organisation__isnull=True))
        .filter(Q(service_id=service_id) | Q(service__isnull=True))
        .filter(Q(kind=kind) | Q(kind=""))
        .filter(Q(priority=priority) | Q(priority__isnull=True))
        .order_by("order", "name")
        .first()
    )


@dataclass(frozen=True)
class ClockView:
    """A clock as the ticket page shows it: the stored row, and its stretches of time."""

    clock: Any
    segments: tuple
    remaining_seconds: int


def clocks_for_ticket(ticket: Any, *, now: datetime.datetime | None = None) -> list[ClockView]:
    """The ticket's clocks for its page: state, deadline, business time left, and history
    (counting and paused stretches, from the status history). At most four queries."""
    from arende.sla import clocks as clock_rules
    from arende.sla.models import ClockState, Metric, SlaClock, StatusSpan

    now = now or timezone.now()
    stored = list(SlaClock.objects.filter(ticket=ticket).select_related("policy"))
    if not stored:
        return []
    spans = list(
        StatusSpan.objects.filter(ticket=ticket)
        .order_by("started_at", "id")
        .values_list("status", "started_at", "ended_at")
    )
    book = None
    order = [metric.value for metric in Metric]
    views = []
    for clock in sorted(stored, key=lambda c: order.index(c.metric)):
        pause = frozenset(
            clock.policy.pause_statuses if clock.policy else clock_rules.DEFAULT_PAUSE_STATUSES
        )
        remaining = clock.remaining_seconds
        running = clock.state in (ClockState.RUNNING, ClockState.BREACHED)
        if running and clock.deadline and clock.stopped_at is None:
            book = book or CalendarBook.for_display()
            calendar = book.for_ticket(ticket.organisation_id, ticket.service_id)
            left = engine.business_time_between(calendar, now, clock.deadline)
            remaining = int(left.total_seconds())
        views.append(
            ClockView(
                clock=clock,
                segments=_segments(spans, clock, pause, now),
                remaining_seconds=remaining,
            )
        )
    return views


def _segments(spans: list[tuple], clock: Any, pause: frozenset[str], now) -> tuple:
    """Counting and paused stretches of one clock, from the ticket's status history."""
    from arende.sla import clocks as clock_rules

    out: list[clock_rules.Segment] = []
    end_of_clock = clock.stopped_at or now
    for status, start, end in spans:
        if status in clock_rules.STOPPED_STATUSES:
            continue
        a = max(start, clock.started_at)
        b = min(end or now, end_of_clock)
        if b <= a:
            continue
        kind = "paused" if status in pause else "running"
        if out and out[-1].kind == kind and out[-1].end == a:
            out[-1] = clock_rules.Segment(kind, out[-1].start, b, status)
        else:
            out.append(clock_rules.Segment(kind, a, b, status))
    if out and clock.stopped_at is None and out[-1].end == now:
        last = out[-1]
        out[-1] = clock_rules.Segment(last.kind, last.start, None, last.status)
    return tuple(out)


@lru_cache(maxsize=1)
def default_calendar() -> engine.BusinessCalendar:
    """Office hours with Swedish holidays: what a ticket gets when no calendar is configured."""
    year = timezone.localdate().year
    return engine.swedish_calendar(range(FIRST_YEAR, year + YEARS_AHEAD + 1), name="")


# The calendars as shown on pages (time left in a queue, on a ticket): read from the cache,
# which any change to a calendar or its exceptions moves on. Clocks are computed from the
# database (``CalendarBook()``), never from here.
CALENDARS = ReferenceCache("sla:calendars")


def _calendar_specs() -> list[CalendarSpec]:
    return [CalendarSpec.of(c) for c in Calendar.objects.prefetch_related("exceptions")]


class CalendarBook:
    """Every configured calendar, read once (two queries), resolved per ticket in memory.

    For pages that show many tickets: ``calendar_for`` per ticket would cost a query each.
    ``CalendarBook.for_display()`` reads the calendars from the cache instead (no query).
    """

    def __init__(self, specs: list[CalendarSpec] | None = None) -> None:
        self._specs = _calendar_specs() if specs is None else specs
        self._year = timezone.localdate().year
        self._resolved: dict[tuple[int | None, int | None], engine.BusinessCalendar] = {}

    @classmethod
    def for_display(cls) -> CalendarBook:
        return cls(CALENDARS.get("all", _calendar_specs))

    def for_ticket(self, organisation_id: int | None, service_id: int | None):
        key = (organisation_id, service_id)
        if key not in self._resolved:
            candidates = [
                c
                for c in self._specs
                if c.service_id in (service_id, None)
                and c.organisation_id in (organisation_id, None)
            ]
            best = min(
                candidates,
                key=lambda c: (c.service_id is None, c.organisation_id is None, c.pk),
                default=None,
            )
            if best is None:  # nothing configured: the Swedish office calendar
                self._resolved[key] = default_calendar()
            else:
                self._resolved[key] = best.built(self._year)
        return self._resolved[key]


def time_left_for(tickets: list[Any], *, now: datetime.datetime | None = None) -> dict[int, int]:
    """Business seconds left until each ticket's SLA deadline (negative: over), for a page of
    tickets; paused tickets give what their clock has left. At most one query (paused
    clocks), whatever the page."""
    from arende.sla.models import ClockState, SlaClock

    now = now or timezone.now()
    book = CalendarBook.for_display()
    left: dict[int, int] = {}
    paused = []
    for ticket in tickets:
        if ticket.sla_due_at is not None:
            calendar = book.for_ticket(ticket.organisation_id, ticket.service_id)
            seconds = engine.business_time_between(calendar, now, ticket.sla_due_at)
            left[ticket.pk] = int(seconds.total_seconds())
        elif ticket.sla_state == ClockState.PAUSED:
            paused.append(ticket.pk)
    if paused:
        for ticket_id, target, elapsed in SlaClock.objects.filter(
            ticket_id__in=paused, state=ClockState.PAUSED
        ).values_list("ticket_id", "target_minutes", "elapsed_seconds"):
            remaining = target * 60 - elapsed
            left[ticket_id] = min(left.get(ticket_id, remaining), remaining)
    return left
