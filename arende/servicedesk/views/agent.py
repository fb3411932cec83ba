"""The agent workspace: queues, bulk actions, saved views, and the ticket page with its actions.

Every read goes through ``selectors.desk_tickets`` (``Ticket.objects.visible_to`` narrowed to
the organisations where the user holds ``servicedesk.view_ticket``): a ticket of another
municipality, or any ticket for a requester, answers 404 like a missing one. Every write goes
through the services. Forms work without JavaScript (post, redirect, get); with HTMX the ticket
page swaps itself in place and keeps proper status codes (400 invalid, 409 stale).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Case, IntegerField, Value, When
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import dateformat, formats, timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from arende.core.errors import StaleEdit, ValidationFailed
from arende.core.html import esc
from arende.core.models import User
from arende.core.pagination import LIST_COUNT_CAP, CappedPaginator
from arende.servicedesk import selectors
from arende.servicedesk.filters import TicketFilter
from arende.servicedesk.forms import (
    ACTION_FORMS,
    BulkForm,
    EditForm,
    SavedViewForm,
    TicketActionForm,
    apply_domain_error,
)
from arende.servicedesk.models import Priority, SlaState, SupportGroup, Ticket
from arende.servicedesk.search import among, rank_search, search_tickets
from arende.servicedesk.services import tickets as ticket_services
from arende.servicedesk.services.saved_views import saved_view_delete, saved_view_save
from arende.sla.formatting import business_duration
from arende.sla.selectors import clocks_for_ticket, time_left_for

PAGE_SIZE = 50
REFERENCE = re.compile(r"\d{4}-\d{6,}")
BULK_RESULT = "servicedesk_bulk_result"

Status = Ticket.Status


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _require_desk(request: HttpRequest) -> None:
    if not request.user.has_perm(selectors.VIEW_PERM):
        raise PermissionDenied


def _clean_query(params: QueryDict | dict[str, Any], *, drop: tuple[str, ...] = ()) -> str:
    """The query string without empty values (and without ``drop``), in a stable order."""
    clean = QueryDict(mutable=True)
    source = params if isinstance(params, QueryDict) else QueryDict(mutable=True)
    if not isinstance(params, QueryDict):
        for key, value in params.items():
            source[key] = value
    for key in sorted(source):
        if key in drop or key == "csrfmiddlewaretoken":
            continue
        values = [value for value in source.getlist(key) if value.strip()]
        if values:
            clean.setlist(key, values)
    return clean.urlencode()


def _queue_url(query: str = "") -> str:
    url = reverse("servicedesk:queue")
    query = _clean_query(QueryDict(query or ""))
    return f"{url}?{query}" if query else url


# Queues ----------------------------------------------------------------------------------------


def _sort_columns(request: HttpRequest, current: str) -> list[dict[str, Any]]:
    labels = {
        "reference": _("Reference"),
        "created": _("Created"),
        "priority": _("Priority"),
        "status": _("Status"),
        "sla": _("SLA"),
        "updated": _("Updated"),
    }
    descending_first = {"created", "updated"}
    active = current.lstrip("-")
    columns = {}
    for key, label in labels.items():
        if key == active:
            direction = "descending" if current.startswith("-") else "ascending"
            next_sort = key if direction == "descending" else f"-{key}"
        else:
            direction = None
            next_sort = f"-{key}" if key in descending_first else key
        params = request.GET.copy()
        params["sort"] = next_sort
        columns[key] = {
            "label": label,
            "url": "?" + _clean_query(params, drop=("page",)),
            "aria_sort": direction,
        }
    return columns


@dataclass(frozen=True)
class Moment:
    """A time as the queue shows it: ISO for ``<time datetime>``, local date, local time."""

    iso: str
    date: str
    time: str


@dataclass
class QueueRow:
    """One row of the queue table: the ticket, its texts prepared once, and its HTML.

    ``ticket`` is a ``selectors.ListedTicket``: the values the table shows, read in one query
    (a column that needs another value adds it there).
    """

    ticket: selectors.ListedTicket
    url: str
    kind: str  # empty for incidents, the common case
    priority: str
    status: str
    requester: str
    organisation: str
    group: str
    assignee: str
    created: Moment
    updated: Moment
    sla_state: str = ""
    sla_left: str = ""  # business time left until the SLA deadline (or over it)
    html: str = ""  # set by _RowFormatter.row: the escaped <tr>


# The queue's rows are written here rather than in the template: with fifty rows of nine
# columns, Django's template engine spent more time on them than the database on the page.
# The header row is in servicedesk/agent/_queue_table.html. A new column: a <th> there, a <td>
# here (and, if it shows another ticket value, that value in selectors.ListedTicket).
ROW_HTML = (
    "<tr>{select}"
    '<td class="mono nowrap">{reference}</td>'
    '<td class="col-title"><a href="{url}">{title}</a>{kind}</td>'
    '<td class="col-two"><span>{requester}</span><span class="muted">{organisation}</span></td>'
    '<td class="nowrap"><span class="prio prio--{priority_value}">{priority}</span></td>'
    '<td class="nowrap"><span class="status status--{status_value}">{status}</span></td>'
    '<td class="col-two nowrap"><span class="sla sla--{sla_value}">{sla_state}</span>'
    '<span class="muted">{sla_left}</span></td>'
    '<td class="col-two"><span>{line_tag}{group}</span><span class="muted">{assignee}</span></td>'
    '<td class="col-two nowrap"><time datetime="{created_iso}"><span>{created_date}</span>'
    '<span class="muted">{created_time}</span></time></td>'
    '<td class="col-two nowrap"><time datetime="{updated_iso}"><span>{updated_date}</span>'
    '<span class="muted">{updated_time}</span></time></td>'
    "</tr>\n"
)
SELECT_HTML = (
    '<td class="col-select"><input type="checkbox" name="tickets" value="{value}" '
    'id="select-{pk}" aria-label="{label}"></td>'
)
KIND_HTML = ' <span class="kind-note">{}</span>'
LINE_TAG_HTML = (
    '<span class="line-tag"><span aria-hidden="true">2</span>'
    '<span class="visually-hidden">{}:</span></span> '
)


# Django date format characters that have a plain strftime equivalent (zero-padded ones only).
_STRFTIME = {"Y": "%Y", "y": "%y", "m": "%m", "d": "%d", "H": "%H", "i": "%M", "s": "%S"}


def _strftime_pattern(django_format: str) -> str | None:
    """``"Y-m-d"`` → ``"%Y-%m-%d"``; None when the format needs Django's own formatter."""
    pattern = []
    for char in django_format:
        if char in _STRFTIME:
            pattern.append(_STRFTIME[char])
        elif char.isalpha() or char in "\\%":
            return None
        else:
            pattern.append(char)
    return "".join(pattern)


