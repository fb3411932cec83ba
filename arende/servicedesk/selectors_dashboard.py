"""The IT manager's dashboard: every figure, computed by the database.

Each selector takes a ``DashboardQuery`` (who asks, which organisation, group and period) and
returns small dataclasses. The figures come from aggregate queries (COUNT, SUM, AVG with
GROUP BY); Python only shapes the few aggregated rows, so the page costs the same number of
queries with a hundred tickets or a million.

Access: tickets are read through ``Ticket.objects.visible_to(user)`` and further limited to the
organisations where the user holds ``servicedesk.view_servicedesk_dashboard``. Line spans and
ratings are read through those tickets; backlog snapshots (which carry no ticket) through the
same organisations.

Definitions (shown on the page as well):
- *open at a moment*: one of the ticket's line spans covers the moment (see services/snapshots);
- *outflow*: tickets resolved or cancelled in the week;
- *first-line resolution*: tickets resolved in the period without ever having been escalated;
- *time in a line*: per ticket resolved in the period, the wall-clock hours of all its spans in
  that line (business hours arrive with the SLA clocks);
- *group*: the group that holds the ticket now, or held it when it was resolved; for the backlog,
  line times and ageing, the group that held it at the time.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import (
    Avg,
    Case,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    Max,
    Min,
    Q,
    QuerySet,
    Sum,
    When,
)
from django.db.models.functions import TruncMonth, TruncWeek
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from arende.core.access import scope_for
from arende.core.exports import Column, Table
from arende.core.models import Organisation
from arende.servicedesk.models import (
    BacklogSnapshot,
    LineSpan,
    SatisfactionRating,
    SupportGroup,
    Ticket,
)
from arende.servicedesk.services.snapshots import end_of_day, open_at

DASHBOARD_PERM = "servicedesk.view_servicedesk_dashboard"
MAX_PERIOD_DAYS = 3 * 366

AGEING_BUCKETS: tuple[tuple[Any, int, int | None], ...] = (
    (_("0–2 days"), 0, 3),
    (_("3–7 days"), 3, 8),
    (_("8–30 days"), 8, 31),
    (_("31–90 days"), 31, 91),
    (_("More than 90 days"), 91, None),
)


# Scope ---------------------------------------------------------------------------------------


def dashboard_organisation_ids(user: Any) -> frozenset[int] | None:
    """Organisations whose figures ``user`` may see: None means all of them."""
    dashboard = scope_for(user, DASHBOARD_PERM)
    tickets = scope_for(user, "servicedesk.view_ticket")
    if dashboard.empty or tickets.empty:
        return frozenset()
    if dashboard.all_organisations and tickets.all_organisations:
        return None
    if dashboard.all_organisations:
        return tickets.organisation_ids
    if tickets.all_organisations:
        return dashboard.organisation_ids
    return dashboard.organisation_ids & tickets.organisation_ids


def dashboard_organisations(user: Any) -> QuerySet[Organisation]:
    """The organisations a dashboard user can filter on."""
    allowed = dashboard_organisation_ids(user)
    organisations = Organisation.objects.visible_to(user).order_by("name")
    if allowed is None:
        return organisations
    return organisations.filter(pk__in=sorted(allowed))


def dashboard_groups() -> QuerySet[SupportGroup]:
    return SupportGroup.objects.order_by("line", "name")


@dataclass(frozen=True)
class DashboardQuery:
    """Who asks, and for what: the filters of the page and of every export."""

    user: Any
    start: datetime.date
    end: datetime.date
    organisation: Organisation | None = None
    group: SupportGroup | None = None

    @property
    def start_at(self) -> datetime.datetime:
        return end_of_day(self.start - datetime.timedelta(days=1))

    @property
    def end_at(self) -> datetime.datetime:
        """The first moment after the period (midnight after ``end``)."""
        return end_of_day(self.end)

    @property
    def as_of(self) -> datetime.datetime:
        """The moment "open now" refers to: the end of the period, or now if that is later."""
        return min(self.end_at, timezone.now())

    def organisation_ids(self) -> list[int] | None:
        allowed = dashboard_organisation_ids(self.user)
        if self.organisation is not None:
            if allowed is not None and self.organisation.pk not in allowed:
                return []
            return [self.organisation.pk]
        return None if allowed is None else sorted(allowed)

    def tickets(self, *, by_group: bool = True) -> QuerySet[Ticket]:
        """The tickets in scope (any time); ``by_group`` applies the group filter."""
        tickets = Ticket.objects.visible_to(self.user)
        organisation_ids = self.organisation_ids()
        if organisation_ids is not None:
            tickets = tickets.filter(organisation_id__in=organisation_ids)
        if by_group and self.group is not None:
            tickets = tickets.filter(group=self.group)
        return tickets

    def spans(self) -> QuerySet[LineSpan]:
        spans = LineSpan.objects.filter(ticket__in=self.tickets(by_group=False).values("pk"))
        if self.group is not None:
            spans = spans.filter(group=self.group)
        return spans

    def snapshots(self) -> QuerySet[BacklogSnapshot]:
        snapshots = BacklogSnapshot.objects.filter(day__gte=self.start, day__lte=self.end)
        organisation_ids = self.organisation_ids()
        if organisation_ids is not None:
            snapshots = snapshots.filter(organisation_id__in=organisation_ids)
        if self.group is not None:
            snapshots = snapshots.filter(group=self.group)
        return snapshots

    def ratings(self) -> QuerySet[SatisfactionRating]:
        return SatisfactionRating.objects.filter(
            ticket__in=self.tickets().values("pk"),
            rated_at__gte=self.start_at,
            rated_at__lt=self.end_at,
        )


def default_period(user: Any) -> tuple[datetime.date, datetime.date]:
    """Up to a year, ending with the latest snapshot the user can see (or yesterday)."""
    snapshots = BacklogSnapshot.objects.all()
    allowed = dashboard_organisation_ids(user)
    if allowed is not None:
        snapshots = snapshots.filter(organisation_id__in=sorted(allowed))
    bounds = snapshots.aggregate(first=Min("day"), last=Max("day"))
    end = bounds["last"] or timezone.localdate() - datetime.timedelta(days=1)
    start = end - datetime.timedelta(days=364)
    if bounds["first"] and bounds["first"] > start:
        start = bounds["first"]
    return start, end


# Helpers -------------------------------------------------------------------------------------


def percent(part: int, whole: int) -> Decimal | None:
    """``part`` of ``whole`` in per cent with one decimal (None when there is no whole)."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), ROUND_HALF_UP)


