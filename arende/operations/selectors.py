"""Reads of the operations app that are more than a filter: follow-up, availability, change
figures, the change calendar and the public status page.

Every read of user-visible records goes through ``visible_to``; the figures take querysets so
that a caller (or a test) decides the scope.
"""

from __future__ import annotations

import calendar as month_calendar
import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from arende.core.models import RoleAssignment
from arende.operations import figures
from arende.operations.models import (
    BlackoutPeriod,
    Change,
    ChangeApproval,
    MajorIncident,
    PlannedMaintenance,
    PostIncidentReview,
    ReviewAction,
    StatusPageService,
    TimelineEntry,
)
from arende.servicedesk.models import Service

DEFAULT_FOLLOWUP_WORKING_DAYS = 10
STATUS_HISTORY_DAYS = 90


# Follow-up -------------------------------------------------------------------------------------


def open_reviews(user) -> QuerySet[PostIncidentReview]:
    return (
        PostIncidentReview.objects.filter(
            status=PostIncidentReview.Status.OPEN,
            incident__in=MajorIncident.objects.visible_to(user).values("pk"),
        )
        .select_related("incident")
        .order_by("created_at", "pk")
    )


def overdue_actions(user, *, today: datetime.date | None = None) -> QuerySet[ReviewAction]:
    today = today or timezone.localdate()
    return (
        ReviewAction.objects.filter(
            status=ReviewAction.Status.OPEN,
            due_date__lt=today,
            review__incident__in=MajorIncident.objects.visible_to(user).values("pk"),
        )
        .select_related("owner", "review__incident")
        .order_by("due_date", "pk")
    )


def ongoing_incidents(user) -> QuerySet[MajorIncident]:
    """The major incidents still going on that ``user`` may see, the newest first."""
    return (
        MajorIncident.objects.visible_to(user).open().select_related("lead").order_by("-started_at")
    )


def open_actions_of(user) -> QuerySet[ReviewAction]:
    """The open follow-up actions ``user`` owns, the earliest due first."""
    return (
        ReviewAction.objects.filter(
            owner_id=user.pk,
            status=ReviewAction.Status.OPEN,
            review__incident__in=MajorIncident.objects.visible_to(user).values("pk"),
        )
        .select_related("review__incident")
        .order_by("due_date", "pk")
    )


def changes_awaiting_decision_by(user) -> QuerySet[Change]:
    """Changes waiting for the change board where ``user`` holds an approver role that has not
    decided yet (an emergency change may be approved after it started), the earliest first."""
    if not user.has_perm("operations.approve_change"):
        return Change.objects.none()
    held = RoleAssignment.objects.in_force().filter(user_id=user.pk).values("role_id")
    decided = ChangeApproval.objects.filter(
        change_id=OuterRef("change_id"), role_id=OuterRef("role_id")
    )
    undecided_role = Change.approver_roles.through.objects.filter(
        change_id=OuterRef("pk"), role_id__in=held
    ).filter(~Exists(decided))
    decidable = Q(status=Change.Status.SUBMITTED) | Q(
        type=Change.Type.EMERGENCY,
        status__in=(Change.Status.IN_PROGRESS, Change.Status.IMPLEMENTED),
        approved_at__isnull=True,
    )
    return (
        Change.objects.visible_to(user)
        .filter(decidable)
        .filter(Exists(undecided_role))
        .order_by("planned_start", "pk")
    )


def _is_working_day_function(today: datetime.date):
    """Working days of the default business calendar (the SLA app's), for the years around
    ``today``; Swedish public holidays and closed eves when none is configured."""
    from arende.sla import engine
    from arende.sla.selectors import business_calendar, calendar_for

    configured = calendar_for(None, None)
    if configured is not None:
        built = business_calendar(configured, today=today)
    else:
        built = engine.swedish_calendar(range(today.year - 1, today.year + 2))
    cache: dict[datetime.date, bool] = {}

    def is_working_day(day: datetime.date) -> bool:
        if day not in cache:
            cache[day] = bool(built.hours_on(day))
        return cache[day]

    return is_working_day