class _RowFormatter:
    """Turns tickets into ``QueueRow``s; the labels and formats are looked up once."""

    def __init__(self, *, selectable: bool, time_left: dict[int, int] | None = None) -> None:
        self.selectable = selectable
        self.time_left = time_left or {}
        self.sla_states = {value: str(label) for value, label in SlaState.choices}
        self.kinds = {value: str(label) for value, label in Ticket.Kind.choices}
        self.priorities = {value: str(label) for value, label in Priority.choices}
        self.statuses = {value: str(label) for value, label in Ticket.Status.choices}
        self.date_format = formats.get_format("SHORT_DATE_FORMAT")
        self.time_format = formats.get_format("TIME_FORMAT")
        self.date_pattern = _strftime_pattern(self.date_format)
        self.time_pattern = _strftime_pattern(self.time_format)
        self.ticket_url = reverse("servicedesk:ticket", args=["0000-000000"]).replace(
            "0000-000000", "{}"
        )
        self.select_label = str(_("Select %(reference)s"))
        self.unassigned = esc(_("unassigned"))
        self.line_tag = LINE_TAG_HTML.format(esc(_("Second line")))
        self.zone = timezone.get_current_timezone()

    def _format(self, local, django_format: str, pattern: str | None) -> str:
        return local.strftime(pattern) if pattern else dateformat.format(local, django_format)

    def moment(self, value) -> Moment:
        local = value.astimezone(self.zone)
        return Moment(
            local.isoformat(),
            self._format(local, self.date_format, self.date_pattern),
            self._format(local, self.time_format, self.time_pattern),
        )

    def row(self, ticket: selectors.ListedTicket) -> QueueRow:
        row = QueueRow(
            ticket=ticket,
            url=self.ticket_url.format(ticket.reference),
            kind="" if ticket.kind == Ticket.Kind.INCIDENT else self.kinds.get(ticket.kind, ""),
            priority=self.priorities.get(ticket.priority, str(ticket.priority)),
            status=self.statuses.get(ticket.status, ticket.status),
            requester=ticket.requester_label or "–",
            organisation=ticket.organisation,
            group=ticket.group or "–",
            assignee=ticket.assignee,
            created=self.moment(ticket.created_at),
            updated=self.moment(ticket.updated_at),
            sla_state=self.sla_states.get(ticket.sla_state, "") if ticket.sla_state else "–",
            sla_left=business_duration(self.time_left[ticket.pk])
            if ticket.pk in self.time_left
            else "",
        )
        row.html = self.html(row)
        return row

    def html(self, row: QueueRow) -> SafeString:
        # str.format with every value escaped by ``esc`` (format_html's escaping cost more
        # than the rest of the row; same output).
        ticket = row.ticket
        select = ""
        if self.selectable:
            select = SELECT_HTML.format(
                value=f"{ticket.pk}:{ticket.version}",
                pk=ticket.pk,
                label=esc(self.select_label % {"reference": ticket.reference}),
            )
        return mark_safe(  # noqa: S308 - every value is escaped
            ROW_HTML.format(
                select=select,
                reference=esc(ticket.reference),
                url=esc(row.url),
                title=esc(ticket.title),
                kind=KIND_HTML.format(esc(row.kind)) if row.kind else "",
                requester=esc(row.requester),
                organisation=esc(row.organisation),
                priority_value=esc(ticket.priority),
                priority=esc(row.priority),
                status_value=esc(ticket.status),
                status=esc(row.status),
                sla_value=esc(ticket.sla_state or "none"),
                sla_state=esc(row.sla_state),
                sla_left=esc(row.sla_left),
                line_tag=self.line_tag if ticket.line == Ticket.Line.SECOND else "",
                group=esc(row.group),
                assignee=esc(row.assignee) if row.assignee else self.unassigned,
                created_iso=esc(row.created.iso),
                created_date=esc(row.created.date),
                created_time=esc(row.created.time),
                updated_iso=esc(row.updated.iso),
                updated_date=esc(row.updated.date),
                updated_time=esc(row.updated.time),
            )
        )