def _hours(value: datetime.timedelta | float | int | None) -> Decimal | None:
    """A duration in hours with one decimal. SQLite may hand back microseconds as a number."""
    if value is None:
        return None
    seconds = (
        value.total_seconds() if isinstance(value, datetime.timedelta) else float(value) / 1_000_000
    )
    return (Decimal(seconds) / 3600).quantize(Decimal("0.1"), ROUND_HALF_UP)


def _local_date(value: datetime.datetime | datetime.date) -> datetime.date:
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value


def _monday(day: datetime.date) -> datetime.date:
    return day - datetime.timedelta(days=day.weekday())


DURATION = ExpressionWrapper(F("ended_at") - F("started_at"), output_field=DurationField())


# Backlog -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BacklogPoint:
    day: datetime.date
    first_line: int
    second_line: int

    @property
    def total(self) -> int:
        return self.first_line + self.second_line


def backlog_series(query: DashboardQuery) -> list[BacklogPoint]:
    """Open tickets at the end of each day on which the snapshot was taken, split by line.

    A snapshot stores rows only for organisations and groups with open tickets, so a day that
    was taken but has no row for the filtered scope counts as zero open tickets."""
    rows = (
        query.snapshots()
        .values("day", "line")
        .annotate(open_count=Sum("open_count"))
        .order_by("day", "line")
    )
    taken = (
        BacklogSnapshot.objects.filter(day__gte=query.start, day__lte=query.end)
        .values_list("day", flat=True)
        .distinct()
        .order_by("day")
    )
    by_day: dict[datetime.date, list[int]] = {day: [0, 0] for day in taken}
    for row in rows:
        counts = by_day.setdefault(row["day"], [0, 0])
        counts[0 if row["line"] == 1 else 1] += row["open_count"]
    return [BacklogPoint(day, first, second) for day, (first, second) in sorted(by_day.items())]


