"""SLA compliance report (/sla/), the list of breaches, and their CSV and Excel exports.

Every figure comes from ``compliance.compliance`` with the filters of the form; the exports run
the same selector with the same filters, so a file always says what the page says.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from arende.core.exports import csv_response, xlsx_response
from arende.core.pagination import CappedPaginator
from arende.servicedesk import charts
from arende.servicedesk import selectors_dashboard as dashboard_selectors
from arende.servicedesk.views.dashboard import DashboardFilterForm, _filter_summary, _require
from arende.sla import compliance as sel
from arende.sla.models import Metric

BREACHES_PER_PAGE = 50


class ComplianceFilterForm(DashboardFilterForm):
    metric = forms.ChoiceField(
        label=gettext_lazy("Metric"),
        required=False,
        choices=[("", gettext_lazy("All metrics")), *Metric.choices],
    )

    def __init__(self, data: Any, **kwargs: Any):
        super().__init__(data, **kwargs)
        if data.get("metric"):
            self.data = {**self.data, "metric": data["metric"]}

    def query(self) -> sel.ComplianceQuery:
        base = super().query()
        return sel.ComplianceQuery(
            user=base.user,
            start=base.start,
            end=base.end,
            organisation=base.organisation,
            group=base.group,
            metric=self.cleaned_data.get("metric") or "",
        )


def _form(request: HttpRequest) -> ComplianceFilterForm:
    return ComplianceFilterForm(
        request.GET,
        user=request.user,
        defaults=dashboard_selectors.default_period(request.user),
    )


def _query_string(query: sel.ComplianceQuery) -> str:
    params = {"start": query.start.isoformat(), "end": query.end.isoformat()}
    if query.organisation is not None:
        params["organisation"] = str(query.organisation.pk)
    if query.group is not None:
        params["group"] = str(query.group.pk)
    if query.metric:
        params["metric"] = query.metric
    return urlencode(params)


def _invalid(request: HttpRequest, form: ComplianceFilterForm, template: str) -> HttpResponse:
    for name in form.errors:
        if name in form.fields:
            form.fields[name].widget.attrs["aria-describedby"] = f"id_{name}_error"
    return render(request, template, {"form": form}, status=400)


@login_required
@require_GET
def report(request: HttpRequest) -> HttpResponse:
    _require(request)
    form = _form(request)
    if not form.is_valid():
        return _invalid(request, form, "sla/report.html")
    query = form.query()
    result = sel.compliance(query)
    months = result.by["month"]
    chart = charts.bar_chart(
        chart_id="sla-months",
        title=_("SLA compliance per month"),
        desc=_("Share of clocks that met their target, per month, in per cent."),
        labels=[row.label for row in months],
        series=[
            charts.Series(
                _("Compliance (%)"),
                [float(row.rate) if row.rate is not None else None for row in months],
            )
        ],
        value_labels=True,
        suffix=" %",
        y_top=100,
    )
    tables = [result.table(name) for name in sel.DIMENSIONS]
    return render(
        request,
        "sla/report.html",
        {
            "form": form,
            "query": query,
            "result": result,
            "chart": chart,
            "tables": tables,
            "query_string": _query_string(query),
        },
    )


@login_required
@require_GET
def breach_list(request: HttpRequest) -> HttpResponse:
    _require(request)
    form = _form(request)
    if not form.is_valid():
        return _invalid(request, form, "sla/breaches.html")
    query = form.query()
    page = CappedPaginator(sel.breaches(query), BREACHES_PER_PAGE).get_page(request.GET.get("page"))
    clocks = list(page.object_list)
    table = sel.breaches_table(clocks)
    return render(
        request,
        "sla/breaches.html",
        {
            "form": form,
            "query": query,
            "page": page,
            "table": table,
            "rows": list(zip(clocks, table.rows, strict=True)),
            "query_string": _query_string(query),
        },
    )


@login_required
@require_GET
def export(request: HttpRequest, table: str, fmt: str) -> HttpResponse:
    _require(request)
    if fmt not in ("csv", "xlsx") or (table not in sel.DIMENSIONS and table != "breaches"):
        raise Http404
    form = _form(request)
    if not form.is_valid():
        errors = "; ".join(f"{name}: {' '.join(errs)}" for name, errs in form.errors.items())
        return HttpResponse(errors, status=400, content_type="text/plain; charset=utf-8")
    query = form.query()
    if table == "breaches":
        result = sel.breaches_table(list(sel.breaches(query)[: sel.BREACH_EXPORT_LIMIT]))
    else:
        result = sel.compliance(query).table(table)
    filename = f"arende-{result.name}-{query.start}-{query.end}.{fmt}"
    if fmt == "csv":
        return csv_response(result, filename)
    return xlsx_response(result, filename, _filter_summary(query))