def queue_rows(tickets, *, selectable: bool) -> list[QueueRow]:
    """The rows of a queue page (a ticket queryset, e.g. a page's ``object_list``);
    ``selectable`` adds the bulk-action checkbox to each."""
    tickets = selectors.listed_tickets(tickets)
    formatter = _RowFormatter(selectable=selectable, time_left=time_left_for(tickets))
    return [formatter.row(ticket) for ticket in tickets]


class _CountedPaginator(CappedPaginator):
    """A CappedPaginator whose (capped) count was already taken by the caller."""

    def __init__(self, object_list, per_page, *, counted: int, cap: int) -> None:
        super().__init__(object_list, per_page, cap=cap)
        self.__dict__["_counted"] = counted  # fills the cached_property


def _searched(tickets, text: str, *, queue: selectors.Queue, keep_order: bool):
    """The queue narrowed to ``text``, ordered, with its capped count and whether it is ranked.

    Every match is in the result, always. Up to ``LIST_COUNT_CAP`` matches the order is best
    match first (the relevance of each is cheap to score); above it, newest first, and the
    page says so: scoring tens of thousands of matches to show fifty would cost seconds.
    With ``keep_order`` the caller sorts by a column instead.
    """
    matches = search_tickets(
        tickets, text, ranked=False, open_only=queue.open_only, narrow=not queue.open_only
    )
    # The matches' ids, as many as the pages offer, in one pass over the words (the newest
    # when there are more). Counting and then listing would look every match up twice, and
    # a page sorted by a column would have the database walk the whole queue in that order
    # to find a few rare matches; among these ids the page is a look-up by primary key.
    newest = matches.order_by("-search_exact", "-created_at", "-id")
    rows = list(
        (matches.order_by() if keep_order else newest).values_list("pk", "search_exact")[
            : LIST_COUNT_CAP + 1
        ]
    )
    counted = len(rows)
    if keep_order and counted > LIST_COUNT_CAP:
        # Many matches: walking the queue in the column's order finds a page soon enough.
        return matches, counted, False
    exact = [pk for pk, is_exact in rows if is_exact]
    found = Ticket.objects.filter(among([pk for pk, _is_exact in rows], matches.db))
    found = found.annotate(
        search_exact=Case(When(pk__in=exact, then=Value(1)), default=Value(0))
        if exact
        else Value(0, output_field=IntegerField())
    )
    ranked = counted <= LIST_COUNT_CAP and not keep_order
    if ranked:
        found = rank_search(found, text)
    else:
        found = found.order_by("-search_exact", "-created_at", "-id")
    return found, counted, ranked