def open_count_at(query: DashboardQuery, moment: datetime.datetime) -> int:
    """Tickets open at ``moment`` (from the line spans, so it works for any past moment)."""
    return query.spans().filter(open_at(moment)).aggregate(n=Count("ticket_id", distinct=True))["n"]


# Inflow and outflow --------------------------------------------------------------------------


@dataclass(frozen=True)
class WeekFlow:
    monday: datetime.date
    inflow: int
    outflow: int

    @property
    def iso_week(self) -> tuple[int, int]:
        year, week, _day = self.monday.isocalendar()
        return year, week

    @property
    def label(self) -> str:
        year, week = self.iso_week
        return f"{year}-W{week:02d}"

    @property
    def net(self) -> int:
        return self.inflow - self.outflow


FINISHED_AT = Case(
    When(status=Ticket.Status.CANCELLED, then=F("closed_at")),
    default=F("resolved_at"),
)


def flow_per_week(query: DashboardQuery) -> list[WeekFlow]:
    """New tickets and finished (resolved or cancelled) tickets per ISO week of the period."""
    tickets = query.tickets()
    inflow = (
        tickets.filter(created_at__gte=query.start_at, created_at__lt=query.end_at)
        .annotate(week=TruncWeek("created_at"))
        .values("week")
        .annotate(n=Count("pk"))
        .order_by()
    )
    outflow = (
        tickets.annotate(finished_at=FINISHED_AT)
        .filter(finished_at__gte=query.start_at, finished_at__lt=query.end_at)
        .annotate(week=TruncWeek("finished_at"))
        .values("week")
        .annotate(n=Count("pk"))
        .order_by()
    )
    weeks: dict[datetime.date, list[int]] = {}
    monday = _monday(query.start)
    while monday <= query.end:
        weeks[monday] = [0, 0]
        monday += datetime.timedelta(days=7)
    for index, rows in ((0, inflow), (1, outflow)):
        for row in rows:
            weeks.setdefault(_local_date(row["week"]), [0, 0])[index] += row["n"]
    return [WeekFlow(monday, inn, out) for monday, (inn, out) in sorted(weeks.items())]


# First-line resolution -----------------------------------------------------------------------


@dataclass(frozen=True)
class FirstLineRate:
    label: str
    resolved: int
    in_first_line: int

    @property
    def rate(self) -> Decimal | None:
        return percent(self.in_first_line, self.resolved)

    @property
    def escalated(self) -> int:
        return self.resolved - self.in_first_line


def _resolved_in_period(query: DashboardQuery) -> QuerySet[Ticket]:
    return query.tickets().filter(resolved_at__gte=query.start_at, resolved_at__lt=query.end_at)


FIRST_LINE_COUNTS = {
    "resolved": Count("pk"),
    "in_first_line": Count("pk", filter=Q(resolved_in_first_line=True)),
}


def first_line_rate(query: DashboardQuery) -> FirstLineRate:
    totals = _resolved_in_period(query).aggregate(**FIRST_LINE_COUNTS)
    return FirstLineRate(str(_("Whole period")), totals["resolved"], totals["in_first_line"])


def first_line_per_month(query: DashboardQuery) -> list[FirstLineRate]:
    rows = (
        _resolved_in_period(query)
        .annotate(month=TruncMonth("resolved_at"))
        .values("month")
        .annotate(**FIRST_LINE_COUNTS)
        .order_by("month")
    )
    return [
        FirstLineRate(
            _local_date(row["month"]).strftime("%Y-%m"), row["resolved"], row["in_first_line"]
        )
        for row in rows
    ]


# Time in each line ---------------------------------------------------------------------------


@dataclass(frozen=True)
class LineTime:
    line: int
    tickets: int
    mean_hours: Decimal | None
    median_hours: Decimal | None

    @property
    def label(self) -> str:
        return str(Ticket.Line(self.line).label)


