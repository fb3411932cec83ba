"""Phone intake for the switchboard: from an empty screen to a logged (or solved) call in three
steps. (1) Find the caller by name, e-mail or phone number among the people the switchboard may
see, or take an unknown caller; (2) say what it is about; (3) log the ticket for the first line,
or record it as solved on the call.

The search answers live through HTMX while typing and also works as an ordinary form without
JavaScript. Choosing a caller loads the form with the focus in the summary field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F, Q, QuerySet, Value
from django.db.models.functions import Replace
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from arende.core.errors import ValidationFailed
from arende.core.models import User
from arende.servicedesk import services
from arende.servicedesk.models import Ticket, TicketActivity
from arende.servicedesk.phone_forms import PhoneTicketForm

RESULT_LIMIT = 10
MIN_PHONE_DIGITS = 3
MIN_NAME_LENGTH = 2
_PHONE_QUERY = re.compile(r"^[\d\s+\-()./]+$")
_PHONE_SEPARATORS = " -+()./"


def phone_digits(raw: str) -> str:
    """The significant digits of a phone number, for matching whatever the writing.

    "0513-170 11", "0513 17011" and "+46 513 170 11" all give "51317011": separators go, and so
    do the trunk zero and the Swedish country code, so that a number matches however it was
    stored.
    """
    raw = raw.strip()
    digits = re.sub(r"\D", "", raw)
    if raw.startswith("+") or digits.startswith("00"):
        digits = digits.lstrip("0")
        if digits.startswith("46"):
            digits = digits[2:]
    return digits.lstrip("0")


def _stored_digits():
    expression = F("phone")
    for separator in _PHONE_SEPARATORS:
        expression = Replace(expression, Value(separator), Value(""))
    return expression


def _term_q(term: str) -> Q:
    condition = Q()
    # SQLite compares only ASCII letters case-insensitively: try "åsa" as written and as "Åsa".
    for variant in {term, term.lower(), term.capitalize()}:
        condition |= (
            Q(first_name__icontains=variant)
            | Q(last_name__icontains=variant)
            | Q(email__icontains=variant)
        )
    return condition


@dataclass
class CallerSearch:
    query: str
    people: list[User] = field(default_factory=list)
    more: bool = False
    too_short: bool = False

    @property
    def searched(self) -> bool:
        return bool(self.query) and not self.too_short


def find_callers(viewer: User, query: str, *, limit: int = RESULT_LIMIT) -> CallerSearch:
    """People ``viewer`` may see whose name, e-mail or phone number matches ``query``."""
    query = query.strip()[:100]
    result = CallerSearch(query=query)
    if not query:
        return result
    people: QuerySet[User] = User.objects.visible_to(viewer).filter(is_active=True)
    if _PHONE_QUERY.match(query):
        digits = phone_digits(query)
        if len(digits) < MIN_PHONE_DIGITS:
            result.too_short = True
            return result
        people = people.annotate(phone_digits=_stored_digits()).filter(
            phone_digits__contains=digits
        )
    else:
        terms = [term for term in query.split() if term]
        if len(query) < MIN_NAME_LENGTH:
            result.too_short = True
            return result
        for term in terms:
            people = people.filter(_term_q(term))
    found = list(
        people.select_related("organisation", "department").order_by(
            "last_name", "first_name", "pk"
        )[: limit + 1]
    )
    result.people, result.more = found[:limit], len(found) > limit
    return result


def _require_intake(request: HttpRequest) -> None:
    if not request.user.has_perm("servicedesk.add_ticket"):
        raise PermissionDenied


def _recent_calls(viewer: User) -> list[TicketActivity]:
    return list(
        TicketActivity.objects.filter(
            actor_id=viewer.pk,
            kind=TicketActivity.Kind.SYSTEM,
            channel=Ticket.Channel.PHONE,
            data__event="created",
            ticket__in=Ticket.objects.visible_to(viewer),
        )
        .select_related("ticket", "ticket__requester")
        .order_by("-at", "-pk")[:5]
    )


def _unknown_initial(query: str) -> dict[str, str]:
    if not query:
        return {}
    if _PHONE_QUERY.match(query):
        return {"contact_phone": query}
    if "@" in query:
        return {"contact_email": query}
    return {"contact_name": query}


@login_required
def phone_intake(request: HttpRequest) -> HttpResponse:
    _require_intake(request)
    viewer = request.user
    query = request.GET.get("q", "").strip()
    caller: User | None = None
    unknown = False
    form: PhoneTicketForm | None = None
    caller_tickets: list[Ticket] = []
    status = 200

    if request.method == "POST":
        form = PhoneTicketForm(request.POST, viewer=viewer)
        if form.is_valid():
            solve = form.cleaned_data["action"] == PhoneTicketForm.SOLVE
            try:
                with transaction.atomic():
                    ticket = services.ticket_create(
                        actor=viewer, channel=Ticket.Channel.PHONE, **form.ticket_arguments()
                    )
                    if solve:
                        ticket = services.ticket_resolve(
                            actor=viewer,
                            ticket=ticket,
                            version=ticket.version,
                            resolution=form.cleaned_data.get("description")
                            or _("Solved on the phone call."),
                        )
            except ValidationFailed as error:
                form.add_domain_error(error)
            else:
                values = {"reference": ticket.reference, "name": ticket.requester_label}
                if solve:
                    message = _("Ticket %(reference)s for %(name)s is recorded as solved.")
                else:
                    message = _("Ticket %(reference)s for %(name)s is logged for the service desk.")
                messages.success(request, message % values)
                return redirect("servicedesk:phone_intake")
        status = 400
        caller = form.cleaned_data.get("caller") if hasattr(form, "cleaned_data") else None
        unknown = caller is None
    else:
        chosen = request.GET.get("caller", "")
        if chosen == "unknown":
            unknown = True
            organisations = _initial_organisation(viewer)
            form = PhoneTicketForm(
                viewer=viewer, initial={**_unknown_initial(query), **organisations}
            )
            first_empty = "contact_phone" if "contact_name" in form.initial else "contact_name"
            form.fields[first_empty].widget.attrs["autofocus"] = True
        elif chosen.isdigit():
            caller = get_object_or_404(
                User.objects.visible_to(viewer)
                .filter(is_active=True)
                .select_related("organisation", "department"),
                pk=int(chosen),
            )
            form = PhoneTicketForm(viewer=viewer, initial={"caller": caller.pk})
            caller_tickets = list(
                Ticket.objects.visible_to(viewer)
                .filter(requester=caller)
                .exclude(status__in=Ticket.CLOSED_STATUSES)
                .order_by("-created_at", "-pk")[:5]
            )
            # Step 2 starts where the switchboard will type next.
            form.fields["title"].widget.attrs["autofocus"] = True

    return render(
        request,
        "servicedesk/phone/intake.html",
        {
            "query": query,
            "search": find_callers(viewer, query) if form is None else None,
            "form": form,
            "caller": caller,
            "caller_tickets": caller_tickets,
            "unknown": unknown,
            "recent": _recent_calls(viewer),
            "change_caller_url": reverse("servicedesk:phone_intake")
            + (f"?{urlencode({'q': query})}" if query else ""),
        },
        status=status,
    )


def _initial_organisation(viewer: User) -> dict[str, int]:
    """Preselect the organisation when the switchboard serves only one."""
    from arende.core.models import Organisation

    ids = list(
        Organisation.objects.visible_to(viewer)
        .filter(is_active=True)
        .values_list("pk", flat=True)[:2]
    )
    return {"organisation": ids[0]} if len(ids) == 1 else {}


@login_required
def phone_search(request: HttpRequest) -> HttpResponse:
    """The live results (HTMX). Without HTMX, the full page with the results."""
    _require_intake(request)
    query = request.GET.get("q", "").strip()
    if not request.headers.get("HX-Request"):
        target = reverse("servicedesk:phone_intake")
        return redirect(f"{target}?{urlencode({'q': query})}" if query else target)
    return render(
        request,
        "servicedesk/phone/_results.html",
        {"search": find_callers(request.user, query), "query": query, "oob": True},
    )
