"""The operations overview (follow-up for the Incident Manager and the IT manager), the
figures, availability per service, and planned maintenance."""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from arende.operations import charts, selectors
from arende.operations import forms as ops_forms
from arende.operations.models import Change, MajorIncident, PlannedMaintenance, Problem
from arende.operations.services import maintenance as maintenance_services
from arende.operations.views.common import can, run_action
from arende.servicedesk.models import Service

INCIDENT_VIEW = "operations.view_majorincident"
FOLLOW_UP = "operations.change_majorincident"
VIEWS = (INCIDENT_VIEW, "operations.view_change", "operations.view_problem")


def can_see_operations(user: Any) -> bool:
    return any(user.has_perm(perm) for perm in VIEWS)


def _require_any(request: HttpRequest) -> None:
    if not can_see_operations(request.user):
        raise PermissionDenied


def _year(request: HttpRequest) -> int:
    try:
        year = int(request.GET.get("year", ""))
    except ValueError:
        return timezone.localdate().year
    return year if 2000 <= year <= 2100 else timezone.localdate().year


def _working_days(request: HttpRequest) -> int:
    try:
        days = int(request.GET.get("days", ""))
    except ValueError:
        return selectors.DEFAULT_FOLLOWUP_WORKING_DAYS
    return days if 1 <= days <= 60 else selectors.DEFAULT_FOLLOWUP_WORKING_DAYS


@login_required
def overview(request: HttpRequest) -> HttpResponse:
    _require_any(request)
    user = request.user
    context: dict[str, Any] = {"follow_up": user.has_perm(FOLLOW_UP)}
    if user.has_perm(INCIDENT_VIEW):
        context["open_incidents"] = list(selectors.ongoing_incidents(user))
    if context["follow_up"]:
        context["open_reviews"] = list(selectors.open_reviews(user))
        context["overdue_actions"] = list(selectors.overdue_actions(user))
        context["followup"] = selectors.followup_share(
            MajorIncident.objects.visible_to(user), working_days=_working_days(request)
        )
    if user.has_perm("operations.view_change"):
        context["waiting_changes"] = list(
            Change.objects.visible_to(user)
            .filter(status=Change.Status.SUBMITTED)
            .order_by("planned_start")[:20]
        )
        now = timezone.now()
        context["coming_changes"] = list(
            Change.objects.visible_to(user)
            .filter(
                status__in=(Change.Status.APPROVED, Change.Status.SCHEDULED),
                planned_end__gte=now,
            )
            .order_by("planned_start")[:10]
        )
    if user.has_perm("operations.view_problem"):
        context["known_errors"] = list(
            Problem.objects.visible_to(user)
            .filter(status=Problem.Status.KNOWN_ERROR)
            .order_by("-created_at")[:10]
        )
    return render(request, "operations/overview.html", context)


@login_required
def figures(request: HttpRequest) -> HttpResponse:
    _require_any(request)
    user = request.user
    year = _year(request)
    days = _working_days(request)
    incidents = MajorIncident.objects.visible_to(user)
    context: dict[str, Any] = {"year": year, "days": days}
    if user.has_perm(INCIDENT_VIEW):
        year_start = datetime.datetime(year, 1, 1, tzinfo=timezone.get_current_timezone())
        in_year = incidents.filter(
            resolved_at__gte=year_start, resolved_at__lt=year_start.replace(year=year + 1)
        )
        context["followup"] = selectors.followup_share(in_year, working_days=days)
    if user.has_perm("operations.view_change"):
        context["change_months"] = selectors.change_figures(
            Change.objects.visible_to(user), incidents, year=year
        )
    return render(request, "operations/figures.html", context)


@login_required
def availability(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm(INCIDENT_VIEW):
        raise PermissionDenied
    user = request.user
    year = _year(request)
    incidents = MajorIncident.objects.visible_to(user)
    maintenance = PlannedMaintenance.objects.visible_to(user)
    chosen = request.GET.get("service", "")
    service_list = Service.objects.filter(is_active=True).order_by("name")
    if chosen.isdigit():
        service_list = service_list.filter(pk=int(chosen))
    else:
        service_list = service_list.filter(major_incidents__isnull=False).distinct()
    rows = []
    for index, service in enumerate(service_list):
        months = selectors.availability(
            service, year=year, incidents=incidents, maintenance=maintenance
        )
        rows.append(
            {
                "service": service,
                "months": months,
                "chart": charts.availability_chart(
                    chart_id=f"availability-{index}", service_name=service.name, months=months
                ),
            }
        )
    return render(
        request,
        "operations/availability.html",
        {
            "year": year,
            "rows": rows,
            "services": Service.objects.filter(is_active=True).order_by("name"),
            "chosen": chosen,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def maintenance_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not user.has_perm("operations.view_plannedmaintenance"):
        raise PermissionDenied
    may_add = user.has_perm("operations.add_plannedmaintenance")
    form = ops_forms.MaintenanceForm(
        request.POST if request.method == "POST" else None,
        user=user,
        initial={"is_public": True},
    )
    windows = (
        PlannedMaintenance.objects.visible_to(user)
        .prefetch_related("services")
        .select_related("change")
        .order_by("-starts_at")[:100]
    )

    def rerender(bound, status: int) -> HttpResponse:
        return render(
            request,
            "operations/maintenance_list.html",
            {"windows": windows, "form": bound if may_add else None},
            status=status,
        )

    if request.method == "GET":
        return rerender(form, 200)
    if not may_add:
        raise PermissionDenied
    return run_action(
        request,
        form=form,
        apply=lambda d: maintenance_services.maintenance_create(
            actor=user,
            title=d["title"],
            services=d["services"],
            organisations=d["organisations"],
            starts_at=d["starts_at"],
            ends_at=d["ends_at"],
            public_description=d["public_description"],
            internal_note=d["internal_note"],
            is_public=d["is_public"],
            change=d["change"],
        ),
        success=_("Planned maintenance saved."),
        redirect_to=reverse("operations:maintenance_list"),
        rerender=rerender,
    )


@login_required
@require_POST
def maintenance_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    window = get_object_or_404(PlannedMaintenance.objects.visible_to(request.user), pk=pk)
    if not can(request.user, "operations.change_plannedmaintenance", window):
        raise PermissionDenied
    maintenance_services.maintenance_cancel(actor=request.user, window=window, version=None)
    return redirect("operations:maintenance_list")
