"""SLA compliance: the one selector that every SLA figure comes from.

The report page, its exports, and later the internal control and the board report all call
``compliance``; none of them counts on its own, so they can never disagree.

What counts: a clock counts in the month its outcome became known: when it stopped (the ticket
was answered or resolved), or, for a clock still running past its deadline, when it breached.
Met = stopped within the target. Cancelled tickets and clocks still within their target are not
counted. Times are grouped by month in Europe/Stockholm.
"""

from __future__ import annotations

import datetime
import zoneinfo
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, Q
from django.db.models.functions import Coalesce, TruncMonth
from django.utils.translation import gettext_lazy as _

from arende.core.exports import Column, Table
from arende.core.models import Organisation
from arende.servicedesk.models import Service, SupportGroup, Ticket
from arende.servicedesk.selectors_dashboard import DashboardQuery, percent
from arende.sla.models import ClockState, Metric, SlaClock

STOCKHOLM = zoneinfo.ZoneInfo("Europe/Stockholm")
BREACH_EXPORT_LIMIT = 100_000  # a year of breaches for the whole unit is far below this

DIMENSIONS: dict[str, Any] = {
    "month": _("Month"),
    "metric": _("Metric"),
    "priority": _("Priority"),
    "group": _("Group"),
    "line": _("Support line"),
    "organisation": _("Organisation"),
    "service": _("Service"),
}


@dataclass(frozen=True)
class ComplianceQuery(DashboardQuery):
    """The dashboard's filters (who, period, organisation, group) and a metric."""

    metric: str = ""


@dataclass
class ComplianceRow:
    key: Any
    label: str
    met: int = 0
    breached: int = 0

    @property
    def total(self) -> int:
        return self.met + self.breached

    @property
    def rate(self) -> Decimal | None:
        return percent(self.met, self.total)


@dataclass
class Compliance:
    query: ComplianceQuery
    total: ComplianceRow
    by: dict[str, list[ComplianceRow]] = field(default_factory=dict)

    def table(self, dimension: str) -> Table:
        return Table(
            f"sla-{dimension}",
            _("SLA compliance per %(dimension)s")
            % {"dimension": str(DIMENSIONS[dimension]).lower()},
            [
                Column(DIMENSIONS[dimension], "text"),
                Column(_("Met")),
                Column(_("Breached")),
                Column(_("Total")),
                Column(_("Compliance (%)"), "percent"),
            ],
            [[row.label, row.met, row.breached, row.total, row.rate] for row in self.by[dimension]],
        )


def _clocks(query: ComplianceQuery):
    outcome = Coalesce("stopped_at", "breached_at")
    clocks = SlaClock.objects.filter(
        state__in=[ClockState.MET, ClockState.BREACHED],
    ).filter(
        Q(stopped_at__gte=query.start_at, stopped_at__lt=query.end_at)
        | Q(stopped_at__isnull=True, breached_at__gte=query.start_at, breached_at__lt=query.end_at)
    )
    organisation_ids = query.organisation_ids()
    if organisation_ids is not None:
        clocks = clocks.filter(organisation_id__in=organisation_ids)
    if query.group is not None:
        clocks = clocks.filter(group_id=query.group.pk)
    if query.metric:
        clocks = clocks.filter(metric=query.metric)
    return clocks.annotate(outcome=outcome)


def compliance(query: ComplianceQuery) -> Compliance:
    """Met and breached clocks in the period, per month, metric, priority, group, line,
    organisation and service, and in total: one grouped query over the clocks alone (they
    carry the ticket's dimensions), rolled up here."""
    rows = (
        _clocks(query)
        .annotate(month=TruncMonth("outcome", tzinfo=STOCKHOLM))
        .values("month", "metric", "priority", "group_id", "line", "organisation_id", "service_id")
        .annotate(
            met=Count("id", filter=Q(state=ClockState.MET)),
            breached=Count("id", filter=Q(state=ClockState.BREACHED)),
        )
        .order_by()
    )
    keys = {
        "month": "month",
        "metric": "metric",
        "priority": "priority",
        "group": "group_id",
        "line": "line",
        "organisation": "organisation_id",
        "service": "service_id",
    }
    sums: dict[str, dict[Any, list[int]]] = {name: defaultdict(lambda: [0, 0]) for name in keys}
    total = ComplianceRow(key=None, label=str(_("All")))
    for row in _fetch(rows):
        total.met += row["met"]
        total.breached += row["breached"]
        for name, column in keys.items():
            value = row[column]
            if name == "month" and value is not None:
                value = _month_start(value)
            pair = sums[name][value]
            pair[0] += row["met"]
            pair[1] += row["breached"]
    labels = _labels(sums)
    by = {}
    for name in keys:
        items = [
            ComplianceRow(key=key, label=labels[name](key), met=pair[0], breached=pair[1])
            for key, pair in sums[name].items()
        ]
        by[name] = sorted(items, key=_sort_key(name))
    if "month" in by:
        by["month"] = _every_month(query, by["month"])
    return Compliance(query=query, total=total, by=by)


