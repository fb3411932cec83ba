"""Pages of the core: home, people, organisations, audit log, system status, health."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from arende.core import access, selectors
from arende.core import home as home_panels
from arende.core.audit import history_of
from arende.core.filters import AuditEventFilter, UserFilter
from arende.core.models import AuditEvent, Department, Organisation, User

PAGE_SIZE = 50


def _require(request: HttpRequest, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied


def _page(request: HttpRequest, queryset):
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


def _query_without_page(request: HttpRequest) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    roles = selectors.role_assignments_of(user, user)
    return render(
        request,
        "core/home.html",
        {
            "roles": roles,
            "is_it_staff": access.is_it_staff(user),
            "panels": home_panels.panels_for(user),
        },
    )


@login_required
def user_list(request: HttpRequest) -> HttpResponse:
    _require(request, "core.view_user")
    filterset = UserFilter(
        request.GET or None,
        queryset=selectors.users_for_directory(request.user),
        request=request,
    )
    queryset = filterset.qs if filterset.is_bound and filterset.is_valid() else filterset.queryset
    return render(
        request,
        "core/user_list.html",
        {
            "filter": filterset,
            "page_obj": _page(request, queryset),
            "query": _query_without_page(request),
        },
    )


@login_required
def user_detail(request: HttpRequest, pk: int) -> HttpResponse:
    person = get_object_or_404(
        User.objects.visible_to(request.user).select_related(
            "organisation", "department", "department__parent"
        ),
        pk=pk,
    )
    can_see_history = request.user.has_perm("core.view_auditevent", person)
    return render(
        request,
        "core/user_detail.html",
        {
            "person": person,
            "roles": selectors.role_assignments_of(person, request.user),
            "history": history_of(person, limit=50) if can_see_history else None,
        },
    )


@login_required
def organisation_list(request: HttpRequest) -> HttpResponse:
    _require(request, "core.view_organisation")
    organisations = (
        Organisation.objects.visible_to(request.user)
        .select_related("host")
        .annotate(user_count=Count("users", distinct=True))
        .order_by("name")
    )
    return render(request, "core/organisation_list.html", {"organisations": organisations})


def _department_tree(departments: list[Department]) -> list[tuple[Department, int]]:
    """Depth-first order with depth, for an indented list."""
    children: dict[int | None, list[Department]] = {}
    for department in departments:
        children.setdefault(department.parent_id, []).append(department)
    ordered: list[tuple[Department, int]] = []

    def walk(parent_id: int | None, depth: int) -> None:
        for department in sorted(children.get(parent_id, []), key=lambda d: d.name):
            ordered.append((department, depth))
            walk(department.pk, depth + 1)

    walk(None, 0)
    return ordered


@login_required
def organisation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    organisation = get_object_or_404(
        Organisation.objects.visible_to(request.user).select_related("host"), pk=pk
    )
    departments = list(
        Department.objects.visible_to(request.user)
        .filter(organisation=organisation)
        .select_related("manager")
        .annotate(user_count=Count("users"))
    )
    return render(
        request,
        "core/organisation_detail.html",
        {
            "organisation": organisation,
            "departments": _department_tree(departments),
            "hosted": Organisation.objects.visible_to(request.user).filter(host=organisation),
        },
    )


@login_required
def audit_list(request: HttpRequest) -> HttpResponse:
    _require(request, "core.view_auditevent")
    base = AuditEvent.objects.visible_to(request.user).select_related("content_type")
    filterset = AuditEventFilter(request.GET or None, queryset=base, request=request)
    queryset = filterset.qs if filterset.is_bound and filterset.is_valid() else base
    return render(
        request,
        "core/audit_list.html",
        {
            "filter": filterset,
            "page_obj": _page(request, queryset),
            "query": _query_without_page(request),
        },
    )


@login_required
def system_status(request: HttpRequest) -> HttpResponse:
    _require(request, "core.view_systemstatus")
    return render(request, "core/system_status.html", {"health": selectors.system_health()})


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """For load balancers and monitoring: 200 when the database and the job queue answer."""
    health = selectors.system_health()
    return JsonResponse(health.as_dict(), status=200 if health.ok else 503)


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "403.html", status=403)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "404.html", status=404)
