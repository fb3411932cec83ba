"""The availability chart of a service: unplanned downtime and planned maintenance per month,
drawn by the service desk's bar chart (server-rendered SVG, text alternatives, patterns)."""

from __future__ import annotations

from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from arende.operations.selectors import MonthAvailability
from arende.servicedesk.charts import Series, bar_chart, fmt

MONTHS = ("jan", "feb", "mar", "apr", "maj", "jun", "jul", "aug", "sep", "okt", "nov", "dec")


def availability_chart(
    *, chart_id: str, service_name: str, months: list[MonthAvailability]
) -> SafeString:
    downtime = [row.downtime_minutes for row in months]
    maintenance = [row.maintenance_minutes for row in months]
    worst = min(months, key=lambda row: row.availability)
    desc = _(
        "Minutes of unplanned downtime and of planned maintenance per month. "
        "In total %(down)s minutes of downtime and %(planned)s minutes of maintenance; "
        "the lowest availability was %(worst)s %% in month %(month)s."
    ) % {
        "down": fmt(sum(downtime)),
        "planned": fmt(sum(maintenance)),
        "worst": fmt(worst.availability, 2),
        "month": worst.month,
    }
    return bar_chart(
        chart_id=chart_id,
        title=_("%(service)s: downtime and maintenance per month") % {"service": service_name},
        desc=desc,
        labels=list(MONTHS),
        series=[
            Series(_("Unplanned downtime (min)"), downtime),
            Series(_("Planned maintenance (min)"), maintenance),
        ],
        value_labels=True,
        height=260,
    )