def line_times(query: DashboardQuery) -> list[LineTime]:
    """Per line: how many tickets resolved in the period spent time there, mean and median
    hours per ticket (wall-clock)."""
    resolved = _resolved_in_period(query).values("pk")
    spans = LineSpan.objects.filter(ticket__in=resolved, ended_at__isnull=False)
    if query.group is not None:
        spans = spans.filter(group=query.group)
    result = []
    for line in (1, 2):
        per_ticket = (
            spans.filter(line=line).values("ticket_id").annotate(total=Sum(DURATION)).order_by()
        )
        totals = per_ticket.aggregate(n=Count("ticket_id"), mean=Avg("total"))
        count = totals["n"] or 0
        # The middle one or two values (always one query, so the page's count stays constant).
        middle = list(
            per_ticket.order_by("total", "ticket_id").values_list("total", flat=True)[
                max(count - 1, 0) // 2 : count // 2 + 1
            ]
        )
        median = _mean_of(middle) if count else None
        result.append(LineTime(line, count, _hours(totals["mean"]), _hours(median)))
    return result


def _mean_of(values: list[Any]) -> Any:
    if not values:
        return None
    if isinstance(values[0], datetime.timedelta):
        return sum(values, datetime.timedelta()) / len(values)
    return sum(float(value) for value in values) / len(values)


# Ageing --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AgeBucket:
    label: str
    count: int


def ageing(query: DashboardQuery) -> list[AgeBucket]:
    """Tickets open at the end of the period (or now), by how long they had been open."""
    moment = query.as_of
    counts: dict[str, Any] = {}
    for index, (_label, low, high) in enumerate(AGEING_BUCKETS):
        condition = Q(ticket__created_at__lte=moment - datetime.timedelta(days=low))
        if high is not None:
            condition &= Q(ticket__created_at__gt=moment - datetime.timedelta(days=high))
        counts[f"b{index}"] = Count("ticket_id", filter=condition, distinct=True)
    totals = query.spans().filter(open_at(moment)).aggregate(**counts)
    return [
        AgeBucket(str(label), totals[f"b{index}"] or 0)
        for index, (label, _low, _high) in enumerate(AGEING_BUCKETS)
    ]


# Satisfaction --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Satisfaction:
    count: int
    average: Decimal | None
    distribution: list[tuple[int, int]] = field(default_factory=list)

    @property
    def satisfied_share(self) -> Decimal | None:
        """Ratings of 4 or 5, in per cent."""
        return percent(sum(n for score, n in self.distribution if score >= 4), self.count)


def satisfaction(query: DashboardQuery) -> Satisfaction:
    counts = {f"s{score}": Count("pk", filter=Q(score=score)) for score in range(1, 6)}
    totals = query.ratings().aggregate(n=Count("pk"), average=Avg("score"), **counts)
    average = totals["average"]
    return Satisfaction(
        count=totals["n"],
        average=None
        if average is None
        else Decimal(str(average)).quantize(Decimal("0.01"), ROUND_HALF_UP),
        distribution=[(score, totals[f"s{score}"]) for score in range(1, 6)],
    )


# Categories ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CategoryRow:
    name: str
    created: int
    share: Decimal | None
    resolved: int
    in_first_line: int

    @property
    def first_line_rate(self) -> Decimal | None:
        return percent(self.in_first_line, self.resolved)


def top_categories(query: DashboardQuery, limit: int = 10) -> list[CategoryRow]:
    """The categories with most new tickets in the period; first-line rate of those tickets."""
    created = query.tickets().filter(created_at__gte=query.start_at, created_at__lt=query.end_at)
    total = created.count()
    rows = (
        created.values("category_id", "category__name", "category__parent__name")
        .annotate(
            n=Count("pk"),
            resolved=Count("pk", filter=Q(resolved_at__isnull=False)),
            in_first_line=Count("pk", filter=Q(resolved_in_first_line=True)),
        )
        .order_by("-n", "category__name")[:limit]
    )
    result = []
    for row in rows:
        if row["category_id"] is None:
            name = str(_("No category"))
        elif row["category__parent__name"]:
            name = f"{row['category__parent__name']} › {row['category__name']}"
        else:
            name = row["category__name"]
        result.append(
            CategoryRow(
                name, row["n"], percent(row["n"], total), row["resolved"], row["in_first_line"]
            )
        )
    return result