@dataclass
class FollowUpRow:
    incident: MajorIncident
    deadline: datetime.datetime
    completed_at: datetime.datetime | None
    in_time: bool | None  # None: still within the time and not done

    @property
    def last_day(self) -> datetime.date:
        """The last working day of the time allowed (the deadline is its midnight)."""
        return (
            (self.deadline - datetime.timedelta(microseconds=1))
            .astimezone(figures.STOCKHOLM)
            .date()
        )


@dataclass
class FollowUp:
    working_days: int
    total: int = 0
    in_time: int = 0
    pending: int = 0
    rows: list[FollowUpRow] = field(default_factory=list)

    @property
    def share(self) -> float | None:
        return figures.share(self.in_time, self.total)


def followup_share(
    incidents: QuerySet[MajorIncident],
    *,
    working_days: int = DEFAULT_FOLLOWUP_WORKING_DAYS,
    now: datetime.datetime | None = None,
) -> FollowUp:
    """The share of resolved major incidents whose review was done within ``working_days``
    working days of the resolution. An incident still within its time and not yet reviewed
    is pending and counts in neither part of the share."""
    now = now or timezone.now()
    result = FollowUp(working_days=working_days)
    resolved = (
        incidents.filter(resolved_at__isnull=False, resolved_at__lte=now)
        .select_related("review")
        .order_by("resolved_at", "pk")
    )
    working_day_functions: dict[int, Any] = {}
    for incident in resolved:
        year = figures.month_of(incident.resolved_at)[0]
        if year not in working_day_functions:
            working_day_functions[year] = _is_working_day_function(datetime.date(year, 6, 1))
        deadline = figures.followup_deadline(
            incident.resolved_at, working_days, working_day_functions[year]
        )
        review = getattr(incident, "review", None)
        completed = (
            review.completed_at
            if review is not None and review.status == PostIncidentReview.Status.DONE
            else None
        )
        if completed is not None and completed < deadline:
            in_time: bool | None = True
        elif now < deadline and completed is None:
            in_time = None
        else:
            in_time = False
        result.rows.append(FollowUpRow(incident, deadline, completed, in_time))
        if in_time is None:
            result.pending += 1
            continue
        result.total += 1
        result.in_time += bool(in_time)
    return result


# Availability ------------------------------------------------------------------------------


@dataclass
class MonthAvailability:
    year: int
    month: int
    period: datetime.timedelta
    downtime: datetime.timedelta
    maintenance: datetime.timedelta
    incidents: int
    mttr: datetime.timedelta | None

    @property
    def availability(self) -> float:
        """Per cent of the month the service worked, planned maintenance not counted as down."""
        return 100 * (1 - self.downtime / self.period)

    @property
    def downtime_minutes(self) -> int:
        return round(self.downtime.total_seconds() / 60)

    @property
    def maintenance_minutes(self) -> int:
        return round(self.maintenance.total_seconds() / 60)

    @property
    def mttr_minutes(self) -> int | None:
        return None if self.mttr is None else round(self.mttr.total_seconds() / 60)