def _filter_context(request: HttpRequest, filterset: TicketFilter, queue) -> dict[str, Any]:
    return {
        "filter": filterset,
        "queue": queue,
        "text": request.GET.get("q", "").strip(),
        "sort": request.GET.get("sort", ""),
    }


@login_required
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    """One queue of tickets with filters, search, sort, pagination and bulk actions."""
    _require_desk(request)
    user = request.user
    if any(not value.strip() for _key, values in request.GET.lists() for value in values):
        # A submitted filter form sends every empty field; keep the address short and
        # shareable (and the saved views clean).
        return redirect(_queue_url(request.GET.urlencode()))
    current_queue = selectors.queue_named(request.GET.get("queue"))
    text = request.GET.get("q", "").strip()
    if REFERENCE.fullmatch(text):
        found = selectors.desk_tickets(user).filter(reference=text).values_list("reference")
        if found:
            return redirect("servicedesk:ticket", reference=found[0][0])

    tickets = selectors.queue_tickets(user, current_queue.key)
    # Without filters in the address there is no filter set at all (its form and choice
    # lists are built only when filters are in use).
    filtering = TicketFilter.in_use(request.GET)
    filterset = None
    if filtering:
        filterset = TicketFilter(request.GET, queryset=tickets, request=request)
        if filterset.is_valid():
            tickets = filterset.qs
    requested_sort = request.GET.get("sort", "")
    ranked = False
    if text:
        tickets, counted, ranked = _searched(
            tickets, text, queue=current_queue, keep_order=bool(requested_sort)
        )
    if text and not requested_sort:
        sort = ""  # keep the search's own order (best match first, or newest first)
    else:
        tickets, sort = selectors.sort_tickets(tickets, requested_sort)
    if text:
        paginator = _CountedPaginator(tickets, PAGE_SIZE, counted=counted, cap=LIST_COUNT_CAP)
    else:
        paginator = CappedPaginator(tickets, PAGE_SIZE)
    page_obj = paginator.get_page(request.GET.get("page"))

    query = _clean_query(request.GET, drop=("page",))
    active_filters = sum(
        1 for name in TicketFilter.base_filters if request.GET.get(name, "").strip()
    )
    saved_views = list(selectors.saved_views_of(user))
    can_work = user.has_perm(selectors.WORK_PERM)
    return render(
        request,
        "servicedesk/agent/queue.html",
        {
            "queues": [(item, None) for item in selectors.QUEUES],  # counted by queue_counts
            "count_cap": selectors.COUNT_CAP,
            "queue": current_queue,
            "filter": filterset,
            "active_filters": active_filters,
            # The filter form is rendered with the page only when it is in use; otherwise it
            # is fetched when opened (HTMX), or on a page of its own without JavaScript.
            "filters_inline": filterset is not None and bool(active_filters or filterset.errors),
            "text": text,
            "search_order": ("rank" if ranked else "newest") if text and not sort else "",
            "sort": sort,
            "columns": _sort_columns(request, sort or "none"),
            "page_obj": page_obj,
            "rows": queue_rows(page_obj.object_list, selectable=can_work),
            "query": query,
            "saved_views": saved_views,
            "current_view": next((v for v in saved_views if v.query == query), None),
            "view_form": SavedViewForm(initial={"query": query}),
            "bulk_form": BulkForm(initial={"query": _clean_query(request.GET)}),
            "can_work": can_work,
            "bulk_result": request.session.pop(BULK_RESULT, None),
        },
    )


