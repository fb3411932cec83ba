"""Changes: the list, a request for change, its page with the board's decisions and the
implementation and review, and the change calendar (a month with its warnings)."""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from arende.core.models import RoleAssignment
from arende.core.pagination import CappedPaginator
from arende.operations import forms as ops_forms
from arende.operations import selectors
from arende.operations.models import Change
from arende.operations.services import changes as services
from arende.operations.views.common import can, require, run_action

VIEW = "operations.view_change"
ADD = "operations.add_change"
CHANGE = "operations.change_change"
APPROVE = "operations.approve_change"
MANAGE = "operations.manage_change"
Status = Change.Status


@login_required
def change_list(request: HttpRequest) -> HttpResponse:
    require(request, VIEW)
    changes = (
        Change.objects.visible_to(request.user)
        .select_related("requester", "template")
        .prefetch_related("services")
        .order_by("-planned_start", "-pk")
    )
    state = request.GET.get("state", "")
    if state == "waiting":
        changes = changes.filter(status=Status.SUBMITTED)
    elif state in Status.values:
        changes = changes.filter(status=state)
    page_obj = CappedPaginator(changes, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "operations/change_list.html",
        {
            "page_obj": page_obj,
            "state": state,
            "query": f"state={state}" if state else "",
            "states": Status.choices,
            "can_add": request.user.has_perm(ADD),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def change_create(request: HttpRequest) -> HttpResponse:
    require(request, ADD)
    form = ops_forms.ChangeForm(request.POST or None, user=request.user)
    created: dict[str, Change] = {}

    def apply(data: dict[str, Any]) -> None:
        created["change"] = services.change_create(
            actor=request.user,
            title=data["title"],
            type=data["type"],
            template=data["template"],
            description=data["description"],
            reason=data["reason"],
            organisations=data["organisations"],
            services=data["services"],
            systems=data["systems"],
            risk_answers=form.risk_answers(),
            planned_start=data["planned_start"],
            planned_end=data["planned_end"],
            implementation_plan=data["implementation_plan"],
            backout_plan=data["backout_plan"],
            implementer=data["implementer"],
        )

    def rerender(bound, status: int) -> HttpResponse:
        return render(request, "operations/change_form.html", {"form": bound}, status=status)

    if request.method == "GET":
        return rerender(form, 200)
    response = run_action(
        request, form=form, apply=apply, success=_("Change saved as a draft."),
        redirect_to=reverse("operations:change_list"), rerender=rerender,
    )  # fmt: skip
    if "change" in created:
        return redirect("operations:change_detail", pk=created["change"].pk)
    return response


def _load(request: HttpRequest, pk: int) -> Change:
    return get_object_or_404(
        Change.objects.visible_to(request.user)
        .select_related("requester", "implementer", "template")
        .prefetch_related("services", "organisations", "approver_roles"),
        pk=pk,
    )


def _can_decide(user: Any, change: Change) -> bool:
    if not can(user, APPROVE, change):
        return False
    decided = set(change.approvals.values_list("role_id", flat=True))
    roles = {role.pk for role in change.approver_roles.all()} - decided
    return RoleAssignment.objects.filter(user=user, role__in=roles).exists()


def _panels(change: Change, user: Any) -> dict[str, Any]:
    panels: dict[str, Any] = {}
    version = {"version": change.version}
    work = can(user, CHANGE, change)
    manage = can(user, MANAGE, change)
    if work and change.status == Status.DRAFT:
        panels["submit"] = ops_forms.VersionedForm(initial=version)
    decidable = change.status == Status.SUBMITTED or (
        change.type == Change.Type.EMERGENCY
        and change.status in (Status.IN_PROGRESS, Status.IMPLEMENTED)
        and change.approved_at is None
    )
    if decidable and _can_decide(user, change):
        panels["decide"] = ops_forms.DecisionForm()
    if manage and change.status == Status.APPROVED:
        panels["schedule"] = ops_forms.VersionedForm(initial=version)
    startable = {Status.APPROVED, Status.SCHEDULED}
    if change.type == Change.Type.EMERGENCY:
        startable.add(Status.SUBMITTED)
    if work and change.status in startable:
        panels["start"] = ops_forms.VersionedForm(initial=version)
    if work and change.status == Status.IN_PROGRESS:
        panels["implement"] = ops_forms.ImplementForm(
            initial={
                **version,
                "actual_start": timezone.localtime(change.actual_start),
                "actual_end": timezone.localtime().replace(second=0, microsecond=0),
            }
        )
    if manage and change.status == Status.IMPLEMENTED:
        panels["review"] = ops_forms.ChangeReviewForm(user=user, change=change, initial=version)
    if work and change.status in (
        Status.DRAFT, Status.SUBMITTED, Status.APPROVED, Status.SCHEDULED,
    ):  # fmt: skip
        panels["edit"] = ops_forms.ChangeEditForm(user=user, change=change)
    if work and change.status in (
        Status.DRAFT, Status.SUBMITTED, Status.APPROVED, Status.SCHEDULED, Status.REJECTED,
    ):  # fmt: skip
        panels["cancel"] = ops_forms.CancelForm(initial=version)
    return panels


def _render(request, change, *, bound=None, status=200) -> HttpResponse:
    panels = _panels(change, request.user)
    if bound is not None:
        panels[bound[0]] = bound[1]
    return render(
        request,
        "operations/change_detail.html",
        {
            "change": change,
            "forms": panels,
            "open_panel": bound[0] if bound else "",
            "approvals": change.approvals.select_related("role", "decided_by").order_by("at"),
            "risk": [
                (question.text, change.risk_answers.get(question.key))
                for question in services.RISK_QUESTIONS
            ],
            "blackouts": services.blackouts_overlapping(change.planned_start, change.planned_end),
            "overlapping": Change.objects.visible_to(request.user)
            .filter(planned_start__lt=change.planned_end, planned_end__gt=change.planned_start)
            .exclude(pk=change.pk)
            .exclude(status__in=(Status.CANCELLED, Status.REJECTED)),
            "incidents": change.caused_incidents.all(),
            "maintenance": change.maintenance_windows.all(),
        },
        status=status,
    )


@login_required
def change_detail(request: HttpRequest, pk: int) -> HttpResponse:
    require(request, VIEW)
    return _render(request, _load(request, pk))


@login_required
@require_POST
def change_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    require(request, VIEW)
    change = _load(request, pk)
    user = request.user
    panels = _panels(change, user)
    if action not in panels:
        if action in (
            "edit", "submit", "decide", "schedule", "start", "implement", "review", "cancel",
        ):  # fmt: skip
            raise PermissionDenied
        raise Http404
    here = reverse("operations:change_detail", args=[change.pk])

    def version(data: dict[str, Any]) -> int | None:
        return data.get("version") or None

    def edit(data: dict[str, Any]) -> None:
        form = table["edit"][0]
        services.change_update(
            actor=user,
            change=change,
            version=version(data),
            risk_answers=form.risk_answers(),
            services=data["services"],
            **{name: data[name] for name in services.EDITABLE},
        )

    table = {
        "edit": (
            ops_forms.ChangeEditForm(request.POST, user=user, change=change),
            edit,
            _("Saved."),
        ),
        "submit": (
            ops_forms.VersionedForm(request.POST),
            lambda d: services.change_submit(actor=user, change=change, version=version(d)),
            _("Change submitted to the change board."),
        ),
        "decide": (
            ops_forms.DecisionForm(request.POST),
            lambda d: services.change_decide(
                actor=user,
                change=change,
                approve=d["decision"] == "approve",
                comment=d["comment"],
            ),
            _("Decision recorded."),
        ),
        "schedule": (
            ops_forms.VersionedForm(request.POST),
            lambda d: services.change_schedule(actor=user, change=change, version=version(d)),
            _("Change scheduled."),
        ),
        "start": (
            ops_forms.VersionedForm(request.POST),
            lambda d: services.change_start(actor=user, change=change, version=version(d)),
            _("Work started."),
        ),
        "implement": (
            ops_forms.ImplementForm(request.POST),
            lambda d: services.change_implement(
                actor=user,
                change=change,
                version=version(d),
                notes=d["notes"],
                actual_end=d["actual_end"],
                actual_start=d["actual_start"],
            ),
            _("Implementation recorded."),
        ),
        "review": (
            ops_forms.ChangeReviewForm(request.POST, user=user, change=change),
            lambda d: services.change_review(
                actor=user,
                change=change,
                version=version(d),
                outcome=d["outcome"],
                notes=d["notes"],
                incidents=d["incidents"],
            ),
            _("Review recorded."),
        ),
        "cancel": (
            ops_forms.CancelForm(request.POST),
            lambda d: services.change_cancel(
                actor=user, change=change, version=version(d), reason=d["reason"]
            ),
            _("Change cancelled."),
        ),
    }
    form, apply, success = table[action]
    return run_action(
        request, form=form, apply=apply, success=success, redirect_to=here,
        rerender=lambda b, s: _render(request, _load(request, pk), bound=(action, b), status=s),
    )  # fmt: skip


def _month(request: HttpRequest) -> tuple[int, int]:
    text = request.GET.get("month", "")
    try:
        year, month = (int(part) for part in text.split("-"))
        datetime.date(year, month, 1)
        if not 2000 <= year <= 2100:
            raise ValueError
    except ValueError:
        today = timezone.localdate()
        return today.year, today.month
    return year, month


@login_required
def change_calendar(request: HttpRequest) -> HttpResponse:
    require(request, VIEW)
    year, month = _month(request)
    data = selectors.change_calendar(
        Change.objects.visible_to(request.user), year=year, month=month
    )
    first = datetime.date(year, month, 1)
    previous = first - datetime.timedelta(days=1)
    following = first + datetime.timedelta(days=32)
    return render(
        request,
        "operations/change_calendar.html",
        {
            **data,
            "month_start": first,
            "previous": f"{previous.year}-{previous.month:02d}",
            "next": f"{following.year}-{following.month:02d}",
        },
    )
