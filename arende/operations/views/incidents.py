"""Major incidents: the list, declaring one, and its page with the timeline, the linked tickets
and the post-incident review. Reads go through ``visible_to``; writes through the services."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from arende.core.errors import DomainError, ValidationFailed
from arende.core.pagination import CappedPaginator
from arende.operations import forms as ops_forms
from arende.operations.models import MajorIncident, ReviewAction
from arende.operations.services import incidents as services
from arende.operations.views.common import can, require, run_action
from arende.servicedesk.models import Ticket

VIEW = "operations.view_majorincident"
ADD = "operations.add_majorincident"
CHANGE = "operations.change_majorincident"
PAGE_SIZE = 50


def _incidents(user):
    return MajorIncident.objects.visible_to(user)


@login_required
def incident_list(request: HttpRequest) -> HttpResponse:
    require(request, VIEW)
    incidents = (
        _incidents(request.user)
        .select_related("lead", "review")
        .prefetch_related("services", "organisations")
        .order_by("-started_at", "-pk")
    )
    state = request.GET.get("state", "")
    if state == "open":
        incidents = incidents.open()
    elif state == "security":
        incidents = incidents.filter(is_security=True)
    page_obj = CappedPaginator(incidents, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "operations/incident_list.html",
        {
            "page_obj": page_obj,
            "state": state,
            "query": f"state={state}" if state else "",
            "can_add": request.user.has_perm(ADD),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def incident_declare(request: HttpRequest) -> HttpResponse:
    require(request, ADD)
    initial: dict[str, Any] = {"lead": request.user.pk, "severity": 2}
    reference = request.GET.get("ticket", "").strip()
    if reference:
        ticket = Ticket.objects.visible_to(request.user).filter(reference=reference).first()
        if ticket is not None:
            initial.update(
                parent_ticket=ticket.reference,
                title=ticket.title,
                services=[ticket.service_id] if ticket.service_id else [],
                organisations=[ticket.organisation_id],
            )
    form = ops_forms.DeclareForm(request.POST or None, user=request.user, initial=initial)

    def apply(data: dict[str, Any]) -> None:
        parent = None
        if data["parent_ticket"]:
            parent = (
                Ticket.objects.visible_to(request.user)
                .filter(reference=data["parent_ticket"].strip())
                .first()
            )
            if parent is None:
                raise ValidationFailed(_("No ticket with that reference."), field="parent_ticket")
        declared = services.major_incident_declare(
            actor=request.user,
            title=data["title"],
            description=data["description"],
            services=data["services"],
            organisations=data["organisations"],
            severity=data["severity"],
            impact=data["impact"],
            lead=data["lead"],
            parent_ticket=parent,
            started_at=data["started_at"],
            detected_at=data["detected_at"],
            public_title=data["public_title"],
            public_summary=data["public_summary"],
            is_security=data["is_security"],
            security_type=data["security_type"],
            attack_source=data["attack_source"],
        )
        holder["incident"] = declared

    holder: dict[str, MajorIncident] = {}

    def rerender(bound, status: int) -> HttpResponse:
        return render(request, "operations/incident_declare.html", {"form": bound}, status=status)

    if request.method == "GET":
        return rerender(form, 200)
    response = run_action(
        request,
        form=form,
        apply=apply,
        success=_("Major incident declared."),
        redirect_to=reverse("operations:incident_list"),
        rerender=rerender,
    )
    if "incident" in holder:
        return redirect("operations:incident_detail", pk=holder["incident"].pk)
    return response


def _load(request: HttpRequest, pk: int) -> MajorIncident:
    return get_object_or_404(
        _incidents(request.user)
        .select_related("lead", "parent_ticket", "caused_by_change", "created_by")
        .prefetch_related("services", "organisations"),
        pk=pk,
    )


def _action_forms(incident: MajorIncident, user: Any) -> dict[str, Any]:
    edit_initial = {
        "version": incident.version,
        **{
            name: getattr(incident, name)
            for name in (
                "title",
                "description",
                "severity",
                "impact",
                "started_at",
                "detected_at",
                "public_title",
                "public_summary",
                "is_security",
                "security_type",
                "attack_source",
                "reported_to_authority",
            )
        },
        "lead": incident.lead_id,
        "caused_by_change": incident.caused_by_change_id,
        "services": [s.pk for s in incident.services.all()],
        "organisations": [o.pk for o in incident.organisations.all()],
    }
    review = getattr(incident, "review", None)
    result = {
        "entry": ops_forms.TimelineForm(),
        "status": ops_forms.IncidentStatusForm(
            incident=incident, initial={"version": incident.version}
        ),
        "link": ops_forms.ReferenceForm(),
        "resolve": ops_forms.ResolveForm(initial={"version": incident.version}),
        "edit": ops_forms.EditIncidentForm(user=user, initial=edit_initial),
    }
    if review is not None:
        result["review"] = ops_forms.ReviewForm(
            initial={
                "version": review.version,
                "cause": review.cause,
                "what_worked": review.what_worked,
                "what_to_improve": review.what_to_improve,
            }
        )
        result["action"] = ops_forms.ReviewActionForm()
    return result


def _render(
    request: HttpRequest,
    incident: MajorIncident,
    *,
    bound: tuple[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    user = request.user
    manage = can(user, CHANGE, incident)
    action_forms = _action_forms(incident, user) if manage else {}
    if bound is not None:
        action_forms[bound[0]] = bound[1]
    children = (
        Ticket.objects.visible_to(user)
        .filter(parent_id=incident.parent_ticket_id)
        .select_related("requester", "organisation")
        .order_by("created_at", "pk")
        if incident.parent_ticket_id
        else Ticket.objects.none()
    )
    review = getattr(incident, "review", None)
    actions = (
        list(review.actions.select_related("owner").order_by("due_date", "pk"))
        if review is not None
        else []
    )
    return render(
        request,
        "operations/incident_detail.html",
        {
            "incident": incident,
            "timeline": incident.timeline.select_related("author").order_by("at", "pk"),
            "children": children,
            "parent_visible": incident.parent_ticket_id
            and Ticket.objects.visible_to(user).filter(pk=incident.parent_ticket_id).exists(),
            "review": review,
            "actions": actions,
            "forms": action_forms,
            "manage": manage,
            "open_panel": bound[0] if bound else "",
            "problems": incident.problems.all(),
        },
        status=status,
    )


@login_required
def incident_detail(request: HttpRequest, pk: int) -> HttpResponse:
    require(request, VIEW)
    return _render(request, _load(request, pk))


@login_required
@require_POST
def incident_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    require(request, VIEW)
    incident = _load(request, pk)
    if not can(request.user, CHANGE, incident):
        raise PermissionDenied
    user = request.user
    here = reverse("operations:incident_detail", args=[incident.pk])
    review = getattr(incident, "review", None)

    def link(data: dict[str, Any]) -> None:
        ticket = Ticket.objects.visible_to(user).filter(reference=data["reference"].strip()).first()
        if ticket is None:
            raise ValidationFailed(_("No ticket with that reference."), field="reference")
        services.major_incident_link_ticket(actor=user, incident=incident, ticket=ticket)

    def edit(data: dict[str, Any]) -> None:
        changes = {name: data[name] for name in services.EDITABLE if name in data}
        services.major_incident_update(
            actor=user,
            incident=incident,
            version=version_of_data(data),
            services=data["services"],
            organisations=data["organisations"],
            **changes,
        )

    table: dict[str, tuple[Any, Any, str]] = {
        "entry": (
            ops_forms.TimelineForm(request.POST),
            lambda d: services.major_incident_add_entry(
                actor=user,
                incident=incident,
                kind=d["kind"],
                body=d["body"],
                is_public=d["is_public"],
            ),
            _("Entry added to the timeline."),
        ),
        "status": (
            ops_forms.IncidentStatusForm(request.POST, incident=incident),
            lambda d: services.major_incident_set_status(
                actor=user,
                incident=incident,
                version=version_of_data(d),
                status=d["status"],
                message=d["message"],
            ),
            _("Status changed."),
        ),
        "link": (ops_forms.ReferenceForm(request.POST), link, _("Ticket linked.")),
        "resolve": (
            ops_forms.ResolveForm(request.POST),
            lambda d: services.major_incident_resolve(
                actor=user,
                incident=incident,
                version=version_of_data(d),
                resolution=d["resolution"],
                public_message=d["public_message"],
            ),
            _("Major incident resolved; the linked tickets are resolved and answered."),
        ),
        "edit": (ops_forms.EditIncidentForm(request.POST, user=user), edit, _("Saved.")),
    }
    if review is not None:
        table["review"] = (
            ops_forms.ReviewForm(request.POST),
            lambda d: services.review_update(
                actor=user,
                review=review,
                version=version_of_data(d),
                cause=d["cause"],
                what_worked=d["what_worked"],
                what_to_improve=d["what_to_improve"],
            ),
            _("Review saved."),
        )
        table["action"] = (
            ops_forms.ReviewActionForm(request.POST),
            lambda d: services.review_action_add(
                actor=user,
                review=review,
                description=d["description"],
                owner=d["owner"],
                due_date=d["due_date"],
            ),
            _("Action added."),
        )
    if action == "unlink":
        ticket = get_object_or_404(
            Ticket.objects.visible_to(user), pk=request.POST.get("ticket"),
            parent_id=incident.parent_ticket_id,
        )  # fmt: skip
        services.major_incident_unlink_ticket(actor=user, incident=incident, ticket=ticket)
        return redirect(here)
    if action in ("review_complete", "review_reopen") and review is not None:
        try:
            if action == "review_complete":
                services.review_complete(actor=user, review=review, version=None)
                messages.success(request, _("The review is done."))
            else:
                services.review_reopen(actor=user, review=review, version=None)
                messages.success(request, _("The review is open again."))
        except DomainError as error:
            messages.error(request, error.message)
        return redirect(f"{here}#review")
    if action == "action_done" and review is not None:
        item = get_object_or_404(ReviewAction, pk=request.POST.get("item"), review=review)
        services.review_action_set_done(
            actor=user, action=item, done=request.POST.get("done") != "0"
        )
        return redirect(f"{here}#review")
    if action not in table:
        raise Http404
    form, apply, success = table[action]
    return run_action(
        request,
        form=form,
        apply=apply,
        success=success,
        redirect_to=here,
        rerender=lambda bound, status: _render(
            request, _load(request, pk), bound=(action, bound), status=status
        ),
    )


def version_of_data(data: dict[str, Any]) -> int | None:
    return data.get("version") or None
