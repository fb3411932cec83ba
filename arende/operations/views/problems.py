"""Problems and known errors: the list, a new problem, and its page with linked tickets."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from arende.core.errors import ValidationFailed
from arende.core.pagination import CappedPaginator
from arende.operations import forms as ops_forms
from arende.operations.models import Problem
from arende.operations.services import problems as services
from arende.operations.views.common import can, require, run_action
from arende.servicedesk.models import Ticket

VIEW = "operations.view_problem"
ADD = "operations.add_problem"
CHANGE = "operations.change_problem"


@login_required
def problem_list(request: HttpRequest) -> HttpResponse:
    require(request, VIEW)
    problems = (
        Problem.objects.visible_to(request.user)
        .select_related("owner")
        .prefetch_related("services")
        .order_by("-created_at", "-pk")
    )
    state = request.GET.get("state", "")
    if state in Problem.Status.values:
        problems = problems.filter(status=state)
    page_obj = CappedPaginator(problems, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "operations/problem_list.html",
        {
            "page_obj": page_obj,
            "state": state,
            "query": f"state={state}" if state else "",
            "states": Problem.Status.choices,
            "can_add": request.user.has_perm(ADD),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def problem_create(request: HttpRequest) -> HttpResponse:
    require(request, ADD)
    form = ops_forms.ProblemForm(request.POST or None, user=request.user)
    created: dict[str, Problem] = {}

    def apply(data: dict[str, Any]) -> None:
        created["problem"] = services.problem_create(
            actor=request.user,
            title=data["title"],
            description=data["description"],
            organisations=data["organisations"],
            services=data["services"],
            owner=data["owner"],
        )

    def rerender(bound, status: int) -> HttpResponse:
        return render(request, "operations/problem_form.html", {"form": bound}, status=status)

    if request.method == "GET":
        return rerender(form, 200)
    response = run_action(
        request, form=form, apply=apply, success=_("Problem recorded."),
        redirect_to=reverse("operations:problem_list"), rerender=rerender,
    )  # fmt: skip
    if "problem" in created:
        return redirect("operations:problem_detail", pk=created["problem"].pk)
    return response


def _load(request: HttpRequest, pk: int) -> Problem:
    return get_object_or_404(
        Problem.objects.visible_to(request.user)
        .select_related("owner")
        .prefetch_related("services", "organisations"),
        pk=pk,
    )


def _render(request, problem, *, bound=None, status=200) -> HttpResponse:
    user = request.user
    manage = can(user, CHANGE, problem)
    action_forms: dict[str, Any] = {}
    if manage:
        action_forms = {
            "known": ops_forms.KnownErrorForm(
                initial={
                    "version": problem.version,
                    "root_cause": problem.root_cause,
                    "workaround": problem.workaround,
                }
            ),
            "link": ops_forms.ProblemLinkForm(),
        }
    if bound is not None:
        action_forms[bound[0]] = bound[1]
    links = (
        problem.ticket_links.filter(ticket__in=Ticket.objects.visible_to(user).values("pk"))
        .select_related("ticket", "ticket__requester")
        .order_by("linked_at", "pk")
    )
    return render(
        request,
        "operations/problem_detail.html",
        {
            "problem": problem,
            "links": links,
            "incidents": problem.major_incidents.all(),
            "forms": action_forms,
            "manage": manage,
            "open_panel": bound[0] if bound else "",
        },
        status=status,
    )


@login_required
def problem_detail(request: HttpRequest, pk: int) -> HttpResponse:
    require(request, VIEW)
    return _render(request, _load(request, pk))


@login_required
@require_POST
def problem_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    require(request, VIEW)
    problem = _load(request, pk)
    user = request.user
    if not can(user, CHANGE, problem):
        raise PermissionDenied
    here = reverse("operations:problem_detail", args=[problem.pk])

    def link(data: dict[str, Any]) -> None:
        ticket = Ticket.objects.visible_to(user).filter(reference=data["reference"].strip()).first()
        if ticket is None:
            raise ValidationFailed(_("No ticket with that reference."), field="reference")
        services.problem_link_ticket(actor=user, problem=problem, ticket=ticket)

    if action == "resolve":
        from django.contrib import messages

        try:
            services.problem_resolve(actor=user, problem=problem, version=None)
            messages.success(request, _("Problem resolved."))
        except ValidationFailed as error:
            messages.error(request, error.message)
        return redirect(here)
    if action == "unlink":
        ticket = get_object_or_404(Ticket.objects.visible_to(user), pk=request.POST.get("ticket"))
        services.problem_unlink_ticket(actor=user, problem=problem, ticket=ticket)
        return redirect(here)
    table = {
        "known": (
            ops_forms.KnownErrorForm(request.POST),
            lambda d: services.problem_mark_known_error(
                actor=user,
                problem=problem,
                version=d.get("version") or None,
                root_cause=d["root_cause"],
                workaround=d["workaround"],
            ),
            _("Saved as a known error."),
        ),
        "link": (ops_forms.ProblemLinkForm(request.POST), link, _("Ticket linked.")),
    }
    if action not in table:
        raise Http404
    form, apply, success = table[action]
    return run_action(
        request, form=form, apply=apply, success=success, redirect_to=here,
        rerender=lambda b, s: _render(request, _load(request, pk), bound=(action, b), status=s),
    )  # fmt: skip


@login_required
@require_POST
def ticket_known_error(request: HttpRequest, reference: str) -> HttpResponse:
    """Link a known error from the ticket page (the ``ticket_operations`` tag's form)."""
    from django.contrib import messages

    ticket = get_object_or_404(Ticket.objects.visible_to(request.user), reference=reference)
    problem = get_object_or_404(
        Problem.objects.visible_to(request.user), pk=request.POST.get("problem") or 0
    )
    if not can(request.user, CHANGE, problem):
        raise PermissionDenied
    try:
        services.problem_link_ticket(actor=request.user, problem=problem, ticket=ticket)
        messages.success(request, _("Ticket linked."))
    except ValidationFailed as error:
        messages.error(request, error.message)
    return redirect("servicedesk:ticket", reference=ticket.reference)