def availability(
    service: Service,
    *,
    year: int,
    incidents: QuerySet[MajorIncident],
    maintenance: QuerySet[PlannedMaintenance],
    now: datetime.datetime | None = None,
) -> list[MonthAvailability]:
    """Twelve months of one service: unplanned downtime (the union of its major incidents from
    start to restore; an open one runs until ``now``), planned maintenance apart, availability
    and mean time to restore of the incidents that started in the month."""
    now = now or timezone.now()
    year_start, _ = figures.month_bounds(year, 1)
    _, year_end = figures.month_bounds(year, 12)
    rows = list(
        incidents.filter(services=service, started_at__lt=year_end)
        .filter(
            Q(resolved_at__isnull=True)
            | Q(resolved_at__gt=year_start)
            | Q(mitigated_at__gt=year_start)
        )
        .values_list("started_at", "mitigated_at", "resolved_at")
    )
    downs = [(start, mitigated or resolved or now) for start, mitigated, resolved in rows]
    windows = list(
        maintenance.filter(
            services=service, is_cancelled=False, starts_at__lt=year_end, ends_at__gt=year_start
        ).values_list("starts_at", "ends_at")
    )
    months = []
    for month in range(1, 13):
        bounds = figures.month_bounds(year, month)
        started = [
            (start, end)
            for (start, mitigated, resolved), (_s, end) in zip(rows, downs, strict=True)
            if bounds[0] <= start < bounds[1] and (mitigated or resolved)
        ]
        restore_times = [end - start for start, end in started]
        months.append(
            MonthAvailability(
                year=year,
                month=month,
                period=bounds[1] - bounds[0],
                downtime=figures.covered(downs, bounds),
                maintenance=figures.covered(windows, bounds),
                incidents=len([1 for start, _e in downs if bounds[0] <= start < bounds[1]]),
                mttr=(sum(restore_times, datetime.timedelta()) / len(restore_times))
                if restore_times
                else None,
            )
        )
    return months


# Changes ---------------------------------------------------------------------------------------


@dataclass
class ChangeMonth:
    year: int
    month: int
    started: int = 0
    approved_before_start: int = 0
    reviewed: int = 0
    successful: int = 0
    disruptions: int = 0

    @property
    def approved_share(self) -> float | None:
        return figures.share(self.approved_before_start, self.started)

    @property
    def successful_share(self) -> float | None:
        return figures.share(self.successful, self.reviewed)


def change_figures(
    changes: QuerySet[Change], incidents: QuerySet[MajorIncident], *, year: int
) -> list[ChangeMonth]:
    """Per month (of the actual start, Stockholm time): changes started, how many of them were
    approved before they started, how many of them are reviewed and how many of those were
    successful; and the unforeseen disruptions: major incidents that started in the month and
    were caused by a change."""
    start, _ = figures.month_bounds(year, 1)
    _, end = figures.month_bounds(year, 12)
    months = {month: ChangeMonth(year, month) for month in range(1, 13)}
    for actual_start, approved_at, outcome in changes.filter(
        actual_start__gte=start, actual_start__lt=end
    ).values_list("actual_start", "approved_at", "outcome"):
        row = months[figures.month_of(actual_start)[1]]
        row.started += 1
        row.approved_before_start += bool(approved_at and approved_at <= actual_start)
        if outcome:
            row.reviewed += 1
            row.successful += outcome == Change.Outcome.SUCCESSFUL
    for (started_at,) in incidents.filter(
        caused_by_change__isnull=False, started_at__gte=start, started_at__lt=end
    ).values_list("started_at"):
        months[figures.month_of(started_at)[1]].disruptions += 1
    return list(months.values())


@dataclass
class CalendarWarning:
    kind: str  # "overlap" or "blackout"
    change: Change
    other: Any