@login_required
@require_GET
def queue_counts(request: HttpRequest) -> HttpResponse:
    """The queue list with each queue's count, fetched by the queue page once it is shown."""
    _require_desk(request)
    counts = selectors.queue_counts(request.user)
    view = request.GET.get("view", "")
    return render(
        request,
        "servicedesk/agent/_queue_counts.html",
        {
            "queues": [(item, counts[item.key]) for item in selectors.QUEUES],
            "count_cap": selectors.COUNT_CAP,
            "queue": selectors.queue_named(request.GET.get("queue")),
            "current_view": view.isdigit(),  # a saved view is current: no queue is
        },
    )


@login_required
@require_GET
def queue_filters(request: HttpRequest) -> HttpResponse:
    """The queue's filter form: a fragment for HTMX, a page of its own without JavaScript.

    Both submit to the queue with the current queue, search and sort kept.
    """
    _require_desk(request)
    current_queue = selectors.queue_named(request.GET.get("queue"))
    filterset = TicketFilter(
        request.GET or None,
        queryset=selectors.queue_tickets(request.user, current_queue.key),
        request=request,
    )
    context = _filter_context(request, filterset, current_queue)
    if _is_htmx(request):
        return render(request, "servicedesk/agent/_filter_fields.html", context)
    return render(request, "servicedesk/agent/filters.html", context)


@login_required
@require_POST
def bulk(request: HttpRequest) -> HttpResponse:
    """Assign or set the status of the selected tickets; report what was refused and why."""
    _require_desk(request)
    if not request.user.has_perm(selectors.WORK_PERM):
        raise PermissionDenied
    form = BulkForm(request.POST)
    back = _queue_url(request.POST.get("query", ""))
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(back)
    rows = dict(form.cleaned_data["tickets"])
    found = {
        ticket.pk: ticket
        for ticket in selectors.desk_tickets(request.user).filter(pk__in=list(rows))
    }
    items = [(found[pk], version) for pk, version in rows.items() if pk in found]
    missing = len(rows) - len(items)
    if form.cleaned_data["action"] == BulkForm.ASSIGN:
        result = ticket_services.tickets_bulk_assign(
            actor=request.user,
            items=items,
            group=form.cleaned_data["group"],
            assignee=form.cleaned_data["assignee"],
        )
    else:
        result = ticket_services.tickets_bulk_set_status(
            actor=request.user, items=items, status=form.cleaned_data["status"]
        )
    # Shown once on the queue page: how many changed, and each refusal with its reason.
    request.session[BULK_RESULT] = {
        "changed": len(result.changed),
        "refused": [
            {"reference": ticket.reference, "reason": reason} for ticket, reason in result.refused
        ],
        "missing": missing,
    }
    return redirect(back)


@login_required
@require_POST
def saved_view_create(request: HttpRequest) -> HttpResponse:
    _require_desk(request)
    form = SavedViewForm(request.POST)
    query = _clean_query(QueryDict(request.POST.get("query", "")), drop=("page",))
    if form.is_valid():
        try:
            view = saved_view_save(user=request.user, name=form.cleaned_data["name"], query=query)
        except ValidationFailed as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("View “%(name)s” saved.") % {"name": view.name})
    else:
        messages.error(request, _("Give the view a name."))
    return redirect(_queue_url(query))


@login_required
@require_POST
def saved_view_remove(request: HttpRequest, pk: int) -> HttpResponse:
    _require_desk(request)
    try:
        saved_view_delete(user=request.user, view_id=pk)
    except ValidationFailed as error:
        raise Http404(error.message) from None
    messages.success(request, _("View deleted."))
    return redirect(_queue_url(request.POST.get("query", "")))


# The ticket page -------------------------------------------------------------------------------