# Per organisation and per group --------------------------------------------------------------


@dataclass(frozen=True)
class Breakdown:
    name: str
    created: int | None
    resolved: int
    in_first_line: int
    open_at_end: int
    rating: Decimal | None

    @property
    def first_line_rate(self) -> Decimal | None:
        return percent(self.in_first_line, self.resolved)


def _average(value: float | None) -> Decimal | None:
    if value is None:
        return None
    return Decimal(str(value)).quantize(Decimal("0.01"), ROUND_HALF_UP)


def per_organisation(query: DashboardQuery) -> list[Breakdown]:
    in_period = Q(created_at__gte=query.start_at, created_at__lt=query.end_at)
    resolved = Q(resolved_at__gte=query.start_at, resolved_at__lt=query.end_at)
    rows = (
        query.tickets()
        .values("organisation_id", "organisation__name")
        .annotate(
            created=Count("pk", filter=in_period),
            resolved=Count("pk", filter=resolved),
            in_first_line=Count("pk", filter=resolved & Q(resolved_in_first_line=True)),
        )
        .order_by("organisation__name")
    )
    open_rows = dict(
        query.spans()
        .filter(open_at(query.as_of))
        .values("ticket__organisation_id")
        .annotate(n=Count("ticket_id", distinct=True))
        .order_by()
        .values_list("ticket__organisation_id", "n")
    )
    rating_rows = dict(
        query.ratings()
        .values("ticket__organisation_id")
        .annotate(average=Avg("score"))
        .order_by()
        .values_list("ticket__organisation_id", "average")
    )
    return [
        Breakdown(
            row["organisation__name"],
            row["created"],
            row["resolved"],
            row["in_first_line"],
            open_rows.get(row["organisation_id"], 0),
            _average(rating_rows.get(row["organisation_id"])),
        )
        for row in rows
        if row["created"] or row["resolved"] or open_rows.get(row["organisation_id"])
    ]


@dataclass(frozen=True)
class GroupRow:
    name: str
    line: int
    resolved: int
    open_at_end: int
    mean_hours: Decimal | None
    rating: Decimal | None

    @property
    def line_label(self) -> str:
        return str(Ticket.Line(self.line).label)


def per_group(query: DashboardQuery) -> list[GroupRow]:
    """Per support group: tickets it held at the end, tickets it resolved in the period (and
    their rating), and the mean wall-clock hours it held each ticket resolved in the period."""
    resolved = Q(resolved_at__gte=query.start_at, resolved_at__lt=query.end_at)
    rows = {
        row["group_id"]: row
        for row in query.tickets()
        .filter(resolved)
        .values("group_id")
        .annotate(
            resolved=Count("pk"),
            rating=Avg(
                "rating__score",
                filter=Q(rating__rated_at__gte=query.start_at, rating__rated_at__lt=query.end_at),
            ),
        )
        .order_by()
    }
    open_rows = dict(
        query.spans()
        .filter(open_at(query.as_of))
        .values("group_id")
        .annotate(n=Count("ticket_id", distinct=True))
        .order_by()
        .values_list("group_id", "n")
    )
    held = {
        row["group_id"]: row
        for row in LineSpan.objects.filter(
            ticket__in=_resolved_in_period(query).values("pk"), ended_at__isnull=False
        )
        .values("group_id")
        .annotate(total=Sum(DURATION), tickets=Count("ticket_id", distinct=True))
        .order_by()
    }
    groups = dashboard_groups()
    if query.group is not None:
        groups = groups.filter(pk=query.group.pk)
    result = []
    for group in groups:
        row = rows.get(group.pk, {})
        if not row and not open_rows.get(group.pk):
            continue
        time_held = held.get(group.pk)
        mean = None
        if time_held and time_held["tickets"]:
            total = time_held["total"]
            mean = (
                total / time_held["tickets"]
                if isinstance(total, datetime.timedelta)
                else float(total) / time_held["tickets"]
            )
        result.append(
            GroupRow(
                str(group),
                group.line,
                row.get("resolved", 0),
                open_rows.get(group.pk, 0),
                _hours(mean),
                _average(row.get("rating")),
            )
        )
    return result