def change_calendar(changes: QuerySet[Change], *, year: int, month: int) -> dict[str, Any]:
    """A month of changes, week by week, with the overlaps and blackout clashes to warn of."""
    start, end = figures.month_bounds(year, month)
    in_month = list(
        changes.filter(planned_start__lt=end, planned_end__gt=start)
        .exclude(status__in=(Change.Status.CANCELLED, Change.Status.REJECTED))
        .prefetch_related("services")
        .order_by("planned_start", "pk")
    )
    blackouts = list(BlackoutPeriod.objects.filter(starts_at__lt=end, ends_at__gt=start))
    warnings: list[CalendarWarning] = []
    flagged: set[int] = set()
    for index, change in enumerate(in_month):
        for other in in_month[index + 1 :]:
            if (
                other.planned_start < change.planned_end
                and change.planned_start < other.planned_end
            ):
                warnings.append(CalendarWarning("overlap", change, other))
                flagged.update((change.pk, other.pk))
        for blackout in blackouts:
            if blackout.starts_at < change.planned_end and change.planned_start < blackout.ends_at:
                warnings.append(CalendarWarning("blackout", change, blackout))
                flagged.add(change.pk)
    by_day: dict[datetime.date, list[Change]] = defaultdict(list)
    for change in in_month:
        day = max(change.planned_start, start).astimezone(figures.STOCKHOLM).date()
        last = (
            (min(change.planned_end, end) - datetime.timedelta(microseconds=1))
            .astimezone(figures.STOCKHOLM)
            .date()
        )
        while day <= last:
            by_day[day].append(change)
            day += datetime.timedelta(days=1)
    blackout_days: dict[datetime.date, list[BlackoutPeriod]] = defaultdict(list)
    for blackout in blackouts:
        day = max(blackout.starts_at, start).astimezone(figures.STOCKHOLM).date()
        last = (
            (min(blackout.ends_at, end) - datetime.timedelta(microseconds=1))
            .astimezone(figures.STOCKHOLM)
            .date()
        )
        while day <= last:
            blackout_days[day].append(blackout)
            day += datetime.timedelta(days=1)
    weeks = []
    for week in month_calendar.Calendar(firstweekday=0).monthdatescalendar(year, month):
        weeks.append(
            [
                {
                    "date": day,
                    "in_month": day.month == month,
                    "changes": by_day.get(day, []),
                    "blackouts": blackout_days.get(day, []),
                }
                for day in week
            ]
        )
    return {"weeks": weeks, "warnings": warnings, "flagged": flagged, "changes": in_month}


# Public status page ----------------------------------------------------------------------------


def _public_updates() -> Prefetch:
    return Prefetch(
        "timeline",
        queryset=TimelineEntry.objects.filter(is_public=True).order_by("-at", "-pk"),
        to_attr="public_updates",
    )


def public_incidents() -> QuerySet[MajorIncident]:
    """Major incidents that have a public title (no scoping: this is the public face)."""
    return MajorIncident.objects.exclude(public_title="").prefetch_related(
        _public_updates(),
        Prefetch(
            "services",
            queryset=Service.objects.filter(status_page__is_listed=True).select_related(
                "status_page"
            ),
        ),
    )


def public_maintenance() -> QuerySet[PlannedMaintenance]:
    return PlannedMaintenance.objects.filter(is_public=True, is_cancelled=False).prefetch_related(
        Prefetch(
            "services",
            queryset=Service.objects.filter(status_page__is_listed=True).select_related(
                "status_page"
            ),
        )
    )


def status_page(*, now: datetime.datetime | None = None) -> dict[str, Any]:
    now = now or timezone.now()
    since = now - datetime.timedelta(days=STATUS_HISTORY_DAYS)
    listed = list(StatusPageService.objects.filter(is_listed=True).select_related("service"))
    current = list(public_incidents().filter(resolved_at__isnull=True).order_by("-started_at"))
    ongoing_maintenance = list(
        public_maintenance().filter(starts_at__lte=now, ends_at__gt=now).order_by("starts_at")
    )
    upcoming = list(public_maintenance().filter(starts_at__gt=now).order_by("starts_at")[:20])
    history = list(
        public_incidents()
        .filter(resolved_at__gte=since, resolved_at__lte=now)
        .order_by("-started_at")
    )
    past_maintenance = list(
        public_maintenance().filter(ends_at__gte=since, ends_at__lte=now).order_by("-starts_at")
    )
    disrupted = {service.pk for incident in current for service in incident.services.all()}
    in_maintenance = {
        service.pk for window in ongoing_maintenance for service in window.services.all()
    }
    services = [
        {
            "name": entry.public_name,
            "state": "disruption"
            if entry.service_id in disrupted
            else ("maintenance" if entry.service_id in in_maintenance else "ok"),
        }
        for entry in listed
    ]
    return {
        "services": services,
        "current": current,
        "ongoing_maintenance": ongoing_maintenance,
        "upcoming": upcoming,
        "history": history,
        "past_maintenance": past_maintenance,
        "now": now,
    }