def _available_actions(ticket: Ticket, user: Any) -> list[str]:
    """The actions that make sense for the ticket now, in the order the page lists them."""
    if not selectors.can_work(user, ticket):
        return []
    is_open = ticket.is_open
    working = is_open and ticket.status != Status.PENDING_APPROVAL
    candidates = {
        "reply": is_open,
        "note": True,
        "take": working and ticket.assignee_id != user.pk,
        "assign": is_open,
        "escalate": is_open and ticket.line == 1,
        "hand_back": is_open and ticket.line == 2,
        "status": bool(ticket_services.MANUAL_TRANSITIONS.get(ticket.status)),
        "resolve": working,
        "reopen": ticket.status == Status.RESOLVED,
        "cancel": is_open,
        "edit": True,
        "link": True,
        "merge": is_open and not ticket.merged_into_id,
        "parent": True,
        "watch": True,
    }
    return [action for action in ACTION_FORMS if candidates.get(action)]


# The forms written straight into the ticket page; the panels' forms load when opened.
INLINE_ACTIONS = ("reply", "note", "take")


def _panel_texts() -> dict[str, tuple[str, str]]:
    """Heading and button of each action panel on the ticket page."""
    return {
        "assign": (_("Assign"), _("Assign")),
        "escalate": (_("Escalate to second line"), _("Escalate")),
        "hand_back": (_("Hand back to first line"), _("Hand back")),
        "status": (_("Set status"), _("Set status")),
        "resolve": (_("Resolve"), _("Resolve")),
        "reopen": (_("Reopen"), _("Reopen")),
        "cancel": (_("Cancel the ticket"), _("Cancel the ticket")),
        "edit": (_("Edit details"), _("Save details")),
        "link": (_("Link to another ticket"), _("Link")),
        "merge": (_("Merge into another ticket"), _("Merge")),
        "parent": (_("Parent ticket"), _("Set parent")),
        "watch": (_("Watchers"), _("Save")),
    }


def _render_ticket(
    request: HttpRequest,
    ticket: Ticket,
    *,
    bound: TicketActionForm | None = None,
    stale: StaleEdit | None = None,
    notice: str = "",
    status: int = 200,
) -> HttpResponse:
    user = request.user
    actions = _available_actions(ticket, user)
    # Only the forms the page shows open are built here; a closed panel fetches its form when
    # opened (``ticket_action`` on GET).
    action_forms = {
        action: ACTION_FORMS[action](ticket=ticket, user=user)
        for action in INLINE_ACTIONS
        if action in actions
    }
    if bound is not None:
        action_forms[bound.action] = bound
    # Every action's address, reversed once (a dozen {% url %} tags cost a millisecond).
    action_url = reverse("servicedesk:ticket_action", args=[ticket.reference, "action_name"])
    urls = {action: action_url.replace("action_name", action) for action in actions}
    panels = [
        {
            "action": action,
            "form": action_forms.get(action),
            "title": title,
            "button": button,
            "url": urls[action],
        }
        for action, (title, button) in _panel_texts().items()
        if action in actions
    ]
    return render(
        request,
        "servicedesk/agent/ticket.html",
        {
            "ticket": ticket,
            "timeline": selectors.timeline(ticket, user),
            "relations": selectors.relations(ticket, user),
            "sla_clocks": clocks_for_ticket(ticket),
            "forms": action_forms,
            "action_urls": urls,
            "panels": panels,
            "request_details": selectors.request_details(ticket),
            "open_action": bound.action if bound is not None else "",
            "stale_changes": selectors.describe_changes(stale.changed) if stale else None,
            "stale_message": stale.message if stale else "",
            "notice": notice,
            "can_work": bool(actions),
        },
        status=status,
    )


def _ticket_or_404(request: HttpRequest, reference: str) -> Ticket:
    ticket = get_object_or_404(selectors.ticket_for_page(request.user), reference=reference)
    return selectors.with_page_facts(ticket)