# Key figures ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyFigures:
    created: int
    finished: int
    open_at_start: int
    open_at_end: int
    peak: BacklogPoint | None

    @property
    def open_change(self) -> int:
        return self.open_at_end - self.open_at_start

    @property
    def open_change_percent(self) -> Decimal | None:
        """The change of the backlog over the period, in per cent (signed)."""
        change = percent(abs(self.open_change), self.open_at_start)
        return None if change is None else (change if self.open_change >= 0 else -change)


def key_figures(query: DashboardQuery, backlog: list[BacklogPoint]) -> KeyFigures:
    tickets = query.tickets()
    totals = tickets.annotate(finished_at=FINISHED_AT).aggregate(
        created=Count("pk", filter=Q(created_at__gte=query.start_at, created_at__lt=query.end_at)),
        finished=Count(
            "pk", filter=Q(finished_at__gte=query.start_at, finished_at__lt=query.end_at)
        ),
    )
    at_start = query.start_at
    spans = query.spans()
    open_counts = spans.aggregate(
        start=Count("ticket_id", filter=open_at(at_start), distinct=True),
        end=Count("ticket_id", filter=open_at(query.as_of), distinct=True),
    )
    peak = max(backlog, key=lambda point: (point.total, point.day)) if backlog else None
    return KeyFigures(
        created=totals["created"],
        finished=totals["finished"],
        open_at_start=open_counts["start"],
        open_at_end=open_counts["end"],
        peak=peak,
    )


# The whole dashboard, and its tables for export ----------------------------------------------


@dataclass
class Dashboard:
    query: DashboardQuery
    backlog: list[BacklogPoint]
    flow: list[WeekFlow]
    first_line: FirstLineRate
    first_line_months: list[FirstLineRate]
    line_times: list[LineTime]
    ageing: list[AgeBucket]
    satisfaction: Satisfaction
    categories: list[CategoryRow]
    organisations: list[Breakdown]
    groups: list[GroupRow]
    figures: KeyFigures


def dashboard(query: DashboardQuery) -> Dashboard:
    backlog = backlog_series(query)
    return Dashboard(
        query=query,
        backlog=backlog,
        flow=flow_per_week(query),
        first_line=first_line_rate(query),
        first_line_months=first_line_per_month(query),
        line_times=line_times(query),
        ageing=ageing(query),
        satisfaction=satisfaction(query),
        categories=top_categories(query),
        organisations=per_organisation(query),
        groups=per_group(query),
        figures=key_figures(query, backlog),
    )


def backlog_table(points: list[BacklogPoint]) -> Table:
    return Table(
        "backlog",
        _("Open tickets per day"),
        [
            Column(_("Day"), "date"),
            Column(_("First line")),
            Column(_("Second line")),
            Column(_("Total")),
        ],
        [[p.day, p.first_line, p.second_line, p.total] for p in points],
    )


def flow_table(weeks: list[WeekFlow]) -> Table:
    return Table(
        "flow",
        _("Inflow and outflow per week"),
        [
            Column(_("Week"), "text"),
            Column(_("Week starting"), "date"),
            Column(_("New")),
            Column(_("Resolved or cancelled")),
            Column(_("Net change")),
        ],
        [[w.label, w.monday, w.inflow, w.outflow, w.net] for w in weeks],
    )


def first_line_table(months: list[FirstLineRate], total: FirstLineRate) -> Table:
    return Table(
        "first_line",
        _("First-line resolution per month"),
        [
            Column(_("Month"), "text"),
            Column(_("Resolved")),
            Column(_("Resolved in first line")),
            Column(_("Escalated")),
            Column(_("First-line resolution (%)"), "percent"),
        ],
        [[m.label, m.resolved, m.in_first_line, m.escalated, m.rate] for m in [*months, total]],
    )