def _fetch(rows) -> list[dict[str, Any]]:
    """Run the grouped query. On PostgreSQL with room to hash: the planner cannot know that
    a year of clocks falls into a few hundred groups, and without the memory it sorts them all
    on disk; JIT compiling costs more than it saves for one such query."""
    if connection.vendor != "postgresql":
        return list(rows)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL work_mem = '64MB'")
        cursor.execute("SET LOCAL jit = off")
        return list(rows)


def _month_start(value: datetime.date | datetime.datetime) -> datetime.date:
    if isinstance(value, datetime.datetime):
        value = value.astimezone(STOCKHOLM) if value.tzinfo else value
        return value.date().replace(day=1)
    return value.replace(day=1)


def _every_month(query: ComplianceQuery, rows: list[ComplianceRow]) -> list[ComplianceRow]:
    """One row per month of the period, also for months with nothing to count."""
    have = {row.key: row for row in rows}
    out = []
    month = query.start.replace(day=1)
    while month <= query.end:
        out.append(have.get(month) or ComplianceRow(key=month, label=_month_label(month)))
        month = (month + datetime.timedelta(days=32)).replace(day=1)
    return out


def _month_label(month: datetime.date | None) -> str:
    return month.strftime("%Y-%m") if month else "–"


def _labels(sums: dict[str, dict[Any, list[int]]]) -> dict[str, Any]:
    def names(model, ids) -> dict[int, str]:
        ids = [i for i in ids if i is not None]
        return {obj.pk: str(obj) for obj in model.objects.filter(pk__in=ids)} if ids else {}

    groups = names(SupportGroup, sums["group"])
    organisations = names(Organisation, sums["organisation"])
    services = names(Service, sums["service"])
    none = str(_("None"))
    return {
        "month": _month_label,
        "metric": lambda key: str(Metric(key).label),
        "priority": lambda key: str(_("Priority %(n)s") % {"n": key}) if key else none,
        "group": lambda key: groups.get(key, none),
        "line": lambda key: str(Ticket.Line(key).label) if key else none,
        "organisation": lambda key: organisations.get(key, none),
        "service": lambda key: services.get(key, none),
    }


def _sort_key(name: str):
    if name in ("month", "priority", "line"):
        return lambda row: (row.key is None, row.key or 0)
    if name == "metric":
        order = [metric.value for metric in Metric]
        return lambda row: order.index(row.key)
    return lambda row: (-row.total, row.label)


def breaches(query: ComplianceQuery):
    """The breached clocks of the period with their tickets, the latest first."""
    return (
        _clocks(query)
        .filter(state=ClockState.BREACHED)
        .select_related("ticket", "ticket__group", "ticket__organisation", "policy")
        .order_by("-outcome", "-id")
    )


def breaches_table(clocks: list[SlaClock]) -> Table:
    rows = []
    for clock in clocks:
        over = clock.elapsed_seconds - clock.target_minutes * 60
        rows.append(
            [
                clock.ticket.reference,
                clock.ticket.title,
                str(Metric(clock.metric).label),
                clock.ticket.priority,
                str(clock.ticket.group or ""),
                str(clock.ticket.organisation),
                clock.breached_at.astimezone(STOCKHOLM) if clock.breached_at else None,
                Decimal(max(over, 0)) / 3600,
            ]
        )
    return Table(
        "sla-breaches",
        _("SLA breaches"),
        [
            Column(_("Ticket"), "text"),
            Column(_("Title"), "text"),
            Column(_("Metric"), "text"),
            Column(_("Priority")),
            Column(_("Group"), "text"),
            Column(_("Organisation"), "text"),
            Column(_("Breached"), "datetime"),
            Column(_("Over by (business hours)"), "decimal"),
        ],
        rows,
    )