def _action_form_page(request: HttpRequest, ticket: Ticket, action: str) -> HttpResponse:
    titles = _panel_texts()
    if action not in titles or action not in _available_actions(ticket, request.user):
        # Not (or no longer) possible for this ticket, e.g. a panel of a page opened before
        # the ticket was resolved: the ticket page says what can be done now.
        if _is_htmx(request):
            return HttpResponse(
                format_html(
                    '<p class="action-panel__form">{}</p>',
                    _("This action is no longer available. Reload the page to see the ticket now."),
                )
            )
        return redirect("servicedesk:ticket", reference=ticket.reference)
    title, button = titles[action]
    standalone = not _is_htmx(request)
    return render(
        request,
        "servicedesk/agent/action.html" if standalone else "servicedesk/agent/_action_form.html",
        {
            "ticket": ticket,
            "form": ACTION_FORMS[action](ticket=ticket, user=request.user),
            "action": action,
            "title": title,
            "button": button,
            "standalone": standalone,
        },
    )


@login_required
@require_GET
def ticket_detail(request: HttpRequest, reference: str) -> HttpResponse:
    return _render_ticket(request, _ticket_or_404(request, reference))


@login_required
@require_GET
def ticket_attachment(request: HttpRequest, reference: str, pk: int) -> FileResponse:
    """Download a file of the ticket; internal files need ``view_internal_note``."""
    ticket = _ticket_or_404(request, reference)
    attachments = ticket.attachments.all()
    if not request.user.has_perm(selectors.NOTE_PERM, ticket):
        attachments = attachments.filter(is_public=True)
    attachment = get_object_or_404(attachments, pk=pk)
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


def _other_ticket(request: HttpRequest, reference: str) -> Ticket:
    other = selectors.desk_tickets(request.user).filter(reference=reference.strip()).first()
    if other is None:
        raise ValidationFailed(_("No ticket has that reference."), field="reference")
    return other


def _take(request: HttpRequest, ticket: Ticket, form: TicketActionForm) -> str:
    """Assign to oneself, in the ticket's group if one belongs to it, else in one's own group."""
    user = request.user
    groups = list(SupportGroup.objects.filter(members=user, line=ticket.line, is_active=True))
    group = next((g for g in groups if g.pk == ticket.group_id), groups[0] if groups else None)
    if group is None:
        raise ValidationFailed(_("You are not a member of any group in this support line."))
    ticket_services.ticket_assign(
        actor=user, ticket=ticket, version=form.cleaned_data["version"], group=group, assignee=user
    )
    return _("You took the ticket.")


def _reopen(request: HttpRequest, ticket: Ticket, form: TicketActionForm) -> str:
    with transaction.atomic():
        ticket_services.ticket_lock_at_version(ticket=ticket, version=form.cleaned_data["version"])
        ticket_services.ticket_reopen(
            actor=request.user, ticket=ticket, reason=form.cleaned_data["reason"]
        )
    return _("The ticket was reopened.")


def _merge(request: HttpRequest, ticket: Ticket, form: TicketActionForm) -> str:
    target = _other_ticket(request, form.cleaned_data["reference"])
    with transaction.atomic():
        ticket_services.ticket_lock_at_version(ticket=ticket, version=form.cleaned_data["version"])
        ticket_services.ticket_merge(actor=request.user, source=ticket, target=target)
    return _("Merged into %(reference)s.") % {"reference": target.reference}


def _link(request: HttpRequest, ticket: Ticket, form: TicketActionForm) -> str:
    target = _other_ticket(request, form.cleaned_data["reference"])
    ticket_services.ticket_link(
        actor=request.user, source=ticket, target=target, kind=form.cleaned_data["kind"]
    )
    return _("Linked with %(reference)s.") % {"reference": target.reference}


def _parent(request: HttpRequest, ticket: Ticket, form: TicketActionForm) -> str:
    reference = form.cleaned_data["reference"].strip()
    parent = _other_ticket(request, reference) if reference else None
    ticket_services.ticket_set_parent(
        actor=request.user, ticket=ticket, version=form.cleaned_data["version"], parent=parent
    )
    if parent is None:
        return _("The ticket has no parent now.")
    return _("The ticket is now a child of %(reference)s.") % {"reference": parent.reference}


