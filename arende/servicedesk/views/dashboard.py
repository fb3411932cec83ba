"""The IT manager's dashboard (mounted at /dashboard/) and its CSV and Excel exports.

Every figure comes from ``selectors_dashboard`` with the filters of the form; an export runs the
same selector with the same filters, so the file and the page always agree.
"""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import formats, timezone
from django.utils.dateformat import format as date_format
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from arende.core.exports import Table, csv_response, xlsx_response
from arende.servicedesk import charts
from arende.servicedesk import selectors_dashboard as sel

DASHBOARD_PERM = sel.DASHBOARD_PERM


class DashboardFilterForm(forms.Form):
    organisation = forms.ModelChoiceField(
        label=gettext_lazy("Organisation"),
        queryset=None,
        required=False,
        empty_label=gettext_lazy("All organisations"),
    )
    group = forms.ModelChoiceField(
        label=gettext_lazy("Group"),
        queryset=None,
        required=False,
        empty_label=gettext_lazy("All groups"),
    )
    start = forms.DateField(
        label=gettext_lazy("From"), widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(label=gettext_lazy("To"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, data: Any, *, user: Any, defaults: tuple[datetime.date, datetime.date]):
        start, end = defaults
        values = {"start": start.isoformat(), "end": end.isoformat()}
        for name in ("organisation", "group", "start", "end"):
            if data.get(name):
                values[name] = data[name]
        super().__init__(values)
        self.user = user
        self.fields["organisation"].queryset = sel.dashboard_organisations(user)
        self.fields["group"].queryset = sel.dashboard_groups()
        self.fields["start"].widget.attrs["max"] = values["end"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end:
            if start > end:
                self.add_error("end", _("The end date must not be before the start date."))
            elif (end - start).days > sel.MAX_PERIOD_DAYS:
                self.add_error("start", _("Choose a period of at most three years."))
        return cleaned

    def query(self) -> sel.DashboardQuery:
        data = self.cleaned_data
        return sel.DashboardQuery(
            user=self.user,
            start=data["start"],
            end=data["end"],
            organisation=data.get("organisation"),
            group=data.get("group"),
        )


def _require(request: HttpRequest) -> None:
    if not request.user.has_perm(DASHBOARD_PERM):
        raise PermissionDenied


def _form(request: HttpRequest) -> DashboardFilterForm:
    return DashboardFilterForm(
        request.GET, user=request.user, defaults=sel.default_period(request.user)
    )


def _query_string(query: sel.DashboardQuery) -> str:
    params = {"start": query.start.isoformat(), "end": query.end.isoformat()}
    if query.organisation is not None:
        params["organisation"] = str(query.organisation.pk)
    if query.group is not None:
        params["group"] = str(query.group.pk)
    return urlencode(params)


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    _require(request)
    form = _form(request)
    context: dict[str, Any] = {"form": form}
    if not form.is_valid():
        for name in form.errors:
            if name in form.fields:
                form.fields[name].widget.attrs["aria-describedby"] = f"id_{name}_error"
        return render(request, "servicedesk/dashboard/index.html", context, status=400)
    query = form.query()
    board = sel.dashboard(query)
    tables = sel.dashboard_tables(board)
    context.update(
        board=board,
        query=query,
        tables=tables,
        charts=_charts(board),
        query_string=_query_string(query),
        as_of=timezone.localtime(query.as_of - datetime.timedelta(microseconds=1)).date(),
    )
    return render(request, "servicedesk/dashboard/index.html", context)


# Charts --------------------------------------------------------------------------------------


def _day(day: datetime.date) -> str:
    return formats.date_format(day, "SHORT_DATE_FORMAT")


def _charts(board: sel.Dashboard) -> dict[str, Any]:
    result: dict[str, Any] = {}

    backlog = board.backlog
    if backlog:
        peak = max(range(len(backlog)), key=lambda i: (backlog[i].total, i))
        last = len(backlog) - 1
        notes = [
            charts.Note(
                peak,
                backlog[peak].total,
                f"{charts.fmt(backlog[peak].total)} ({_day(backlog[peak].day)})",
            ),
        ]
        desc = _(
            "Open tickets at the end of each day from %(start)s to %(end)s. The backlog was "
            "%(first)s at the start, highest at %(peak)s on %(peak_day)s and %(last)s on "
            "%(last_day)s; of these %(second)s were with the second line."
        ) % {
            "start": _day(backlog[0].day),
            "end": _day(backlog[last].day),
            "first": charts.fmt(backlog[0].total),
            "peak": charts.fmt(backlog[peak].total),
            "peak_day": _day(backlog[peak].day),
            "last": charts.fmt(backlog[last].total),
            "last_day": _day(backlog[last].day),
            "second": charts.fmt(backlog[last].second_line),
        }
    else:
        notes, desc = [], _("No backlog snapshots in this period.")
    result["backlog"] = charts.line_chart(
        chart_id="chart-backlog",
        title=_("Open tickets per day"),
        desc=desc,
        days=[p.day for p in backlog],
        series=[
            charts.Series(_("Total"), [p.total for p in backlog], emphasis=True),
            charts.Series(_("Second line"), [p.second_line for p in backlog]),
            charts.Series(_("First line"), [p.first_line for p in backlog]),
        ],
        notes=notes,
    )

    flow = board.flow
    more_out = sum(1 for w in flow if w.outflow > w.inflow)
    result["flow"] = charts.bar_chart(
        chart_id="chart-flow",
        title=_("New and finished tickets per week"),
        desc=_(
            "Per ISO week, new tickets (solid bars) and tickets resolved or cancelled (hatched "
            "bars): %(new)s new and %(done)s finished in all; more were finished than arrived "
            "in %(weeks)s of %(all)s weeks."
        )
        % {
            "new": charts.fmt(sum(w.inflow for w in flow)),
            "done": charts.fmt(sum(w.outflow for w in flow)),
            "weeks": more_out,
            "all": len(flow),
        },
        labels=[_("w%(week)s") % {"week": w.iso_week[1]} for w in flow],
        series=[
            charts.Series(_("New"), [w.inflow for w in flow]),
            charts.Series(_("Resolved or cancelled"), [w.outflow for w in flow]),
        ],
        tick_every=max(1, round(len(flow) / 13)),
    )

    months = board.first_line_months
    result["first_line"] = charts.bar_chart(
        chart_id="chart-first-line",
        title=_("Share resolved in first line per month"),
        desc=_(
            "Per month, the share of resolved tickets that the first line resolved without "
            "escalating: %(rate)s %% over the whole period (%(first)s of %(resolved)s)."
        )
        % {
            "rate": charts.fmt(board.first_line.rate, 1),
            "first": charts.fmt(board.first_line.in_first_line),
            "resolved": charts.fmt(board.first_line.resolved),
        },
        labels=[date_format(datetime.date.fromisoformat(m.label + "-01"), "M") for m in months],
        series=[charts.Series(_("First line"), [m.rate for m in months])],
        value_labels=True,
        suffix=" %",
        y_top=100,
        width=560,
        height=260,
    )

    times = board.line_times
    result["line_times"] = charts.hbar_chart(
        chart_id="chart-line-times",
        title=_("Median hours in each line"),
        desc=_("Median wall-clock hours a resolved ticket spent in each line: %(parts)s.")
        % {"parts": "; ".join(f"{t.label} {charts.fmt(t.median_hours, 1)} h" for t in times)},
        labels=[t.label for t in times],
        values=[t.median_hours for t in times],
        decimals=1,
        suffix=" h",
    )

    ages = board.ageing
    result["ageing"] = charts.hbar_chart(
        chart_id="chart-ageing",
        title=_("Open tickets by age"),
        desc=_("Open tickets by how long they have been open: %(parts)s.")
        % {"parts": "; ".join(f"{a.label}: {charts.fmt(a.count)}" for a in ages)},
        labels=[a.label for a in ages],
        values=[a.count for a in ages],
    )

    rating = board.satisfaction
    result["satisfaction"] = charts.hbar_chart(
        chart_id="chart-satisfaction",
        title=_("Ratings from 1 to 5"),
        desc=_("%(count)s ratings, average %(average)s of 5: %(parts)s.")
        % {
            "count": charts.fmt(rating.count),
            "average": charts.fmt(rating.average, 2),
            "parts": "; ".join(
                _("%(score)s: %(n)s") % {"score": score, "n": charts.fmt(n)}
                for score, n in reversed(rating.distribution)
            ),
        },
        labels=[
            _("%(score)s of 5") % {"score": score} for score, _n in reversed(rating.distribution)
        ],
        values=[n for _score, n in reversed(rating.distribution)],
        label_width=90,
    )

    categories = board.categories
    result["categories"] = charts.hbar_chart(
        chart_id="chart-categories",
        title=_("New tickets per category"),
        desc=_("The categories with most new tickets in the period: %(parts)s.")
        % {"parts": "; ".join(f"{c.name}: {charts.fmt(c.created)}" for c in categories)},
        labels=[c.name for c in categories],
        values=[c.created for c in categories],
        width=560,
        label_width=190,
    )
    return result


# Exports -------------------------------------------------------------------------------------


def _filename(table: Table, query: sel.DashboardQuery, extension: str) -> str:
    return f"arende-{table.name.replace('_', '-')}-{query.start}-{query.end}.{extension}"


def _filter_summary(query: sel.DashboardQuery) -> list[tuple[str, str]]:
    return [
        (_("Period"), f"{query.start.isoformat()} – {query.end.isoformat()}"),
        (_("Organisation"), str(query.organisation or _("All organisations"))),
        (_("Group"), str(query.group or _("All groups"))),
        (_("Created"), timezone.localtime().strftime("%Y-%m-%d %H:%M")),
    ]


def _csv(table: Table, query: sel.DashboardQuery) -> HttpResponse:
    return csv_response(table, _filename(table, query, "csv"))


def _xlsx(table: Table, query: sel.DashboardQuery) -> HttpResponse:
    return xlsx_response(table, _filename(table, query, "xlsx"), _filter_summary(query))


@login_required
@require_GET
def dashboard_export(request: HttpRequest, table: str, fmt: str) -> HttpResponse:
    _require(request)
    if table not in sel.EXPORT_TABLES or fmt not in ("csv", "xlsx"):
        raise Http404
    form = _form(request)
    if not form.is_valid():
        errors = "; ".join(f"{name}: {' '.join(errs)}" for name, errs in form.errors.items())
        return HttpResponse(errors, status=400, content_type="text/plain; charset=utf-8")
    query = form.query()
    result = sel.export_table(query, table)
    return _csv(result, query) if fmt == "csv" else _xlsx(result, query)