def line_times_table(times: list[LineTime]) -> Table:
    return Table(
        "line_times",
        _("Time in each line"),
        [
            Column(_("Line"), "text"),
            Column(_("Tickets")),
            Column(_("Mean (hours)"), "decimal"),
            Column(_("Median (hours)"), "decimal"),
        ],
        [[t.label, t.tickets, t.mean_hours, t.median_hours] for t in times],
    )


def ageing_table(buckets: list[AgeBucket]) -> Table:
    return Table(
        "ageing",
        _("Open tickets by age"),
        [Column(_("Age"), "text"), Column(_("Open tickets"))],
        [[b.label, b.count] for b in buckets],
    )


def satisfaction_table(result: Satisfaction) -> Table:
    return Table(
        "satisfaction",
        _("Satisfaction ratings"),
        [Column(_("Rating")), Column(_("Ratings")), Column(_("Share (%)"), "percent")],
        [[score, n, percent(n, result.count)] for score, n in result.distribution],
    )


def categories_table(rows: list[CategoryRow]) -> Table:
    return Table(
        "categories",
        _("Top categories"),
        [
            Column(_("Category"), "text"),
            Column(_("New tickets")),
            Column(_("Share (%)"), "percent"),
            Column(_("Resolved")),
            Column(_("First-line resolution (%)"), "percent"),
        ],
        [[c.name, c.created, c.share, c.resolved, c.first_line_rate] for c in rows],
    )


def _breakdown_columns(first: Any, created: bool) -> list[Column]:
    columns = [Column(first, "text")]
    if created:
        columns.append(Column(_("New tickets")))
    return [
        *columns,
        Column(_("Resolved")),
        Column(_("First-line resolution (%)"), "percent"),
        Column(_("Open at the end")),
        Column(_("Average rating"), "decimal", decimals=2),
    ]


def organisations_table(rows: list[Breakdown]) -> Table:
    return Table(
        "organisations",
        _("Per organisation"),
        _breakdown_columns(_("Organisation"), created=True),
        [[b.name, b.created, b.resolved, b.first_line_rate, b.open_at_end, b.rating] for b in rows],
    )


def groups_table(rows: list[GroupRow]) -> Table:
    return Table(
        "groups",
        _("Per group"),
        [
            Column(_("Group"), "text"),
            Column(_("Line"), "text"),
            Column(_("Resolved")),
            Column(_("Open at the end")),
            Column(_("Mean hours per ticket"), "decimal"),
            Column(_("Average rating"), "decimal", decimals=2),
        ],
        [[g.name, g.line_label, g.resolved, g.open_at_end, g.mean_hours, g.rating] for g in rows],
    )


def dashboard_tables(board: Dashboard) -> dict[str, Table]:
    """Every table of the page, built from the figures already computed."""
    return {
        "backlog": backlog_table(board.backlog),
        "flow": flow_table(board.flow),
        "first_line": first_line_table(board.first_line_months, board.first_line),
        "line_times": line_times_table(board.line_times),
        "ageing": ageing_table(board.ageing),
        "satisfaction": satisfaction_table(board.satisfaction),
        "categories": categories_table(board.categories),
        "organisations": organisations_table(board.organisations),
        "groups": groups_table(board.groups),
    }


# An export computes only its own table, with the same selector and filters as the page.
EXPORT_TABLES: dict[str, Callable[[DashboardQuery], Table]] = {
    "backlog": lambda q: backlog_table(backlog_series(q)),
    "flow": lambda q: flow_table(flow_per_week(q)),
    "first_line": lambda q: first_line_table(first_line_per_month(q), first_line_rate(q)),
    "line_times": lambda q: line_times_table(line_times(q)),
    "ageing": lambda q: ageing_table(ageing(q)),
    "satisfaction": lambda q: satisfaction_table(satisfaction(q)),
    "categories": lambda q: categories_table(top_categories(q)),
    "organisations": lambda q: organisations_table(per_organisation(q)),
    "groups": lambda q: groups_table(per_group(q)),
}


def export_table(query: DashboardQuery, name: str) -> Table:
    """The table ``name`` for the export (KeyError for an unknown name)."""
    return EXPORT_TABLES[name](query)