def _watch(request: HttpRequest, ticket: Ticket, form: TicketActionForm) -> str:
    person = (
        User.objects.visible_to(request.user)
        .filter(email__iexact=form.cleaned_data["email"])
        .first()
    )
    if person is None:
        raise ValidationFailed(_("There is no such person that you can see."), field="user")
    watching = not form.cleaned_data["remove"]
    ticket_services.ticket_set_watching(
        actor=request.user, ticket=ticket, user=person, watching=watching
    )
    if watching:
        return _("%(name)s now follows the ticket.") % {"name": person}
    return _("%(name)s no longer follows the ticket.") % {"name": person}


def _edit(request: HttpRequest, ticket: Ticket, form: TicketActionForm) -> str:
    assert isinstance(form, EditForm)
    changes = form.changes()
    updated = ticket_services.ticket_update(
        actor=request.user, ticket=ticket, version=form.cleaned_data["version"], **changes
    )
    return _("Saved.") if updated.version != ticket.version else _("Nothing was changed.")


def _run(service: Callable[..., Any], notice: str, **fields: str) -> Callable[..., str]:
    """An action that calls ``service`` with the ticket, its version and form fields."""

    def run(request: HttpRequest, ticket: Ticket, form: TicketActionForm) -> str:
        data = form.cleaned_data
        service(
            actor=request.user,
            ticket=ticket,
            version=data["version"],
            **{argument: data[name] for argument, name in fields.items()},
        )
        return str(notice)

    return run


def _append(service: Callable[..., Any], notice: str) -> Callable[..., str]:
    """Replies and notes add to the timeline and overwrite nothing: no version check."""

    def run(request: HttpRequest, ticket: Ticket, form: TicketActionForm) -> str:
        service(actor=request.user, ticket=ticket, body=form.cleaned_data["body"])
        return str(notice)

    return run


def _runners() -> dict[str, Callable[[HttpRequest, Ticket, TicketActionForm], str]]:
    s = ticket_services
    return {
        "reply": _append(s.ticket_reply, _("Your reply was sent.")),
        "note": _append(s.ticket_add_note, _("The internal note was added.")),
        "take": _take,
        "assign": _run(
            s.ticket_assign, _("The ticket was assigned."), group="group", assignee="assignee"
        ),
        "escalate": _run(
            s.ticket_escalate,
            _("The ticket was escalated to the second line."),
            group="group",
            assignee="assignee",
            reason="reason",
        ),
        "hand_back": _run(
            s.ticket_hand_back,
            _("The ticket was handed back to the first line."),
            group="group",
            reason="reason",
        ),
        "status": _run(s.ticket_set_status, _("The status was changed."), status="status"),
        "resolve": _run(s.ticket_resolve, _("The ticket was resolved."), resolution="resolution"),
        "reopen": _reopen,
        "cancel": _run(s.ticket_cancel, _("The ticket was cancelled."), reason="reason"),
        "edit": _edit,
        "link": _link,
        "merge": _merge,
        "parent": _parent,
        "watch": _watch,
    }


@login_required
@require_http_methods(["GET", "POST"])
def ticket_action(request: HttpRequest, reference: str, action: str) -> HttpResponse:
    """One action of the ticket page: GET shows its form, POST runs it.

    GET answers the ticket page's panels (a fragment for HTMX) and, without JavaScript, a page
    of its own. POST: invalid 400; stale 409 with what changed.
    """
    ticket = _ticket_or_404(request, reference)
    form_class = ACTION_FORMS.get(action)
    if form_class is None:
        raise Http404
    if not selectors.can_work(request.user, ticket):
        raise PermissionDenied
    if request.method == "GET":
        return _action_form_page(request, ticket, action)
    form = form_class(request.POST, ticket=ticket, user=request.user)
    if not form.is_valid():
        return _render_ticket(request, ticket, bound=form, status=400)
    try:
        notice = _runners()[action](request, ticket, form)
    except StaleEdit as error:
        current = _ticket_or_404(request, reference)
        return _render_ticket(
            request, current, bound=form.rebased(current), stale=error, status=409
        )
    except ValidationFailed as error:
        apply_domain_error(form, error)
        return _render_ticket(request, _ticket_or_404(request, reference), bound=form, status=400)
    if _is_htmx(request):
        return _render_ticket(request, _ticket_or_404(request, reference), notice=notice)
    messages.success(request, notice)
    return redirect("servicedesk:ticket", reference=ticket.reference)
