"""The quarantine and the list of incoming mail; each person's notification choices.

Handling mail needs ``mail.manage_inbound`` (IT manager, administrator) for the organisation of
the mailbox; a message of another organisation answers 404 like a missing one. Every write
goes through the services in ``arende.mail.services``.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from arende.core.errors import ValidationFailed
from arende.core.pagination import CappedPaginator
from arende.mail import selectors
from arende.mail.forms import AssignForm, PreferencesForm
from arende.mail.models import InboundMessage
from arende.mail.parsing import ParseFailure, parse_message
from arende.mail.services import intake
from arende.mail.services.settings import notification_preferences_set
from arende.servicedesk.models import Ticket

PAGE_SIZE = 50
# Quarantined first: that is what needs a person.
STATES = sorted(InboundMessage.State.choices, key=lambda choice: choice[0] != "quarantined")


def _require_manage(request: HttpRequest) -> None:
    if not request.user.has_perm(selectors.MANAGE_PERM):
        raise PermissionDenied


def _message_or_404(request: HttpRequest, pk: int) -> InboundMessage:
    message = selectors.inbound_message(request.user, pk)
    if message is None:
        raise Http404
    return message


@login_required
@require_GET
def inbound_list(request: HttpRequest) -> HttpResponse:
    """Incoming mail by state; quarantined first, since that is what needs a person."""
    _require_manage(request)
    state = request.GET.get("state", InboundMessage.State.QUARANTINED)
    if state not in InboundMessage.State.values and state != "all":
        state = InboundMessage.State.QUARANTINED
    queryset = selectors.inbound_messages(request.user, state=None if state == "all" else state)
    page_obj = CappedPaginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    counts = selectors.state_counts(request.user)
    tabs = [
        {
            "value": value,
            "label": label,
            "count": counts.get(value, 0),
            "current": value == state,
        }
        for value, label in STATES
    ]
    return render(
        request,
        "mail/inbound_list.html",
        {"page_obj": page_obj, "state": state, "tabs": tabs, "query": f"state={state}"},
    )


@login_required
@require_GET
def inbound_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require_manage(request)
    message = _message_or_404(request, pk)
    return _detail(request, message, AssignForm())


def _detail(
    request: HttpRequest, message: InboundMessage, form: AssignForm, status: int = 200
) -> HttpResponse:
    preview, parse_error = "", ""
    try:
        parsed = parse_message(bytes(message.raw))
        preview = parsed.text[:20000]
        attachments = [(a.filename, len(a.content)) for a in parsed.attachments]
    except ParseFailure as error:
        parse_error, attachments = str(error), []
    headers = bytes(message.raw).split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    return render(
        request,
        "mail/inbound_detail.html",
        {
            "message": message,
            "preview": preview,
            "parse_error": parse_error,
            "attachments": attachments,
            "headers": headers.decode("utf-8", errors="replace")[:20000],
            "form": form,
            "can_act": message.state
            in (InboundMessage.State.QUARANTINED, InboundMessage.State.IGNORED),
        },
        status=status,
    )


@login_required
@require_GET
def inbound_raw(request: HttpRequest, pk: int) -> HttpResponse:
    """The message exactly as it came from the server, as an .eml file."""
    _require_manage(request)
    message = _message_or_404(request, pk)
    response = HttpResponse(bytes(message.raw), content_type="message/rfc822")
    response["Content-Disposition"] = f'attachment; filename="message-{message.pk}.eml"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_POST
def inbound_retry_view(request: HttpRequest, pk: int) -> HttpResponse:
    _require_manage(request)
    message = _message_or_404(request, pk)
    try:
        message = intake.inbound_retry(actor=request.user, message=message)
    except ValidationFailed as error:
        messages.error(request, str(error.message))
        return redirect("mail:inbound_detail", pk=message.pk)
    if message.state == InboundMessage.State.PROCESSED and message.ticket_id:
        messages.success(
            request,
            _("The message was processed: ticket %(reference)s.")
            % {"reference": message.ticket.reference},
        )
    elif message.state == InboundMessage.State.IGNORED:
        messages.warning(request, _("The message was ignored again: it is automatic mail."))
    else:
        messages.error(
            request, _("The message is still quarantined: %(error)s") % {"error": message.error}
        )
    return redirect("mail:inbound_detail", pk=message.pk)


@login_required
@require_POST
def inbound_assign_view(request: HttpRequest, pk: int) -> HttpResponse:
    _require_manage(request)
    message = _message_or_404(request, pk)
    form = AssignForm(request.POST)
    if not form.is_valid():
        return _detail(request, message, form, status=400)
    reference = form.cleaned_data["reference"].strip()
    ticket = Ticket.objects.visible_to(request.user).filter(reference=reference).first()
    if ticket is None:
        form.add_error("reference", _("No ticket with that reference."))
        return _detail(request, message, form, status=400)
    try:
        intake.inbound_assign(actor=request.user, message=message, ticket=ticket)
    except ValidationFailed as error:
        form.add_error("reference", str(error.message))
        return _detail(request, message, form, status=400)
    messages.success(
        request, _("The message was added to ticket %(reference)s.") % {"reference": reference}
    )
    return redirect("mail:inbound_detail", pk=message.pk)


@login_required
@require_POST
def inbound_dismiss_view(request: HttpRequest, pk: int) -> HttpResponse:
    _require_manage(request)
    message = _message_or_404(request, pk)
    try:
        intake.inbound_dismiss(actor=request.user, message=message)
    except ValidationFailed as error:
        messages.error(request, str(error.message))
        return redirect("mail:inbound_detail", pk=message.pk)
    messages.success(request, _("The message was dismissed."))
    return redirect(reverse("mail:inbound_list"))


@login_required
@require_http_methods(["GET", "POST"])
def preferences(request: HttpRequest) -> HttpResponse:
    """Which notifications a member of staff wants by e-mail."""
    if not request.user.has_perm("servicedesk.work_ticket"):
        raise PermissionDenied
    current = selectors.notification_preferences(request.user)
    form = PreferencesForm(request.POST or None, current=current)
    if request.method == "POST" and form.is_valid():
        notification_preferences_set(user=request.user, enabled=dict(form.cleaned_data))
        messages.success(request, _("Your choices are saved."))
        return redirect("mail:preferences")
    return render(request, "mail/preferences.html", {"form": form})
