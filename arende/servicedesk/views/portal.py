"""The requester portal ("en väg in"): report or order, follow own tickets, reply, rate, approve.

Every ticket is read through ``Ticket.objects.visible_to(user)`` narrowed to the user's own
tickets (requested, watched, or of the department for a department contact): someone else's
ticket answers 404 exactly like a missing one. Requesters see only public activities.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Prefetch
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from arende.core.errors import StaleEdit, ValidationFailed
from arende.servicedesk import approvals, selectors, services
from arende.servicedesk.models import (
    Attachment,
    RequestType,
    SatisfactionRating,
    Service,
    Ticket,
    TicketActivity,
)
from arende.servicedesk.portal_forms import (
    ApprovalForm,
    CancelForm,
    PortalTicketForm,
    RatingForm,
    ReopenForm,
    ReplyForm,
)
from arende.servicedesk.portal_status import status_for_requester
from arende.servicedesk.rating import InvalidRatingLink, ticket_from_rating_token
from arende.servicedesk.services.tickets import (
    RULES,
    ticket_add_attachment,
    ticket_approve,
    ticket_reject,
)

Status = Ticket.Status
PAGE_SIZE = 25


def _get_own_ticket(request: HttpRequest, reference: str) -> Ticket:
    return get_object_or_404(
        selectors.own_tickets(request.user).select_related(
            "requester", "service", "request_type", "request_type__approver_role", "rating"
        ),
        reference=reference,
    )


def _is_requester(user, ticket: Ticket) -> bool:
    return ticket.requester_id == user.pk


# Start page and lists -------------------------------------------------------------------------


def _catalogue() -> list[Service]:
    return list(
        Service.objects.filter(is_public=True, is_active=True)
        .prefetch_related(
            Prefetch(
                "request_types",
                queryset=RequestType.objects.filter(is_active=True).order_by("name"),
                to_attr="portal_request_types",
            )
        )
        .order_by("name")
    )


def _ticket_rows(tickets) -> list[dict[str, Any]]:
    return [{"ticket": ticket, "status": status_for_requester(ticket)} for ticket in tickets]


@login_required
def portal_home(request: HttpRequest) -> HttpResponse:
    user = request.user
    current = list(
        selectors.own_tickets(user)
        .exclude(status__in=[Status.CLOSED, Status.CANCELLED])
        .select_related("requester")
        .order_by("-updated_at", "-pk")[:10]
    )
    return render(
        request,
        "servicedesk/portal/home.html",
        {
            "services": _catalogue(),
            "rows": _ticket_rows(current),
            "approval_count": len(approvals.tickets_awaiting_approval_by(user)),
        },
    )


@login_required
def portal_tickets(request: HttpRequest) -> HttpResponse:
    show = request.GET.get("show", "open")
    tickets = selectors.own_tickets(request.user).select_related("requester")
    if show == "open":
        tickets = tickets.exclude(status__in=Ticket.CLOSED_STATUSES)
    elif show == "finished":
        tickets = tickets.filter(status__in=Ticket.CLOSED_STATUSES)
    else:
        show = "all"
    page = Paginator(tickets.order_by("-updated_at", "-pk"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "servicedesk/portal/tickets.html",
        {
            "page_obj": page,
            "rows": _ticket_rows(page.object_list),
            "show": show,
            "query": f"show={show}",
            "filters": [
                ("open", _("Ongoing")),
                ("finished", _("Solved or closed")),
                ("all", _("All")),
            ],
        },
    )


# Reporting and ordering ------------------------------------------------------------------------


def _submit(
    request: HttpRequest,
    *,
    request_type: RequestType | None,
    service: Service | None = None,
) -> HttpResponse:
    form = PortalTicketForm(
        request.POST or None,
        request.FILES or None,
        request_type=request_type,
        service=service,
    )
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                ticket = services.ticket_create(
                    actor=request.user,
                    channel=Ticket.Channel.PORTAL,
                    requester=request.user,
                    **form.ticket_arguments(),
                )
                for uploaded in form.cleaned_data.get("attachments") or []:
                    ticket_add_attachment(actor=request.user, ticket=ticket, uploaded_file=uploaded)
        except ValidationFailed as error:
            form.add_domain_error(error)
        else:
            if ticket.status == Status.PENDING_APPROVAL:
                messages.success(
                    request,
                    _(
                        "Thank you! Your request %(reference)s is registered. It must be "
                        "approved before IT can start on it."
                    )
                    % {"reference": ticket.reference},
                )
            else:
                messages.success(
                    request,
                    _("Thank you! Your ticket %(reference)s is registered.")
                    % {"reference": ticket.reference},
                )
            return redirect("servicedesk:portal_ticket", reference=ticket.reference)
    return render(
        request,
        "servicedesk/portal/new.html",
        {"form": form, "request_type": request_type},
        status=400 if request.method == "POST" else 200,
    )


@login_required
def portal_new_problem(request: HttpRequest) -> HttpResponse:
    service = None
    if request.GET.get("service", "").isdigit():
        service = Service.objects.filter(
            pk=request.GET["service"], is_public=True, is_active=True
        ).first()
    return _submit(request, request_type=None, service=service)


@login_required
def portal_new_request(request: HttpRequest, request_type_id: int) -> HttpResponse:
    request_type = get_object_or_404(
        RequestType.objects.select_related("service", "approver_role"),
        pk=request_type_id,
        is_active=True,
        service__is_active=True,
        service__is_public=True,
    )
    return _submit(request, request_type=request_type)


# One ticket ------------------------------------------------------------------------------------


def _timeline(ticket: Ticket, viewer) -> list[dict[str, Any]]:
    """Public activities only: internal notes and internal changes never reach this page."""
    activities = (
        TicketActivity.objects.filter(ticket=ticket, is_public=True)
        .select_related("actor")
        .prefetch_related(
            Prefetch(
                "attachments",
                queryset=Attachment.objects.filter(is_public=True),
                to_attr="public_attachments",
            )
        )
        .order_by("at", "pk")
    )
    entries = []
    for activity in activities:
        data = activity.data or {}
        if activity.actor_id is None:
            who = _("Ärende")
        elif activity.actor_id == viewer.pk:
            who = _("You")
        else:
            who = activity.actor.get_full_name() or _("IT")
        what = ""
        if activity.kind == TicketActivity.Kind.REPLY:
            what = _("wrote")
        elif activity.kind == TicketActivity.Kind.RATING:
            what = _("rated the help %(score)s of 5") % {"score": data.get("score")}
        elif activity.kind == TicketActivity.Kind.STATUS:
            to = data.get("to", "")
            if data.get("approved"):
                what = _("approved the request")
            elif data.get("rejected"):
                what = _("turned the request down")
            elif data.get("reopened"):
                what = _("reopened the ticket")
            elif to == Status.RESOLVED:
                what = _("solved the ticket")
            elif to in Status.values:
                what = _("changed the status to “%(status)s”") % {"status": Status(to).label}
        elif activity.kind == TicketActivity.Kind.SYSTEM:
            event = data.get("event")
            if event == "created":
                channel = data.get("channel") or activity.channel
                label = (
                    Ticket.Channel(channel).label.lower()
                    if channel in Ticket.Channel.values
                    else channel
                )
                what = _("registered the ticket (%(channel)s)") % {"channel": label}
            elif event == "attachment":
                what = _("attached a file")
            elif event == "merged_into":
                what = _("joined this ticket with %(reference)s, where the work continues") % {
                    "reference": data.get("target", "")
                }
            else:
                what = _("updated the ticket")
        else:
            what = _("updated the ticket")
        entries.append(
            {
                "activity": activity,
                "who": who,
                "what": what,
                "body": activity.body,
                "is_reply": activity.kind == TicketActivity.Kind.REPLY,
                "from_requester": activity.actor_id is not None
                and activity.actor_id == ticket.requester_id,
                "attachments": activity.public_attachments,
            }
        )
    return entries


def _custom_field_rows(ticket: Ticket) -> list[tuple[str, Any]]:
    values = ticket.custom_fields or {}
    specs = ticket.request_type.fields if ticket.request_type_id else []
    rows = []
    for spec in specs or []:
        name = spec.get("name")
        if name in values and values[name] not in ("", None):
            rows.append((spec.get("label") or name, values[name]))
    return rows


def _ticket_page(
    request: HttpRequest, ticket: Ticket, *, status: int = 200, **forms: Any
) -> HttpResponse:
    user = request.user
    is_requester = _is_requester(user, ticket)
    # A resolved ticket offers "open it again" instead of a reply (which would reopen it too).
    can_reply = ticket.status not in (Status.RESOLVED, Status.CLOSED, Status.CANCELLED)
    can_reopen = is_requester and ticket.status == Status.RESOLVED
    can_cancel = is_requester and ticket.is_open
    try:
        rated = ticket.rating is not None
    except SatisfactionRating.DoesNotExist:
        rated = False
    can_rate = is_requester and ticket.status in (Status.RESOLVED, Status.CLOSED) and not rated
    context = {
        "ticket": ticket,
        "status": status_for_requester(ticket),
        "timeline": _timeline(ticket, user),
        "custom_rows": _custom_field_rows(ticket),
        "is_requester": is_requester,
        "approver": approvals.approver_description(ticket)
        if ticket.status == Status.PENDING_APPROVAL
        else "",
        "reopen_days": RULES.reopen_days,
        "reply_form": forms.get("reply_form") or (ReplyForm() if can_reply else None),
        "reopen_form": forms.get("reopen_form") or (ReopenForm() if can_reopen else None),
        "cancel_form": forms.get("cancel_form")
        or (CancelForm(initial={"version": ticket.version}) if can_cancel else None),
        "rating_form": forms.get("rating_form") or (RatingForm() if can_rate else None),
        "rating": ticket.rating if rated else None,
    }
    return render(request, "servicedesk/portal/ticket.html", context, status=status)


@login_required
def portal_ticket(request: HttpRequest, reference: str) -> HttpResponse:
    return _ticket_page(request, _get_own_ticket(request, reference))


def _after_action(request: HttpRequest, ticket: Ticket, message: str) -> HttpResponse:
    messages.success(request, message)
    return redirect(reverse("servicedesk:portal_ticket", args=[ticket.reference]))


@login_required
@require_POST
def portal_ticket_reply(request: HttpRequest, reference: str) -> HttpResponse:
    ticket = _get_own_ticket(request, reference)
    form = ReplyForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            with transaction.atomic():
                services.ticket_reply(
                    actor=request.user, ticket=ticket, body=form.cleaned_data["body"]
                )
                for uploaded in form.cleaned_data.get("attachments") or []:
                    ticket_add_attachment(actor=request.user, ticket=ticket, uploaded_file=uploaded)
        except ValidationFailed as error:
            form.add_domain_error(error)
        else:
            return _after_action(request, ticket, _("Your message has been sent."))
    ticket = _get_own_ticket(request, reference)
    return _ticket_page(request, ticket, status=400, reply_form=form)


@login_required
@require_POST
def portal_ticket_reopen(request: HttpRequest, reference: str) -> HttpResponse:
    ticket = _get_own_ticket(request, reference)
    if not _is_requester(request.user, ticket):
        raise Http404
    form = ReopenForm(request.POST)
    if form.is_valid():
        try:
            services.ticket_reopen(
                actor=request.user, ticket=ticket, reason=form.cleaned_data["reason"]
            )
        except ValidationFailed as error:
            form.add_domain_error(error)
        else:
            return _after_action(
                request, ticket, _("The ticket is open again. We will look at it.")
            )
    return _ticket_page(request, ticket, status=400, reopen_form=form)


@login_required
@require_POST
def portal_ticket_cancel(request: HttpRequest, reference: str) -> HttpResponse:
    ticket = _get_own_ticket(request, reference)
    if not _is_requester(request.user, ticket):
        raise Http404
    form = CancelForm(request.POST)
    if form.is_valid():
        try:
            services.ticket_cancel(
                actor=request.user,
                ticket=ticket,
                version=form.cleaned_data["version"],
                reason=form.cleaned_data["reason"]
                or _("The requester no longer needs help with this."),
            )
        except StaleEdit:
            messages.error(
                request,
                _(
                    "The ticket changed while you were reading it, so it was not cancelled. "
                    "Look at what happened and try again if you still want to cancel it."
                ),
            )
            return redirect(reverse("servicedesk:portal_ticket", args=[ticket.reference]))
        except ValidationFailed as error:
            form.add_domain_error(error)
        else:
            return _after_action(request, ticket, _("The ticket has been cancelled."))
    return _ticket_page(request, ticket, status=400, cancel_form=form)


@login_required
@require_POST
def portal_ticket_rate(request: HttpRequest, reference: str) -> HttpResponse:
    ticket = _get_own_ticket(request, reference)
    if not _is_requester(request.user, ticket):
        raise Http404
    form = RatingForm(request.POST)
    if form.is_valid():
        try:
            services.ticket_rate(
                ticket=ticket,
                score=int(form.cleaned_data["score"]),
                comment=form.cleaned_data["comment"],
            )
        except ValidationFailed as error:
            if error.code == "already_rated":
                return _after_action(request, ticket, error.message)
            form.add_domain_error(error)
        else:
            return _after_action(request, ticket, _("Thank you for your rating!"))
    return _ticket_page(request, ticket, status=400, rating_form=form)


@login_required
def portal_attachment(request: HttpRequest, reference: str, pk: int) -> FileResponse:
    ticket = _get_own_ticket(request, reference)
    attachment = get_object_or_404(Attachment, pk=pk, ticket=ticket, is_public=True)
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    return FileResponse(
        handle,
        as_attachment=True,
        filename=attachment.filename,
        content_type=attachment.content_type,
    )


# Approvals -------------------------------------------------------------------------------------


@login_required
def portal_approvals(request: HttpRequest) -> HttpResponse:
    tickets = approvals.tickets_awaiting_approval_by(request.user)
    return render(
        request,
        "servicedesk/portal/approvals.html",
        {
            "items": [
                {
                    "ticket": ticket,
                    "custom_rows": _custom_field_rows(ticket),
                    "form": ApprovalForm(prefix=f"t{ticket.pk}"),
                }
                for ticket in tickets
            ]
        },
    )


@login_required
@require_POST
def portal_approval_decide(request: HttpRequest, reference: str) -> HttpResponse:
    # Approvers do not otherwise see the requester's ticket: the right to decide is the access.
    ticket = (
        Ticket.objects.filter(reference=reference, status=Status.PENDING_APPROVAL)
        .select_related("request_type", "request_type__service", "requester", "department")
        .first()
    )
    if ticket is None or not approvals.can_approve(request.user, ticket):
        raise Http404
    form = ApprovalForm(request.POST, prefix=f"t{ticket.pk}")
    if form.is_valid():
        try:
            if form.cleaned_data["decision"] == "approve":
                ticket_approve(
                    actor=request.user, ticket=ticket, comment=form.cleaned_data["comment"]
                )
                message = _("You approved %(reference)s. IT can start on it now.")
            else:
                ticket_reject(
                    actor=request.user, ticket=ticket, reason=form.cleaned_data["comment"]
                )
                message = _("You turned down %(reference)s. The requester will see why.")
        except ValidationFailed as error:
            form.add_domain_error(error)
        else:
            messages.success(request, message % {"reference": ticket.reference})
            return redirect("servicedesk:portal_approvals")
    items = []
    for other in approvals.tickets_awaiting_approval_by(request.user):
        items.append(
            {
                "ticket": other,
                "custom_rows": _custom_field_rows(other),
                "form": form if other.pk == ticket.pk else ApprovalForm(prefix=f"t{other.pk}"),
            }
        )
    return render(request, "servicedesk/portal/approvals.html", {"items": items}, status=400)


# Rating through the signed link (no login) ------------------------------------------------------


def portal_rate(request: HttpRequest, token: str) -> HttpResponse:
    """The page behind the link in the "your ticket is solved" message. Works logged out."""
    try:
        ticket = ticket_from_rating_token(token)
    except InvalidRatingLink as error:
        return render(
            request,
            "servicedesk/portal/rate.html",
            {"state": "invalid", "message": error.message},
            status=404,
        )
    try:
        already = ticket.rating is not None
    except SatisfactionRating.DoesNotExist:
        already = False
    context: dict[str, Any] = {"ticket": ticket}
    if already:
        context["state"] = "thanks" if request.GET.get("sent") else "already"
        return render(request, "servicedesk/portal/rate.html", context)
    if ticket.status not in (Status.RESOLVED, Status.CLOSED):
        context["state"] = "not_resolved"
        return render(request, "servicedesk/portal/rate.html", context)
    form = RatingForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.ticket_rate(
                ticket=ticket,
                score=int(form.cleaned_data["score"]),
                comment=form.cleaned_data["comment"],
            )
        except ValidationFailed as error:
            if error.code != "already_rated":
                form.add_domain_error(error)
            else:
                context["state"] = "already"
                return render(request, "servicedesk/portal/rate.html", context)
        else:
            return redirect(f"{request.path}?sent=1")
    context.update(state="form", form=form)
    return render(
        request,
        "servicedesk/portal/rate.html",
        context,
        status=400 if request.method == "POST" else 200,
    )


__all__ = [
    "portal_approval_decide",
    "portal_approvals",
    "portal_attachment",
    "portal_home",
    "portal_new_problem",
    "portal_new_request",
    "portal_rate",
    "portal_ticket",
    "portal_ticket_cancel",
    "portal_ticket_reopen",
    "portal_ticket_reply",
    "portal_tickets",
]
