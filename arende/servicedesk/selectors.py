"""Reads of the service desk that are more than a filter: queues, the desk's tickets, a timeline.

Every read starts from ``desk_tickets(user)``: the tickets the user may work as staff, i.e.
``Ticket.objects.visible_to(user)`` narrowed to the organisations where the user holds
``servicedesk.view_ticket`` (a requester's own tickets belong to the portal, not the desk).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import Case, F, IntegerField, Q, QuerySet, Value, When
from django.utils import formats, timezone
from django.utils.dateparse import parse_datetime
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from arende.core.access import scope_for
from arende.servicedesk.choices import groups_of, person_label
from arende.servicedesk.models import (
    Attachment,
    SavedView,
    SlaState,
    Ticket,
    TicketActivity,
    TicketLink,
)
from arende.servicedesk.models.tickets import OPEN_STATUS_VALUES

if TYPE_CHECKING:
    from arende.core.models import User

VIEW_PERM = "servicedesk.view_ticket"
WORK_PERM = "servicedesk.work_ticket"
NOTE_PERM = "servicedesk.view_internal_note"

Status = Ticket.Status
OPEN_STATUSES = OPEN_STATUS_VALUES
RECENTLY_RESOLVED_DAYS = 14

# The columns of the queue table that can be sorted, and what each sorts by.
SORTABLE = ("reference", "created", "priority", "status", "sla", "updated")
DEFAULT_SORT = "-created"
_WORKFLOW_ORDER = [
    Status.PENDING_APPROVAL,
    Status.NEW,
    Status.ASSIGNED,
    Status.IN_PROGRESS,
    Status.WAITING_REQUESTER,
    Status.WAITING_SUPPLIER,
    Status.RESOLVED,
    Status.CLOSED,
    Status.CANCELLED,
]


@dataclass(slots=True)
class ListedTicket:
    """A ticket as the queue table shows it, read as plain values (see ``listed_tickets``)."""

    pk: int
    reference: str
    kind: str
    title: str
    priority: int
    status: str
    line: int
    version: int
    created_at: datetime.datetime
    updated_at: datetime.datetime
    sla_due_at: datetime.datetime | None
    sla_state: str
    organisation_id: int
    service_id: int | None
    requester_label: str
    organisation: str  # its short name, or its name
    group: str
    assignee: str


_LISTED_COLUMNS = (
    "id",
    "reference",
    "kind",
    "title",
    "priority",
    "status",
    "line",
    "version",
    "created_at",
    "updated_at",
    "sla_due_at",
    "sla_state",
    "organisation_id",
    "service_id",
    "requester__first_name",
    "requester__last_name",
    "requester__email",
    "contact_name",
    "contact_email",
    "contact_phone",
    "organisation__name",
    "organisation__short_name",
    "group__name",
    "assignee__first_name",
    "assignee__last_name",
)


def listed_tickets(tickets: QuerySet[Ticket]) -> list[ListedTicket]:
    """A page of a queue (any ticket queryset, sliced or not, in its order) as the table's rows.

    One query of plain values: a page of fifty tickets with their requester, organisation,
    group and assignee as model instances cost more to build than the database took to read.
    """
    listed = []
    for (
        pk,
        reference,
        kind,
        title,
        priority,
        status,
        line,
        version,
        created_at,
        updated_at,
        sla_due_at,
        sla_state,
        organisation_id,
        service_id,
        requester_first,
        requester_last,
        requester_email,
        contact_name,
        contact_email,
        contact_phone,
        organisation_name,
        organisation_short,
        group_name,
        assignee_first,
        assignee_last,
    ) in tickets.values_list(*_LISTED_COLUMNS):
        if requester_email is not None:  # as User.__str__
            requester = person_label(requester_first, requester_last, requester_email)
        else:  # as Ticket.requester_label
            requester = contact_name or contact_email or contact_phone
        listed.append(
            ListedTicket(
                pk=pk,
                reference=reference,
                kind=kind,
                title=title,
                priority=priority,
                status=status,
                line=line,
                version=version,
                created_at=created_at,
                updated_at=updated_at,
                sla_due_at=sla_due_at,
                sla_state=sla_state,
                organisation_id=organisation_id,
                service_id=service_id,
                requester_label=requester,
                organisation=organisation_short or organisation_name,
                group=group_name or "",
                assignee=f"{assignee_first or ''} {assignee_last or ''}".strip(),
            )
        )
    return listed


# The ticket page's facts, read in two queries of five joins each: PostgreSQL spends longer
# planning one query of ten joins (on a table with twenty indexes) than running both.
PAGE_RELATED = ("requester", "organisation", "department", "group", "assignee")
PAGE_RELATED_MORE = ("service", "category__parent", "request_type", "parent", "merged_into")


# The desk's tickets ---------------------------------------------------------------------------


def desk_tickets(user: User) -> QuerySet[Ticket]:
    """The tickets ``user`` may see as service desk staff; none for a requester."""
    tickets = Ticket.objects.visible_to(user)
    scope = scope_for(user, VIEW_PERM)
    if scope.all_organisations:
        return tickets
    if not scope.organisation_ids:
        return tickets.none()
    return tickets.filter(organisation_id__in=sorted(scope.organisation_ids))


def own_tickets(user: User) -> QuerySet[Ticket]:
    """The tickets that are ``user``'s own (requested, watched, or of their department for a
    department contact), through the access choke point: the portal's and the start page's."""
    return Ticket.objects.visible_to(user).filter(Ticket.objects.own_q(user))


def can_view(user: User, ticket: Ticket | None) -> bool:
    return ticket is not None and user.has_perm(VIEW_PERM, ticket)


def can_work(user: User, ticket: Ticket) -> bool:
    return user.has_perm(WORK_PERM, ticket)


def ticket_for_page(user: User) -> QuerySet[Ticket]:
    """The queryset the ticket page looks a reference up in (see ``with_page_facts``)."""
    return desk_tickets(user).select_related(*PAGE_RELATED)


def with_page_facts(ticket: Ticket) -> Ticket:
    """Attach the rest of the header facts (service, category, parent…) in one more query.

    One query at most, whichever of them the ticket has: only those it has are joined, and a
    ticket with none of them needs no query.
    """
    present = [
        name
        for name in PAGE_RELATED_MORE
        if getattr(ticket, f"{name.split('__')[0]}_id") is not None
    ]
    facts = None
    if present:
        facts = (
            Ticket.objects.filter(pk=ticket.pk)
            .select_related(*present)
            .only("pk", *(name.split("__")[0] for name in present))
            .first()
        )
    if facts is not None:
        for name in present:
            name = name.split("__")[0]
            setattr(ticket, name, getattr(facts, name))
    return ticket


# Queues ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Queue:
    key: str
    label: Promise
    description: Promise
    # Every ticket of the queue is open: a search may use the index of open tickets only.
    # The other queues (recently resolved) are narrow by their own index range instead.
    open_only: bool = True


QUEUES: tuple[Queue, ...] = (
    Queue("mine", _("Mine"), _("Open tickets assigned to you.")),
    Queue("groups", _("My groups"), _("Open tickets of the support groups you belong to.")),
    Queue(
        "unassigned",
        _("Unassigned, first line"),
        _("Open first-line tickets that nobody has taken yet."),
    ),
    Queue("second_line", _("Second line"), _("Open tickets escalated to the second line.")),
    Queue(
        "breach",
        _("About to breach"),
        _("Open tickets past an SLA warning threshold or their deadline, the most urgent first."),
    ),
    Queue("waiting", _("Waiting"), _("Tickets waiting for the requester or a supplier.")),
    Queue("open", _("All open"), _("Every open ticket you can see.")),
    Queue(
        "resolved",
        _("Recently resolved"),
        _("Tickets resolved in the last 14 days."),
        open_only=False,
    ),
)
QUEUE_KEYS = tuple(queue.key for queue in QUEUES)
DEFAULT_QUEUE = "mine"


def queue_named(key: str | None) -> Queue:
    for queue in QUEUES:
        if queue.key == key:
            return queue
    return queue_named(DEFAULT_QUEUE)


def _queue_condition(key: str, user: User, now: datetime.datetime) -> Q:
    is_open = Q(status__in=OPEN_STATUSES)
    if key == "mine":
        return is_open & Q(assignee_id=user.pk)
    if key == "groups":
        # The ids as constants (cached): as a subquery they made PostgreSQL plan a join more,
        # which cost it ten times longer than running the query.
        return is_open & Q(group_id__in=groups_of(user.pk))
    if key == "unassigned":
        return is_open & Q(line=1, assignee__isnull=True)
    if key == "second_line":
        return is_open & Q(line=2)
    if key == "breach":
        return is_open & Q(sla_state__in=(SlaState.WARNING, SlaState.BREACHED))
    if key == "waiting":
        return Q(status__in=Ticket.WAITING_STATUSES)
    if key == "resolved":
        since = now - datetime.timedelta(days=RECENTLY_RESOLVED_DAYS)
        return Q(status__in=(Status.RESOLVED, Status.CLOSED), resolved_at__gte=since)
    return is_open


def queue_tickets(
    user: User, key: str, *, now: datetime.datetime | None = None
) -> QuerySet[Ticket]:
    """The tickets of one queue (a page of it is read by ``listed_tickets``)."""
    condition = _queue_condition(queue_named(key).key, user, now or timezone.now())
    return desk_tickets(user).filter(condition)


# Counting stops here: "1 000+" tells an agent as much as an exact figure, and a capped count
# reads at most this many index entries however large the queue grows.
COUNT_CAP = 1000


def capped_count(queryset: QuerySet, cap: int = COUNT_CAP) -> int:
    """The number of rows, or ``cap + 1`` when there are more than ``cap``."""
    return queryset.order_by().values("pk")[: cap + 1].count()


def queue_counts(user: User, *, now: datetime.datetime | None = None) -> dict[str, int]:
    """How many tickets each queue holds (each capped), in one query for all queues.

    ``SELECT (SELECT count(*) FROM (<queue 1> LIMIT cap + 1)), (…), …``: each part is the
    ORM's own SQL for the queue, with its parameters; one round trip instead of seven.
    """
    now = now or timezone.now()
    tickets = desk_tickets(user)
    parts, params = [], []
    for queue in QUEUES:
        limited = (
            tickets.filter(_queue_condition(queue.key, user, now))
            .order_by()
            .values("pk")[: COUNT_CAP + 1]
        )
        try:
            sql, part_params = limited.query.sql_with_params()
        except EmptyResultSet:  # e.g. no organisation in scope: nothing to count
            parts.append("(SELECT 0)")
            continue
        parts.append(f"(SELECT count(*) FROM ({sql}) AS q)")  # noqa: S608 - the ORM's SQL
        params.extend(part_params)
    with connections[tickets.db].cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts), params)
        counts = cursor.fetchone()
    return {queue.key: int(count) for queue, count in zip(QUEUES, counts, strict=True)}


def sort_tickets(tickets: QuerySet[Ticket], sort: str | None) -> tuple[QuerySet[Ticket], str]:
    """Order by one of ``SORTABLE`` (``-`` for descending); returns the sort actually used."""
    sort = sort or DEFAULT_SORT
    descending = sort.startswith("-")
    key = sort.lstrip("-")
    if key not in SORTABLE:
        key, descending = DEFAULT_SORT.lstrip("-"), DEFAULT_SORT.startswith("-")

    def direction(expression: Any) -> Any:
        expression = F(expression) if isinstance(expression, str) else expression
        return expression.desc() if descending else expression.asc()

    if key == "status":
        tickets = tickets.annotate(
            status_rank=Case(
                *(When(status=status, then=Value(i)) for i, status in enumerate(_WORKFLOW_ORDER)),
                default=Value(len(_WORKFLOW_ORDER)),
                output_field=IntegerField(),
            )
        )
        order = [direction("status_rank"), F("created_at").desc(), F("id").desc()]
    elif key == "sla":
        # The nearest deadline first; tickets without one (paused, no SLA) after them.
        due = (
            F("sla_due_at").desc(nulls_last=True)
            if descending
            else F("sla_due_at").asc(nulls_last=True)
        )
        order = [due, F("id").asc()]
    elif key == "priority":
        # Most urgent first, and within a priority the one that has waited longest.
        order = [direction("priority"), F("created_at").asc(), F("id").asc()]
    else:
        column = {"reference": "reference", "created": "created_at", "updated": "updated_at"}[key]
        order = [direction(column), direction("id")]
    return tickets.order_by(*order), f"-{key}" if descending else key


# Saved views ---------------------------------------------------------------------------------


def saved_views_of(user: User) -> QuerySet[SavedView]:
    """A user's own saved views; nobody else's are ever listed."""
    return SavedView.objects.filter(user_id=user.pk)


# The ticket page -------------------------------------------------------------------------------


def _choice_labels(name: str) -> dict[Any, str]:
    try:
        model_field = Ticket._meta.get_field(name)
    except Exception:
        return {}
    return {value: str(label) for value, label in (model_field.choices or [])}


def field_label(name: str) -> str:
    """A ticket field's name as people read it."""
    try:
        return str(Ticket._meta.get_field(name).verbose_name)
    except Exception:
        return {"note": str(_("internal note")), "link": str(_("link"))}.get(name, name)


def value_label(name: str, value: Any) -> str | None:
    """A stored (audit) value as people read it: choice labels, local date and time."""
    if value is None or value == "":
        return None
    labels = _choice_labels(name)
    if value in labels:
        return labels[value]
    if isinstance(value, str) and name.endswith("_at"):
        moment = parse_datetime(value)
        if moment is not None:
            return formats.date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT")
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return str(value)


@dataclass(frozen=True)
class Change:
    field: str
    label: str
    then: str | None
    now: str | None


def describe_changes(changes: dict[str, list[Any]]) -> list[Change]:
    """``{field: [then, now]}`` (a StaleEdit's or a timeline entry's) for people to read."""
    return [
        Change(name, field_label(name), value_label(name, then), value_label(name, now))
        for name, (then, now) in changes.items()
        if name != "version"
    ]


@dataclass
class TimelineEntry:
    activity: TicketActivity
    is_internal: bool
    changes: list[Change] = field(default_factory=list)
    status_from: str | None = None
    status_to: str | None = None
    channel_label: str = ""

    def __getattr__(self, name: str) -> Any:
        return getattr(self.activity, name)


def timeline(ticket: Ticket, user: User) -> list[TimelineEntry]:
    """Everything that happened to the ticket, oldest first, in one query.

    Internal notes are left out for staff without ``view_internal_note`` on the ticket.
    """
    activities = ticket.activities.select_related("actor").order_by("at", "id")
    if not user.has_perm(NOTE_PERM, ticket):
        activities = activities.exclude(kind=TicketActivity.Kind.NOTE)
    status_labels = _choice_labels("status")
    channel_labels = _choice_labels("channel")
    entries = []
    for activity in activities:
        data = activity.data or {}
        channel = activity.channel or data.get("channel") or ""
        entry = TimelineEntry(
            activity=activity,
            is_internal=not activity.is_public,
            channel_label=channel_labels.get(channel, channel),
        )
        if activity.kind == TicketActivity.Kind.CHANGE and data.get("changes"):
            entry.changes = describe_changes(data["changes"])
        if activity.kind == TicketActivity.Kind.STATUS:
            entry.status_from = status_labels.get(data.get("from"), data.get("from"))
            entry.status_to = status_labels.get(data.get("to"), data.get("to"))
        entries.append(entry)
    return entries


@dataclass(frozen=True)
class Relation:
    label: str
    ticket: Ticket


_INBOUND_LINK_LABELS = {
    TicketLink.Kind.RELATED: _("Related to"),
    TicketLink.Kind.DUPLICATE: _("Has duplicate"),
    TicketLink.Kind.CAUSED_BY: _("Causes"),
}


@dataclass(frozen=True)
class Relations:
    watchers: list[Any]
    children: list[Ticket]
    links: list[Relation]
    merged_from: list[Ticket]
    attachments: list[Attachment]
    parent: Ticket | None
    merged_into: Ticket | None


# What the ticket page shows of a neighbouring ticket (and what ``can_view`` needs): a full
# ticket has some forty columns, and compiling them cost more than the queries took.
_NEIGHBOUR_FIELDS = ("id", "reference", "title", "status", "organisation_id")


def _relation_flags(ticket: Ticket) -> tuple[bool, bool, bool, bool]:
    """Whether the ticket has links, children or merged tickets, watchers, attachments.

    One plain query: most tickets have none of them, and four ORM queries to find that out
    cost the ticket page more than the rest of its reads.
    """
    link = TicketLink._meta.db_table
    ticket_table = Ticket._meta.db_table
    watcher = Ticket.watchers.through._meta.db_table
    attachment = Attachment._meta.db_table
    sql = (
        f"SELECT EXISTS (SELECT 1 FROM {link} WHERE source_id = %s OR target_id = %s),"  # noqa: S608
        f" EXISTS (SELECT 1 FROM {ticket_table} WHERE parent_id = %s OR merged_into_id = %s),"
        f" EXISTS (SELECT 1 FROM {watcher} WHERE ticket_id = %s),"
        f" EXISTS (SELECT 1 FROM {attachment} WHERE ticket_id = %s)"
    )
    with connections[Ticket.objects.db].cursor() as cursor:
        cursor.execute(sql, [ticket.pk] * 6)
        links, below, watchers, attachments = cursor.fetchone()
    return bool(links), bool(below), bool(watchers), bool(attachments)


def relations(ticket: Ticket, user: User) -> Relations:
    """The ticket's people and neighbours, hidden tickets left out; one query to see which
    exist, then one for each kind that does."""
    has_links, has_below, has_watchers, has_attachments = _relation_flags(ticket)
    links = []
    neighbour = [f"{side}__{name}" for side in ("source", "target") for name in _NEIGHBOUR_FIELDS]
    link_rows = (
        TicketLink.objects.filter(Q(source=ticket) | Q(target=ticket))
        .select_related("source", "target")
        .only("kind", "source_id", "target_id", *neighbour)
        if has_links
        else []
    )
    for link in link_rows:
        if link.source_id == ticket.pk:
            other, label = link.target, link.get_kind_display()
        else:
            other, label = link.source, _INBOUND_LINK_LABELS.get(link.kind, link.kind)
        if can_view(user, other):
            links.append(Relation(str(label), other))
    links.sort(key=lambda relation: relation.ticket.reference)
    attachments = []
    if has_attachments:
        attachments = ticket.attachments.all()
        if not user.has_perm(NOTE_PERM, ticket):
            attachments = attachments.filter(is_public=True)
    below = []
    if has_below:  # children and tickets merged into this one, in one query
        below = list(
            desk_tickets(user)
            .filter(Q(parent=ticket) | Q(merged_into=ticket))
            .only(*_NEIGHBOUR_FIELDS, "parent_id", "merged_into_id")
            .order_by("reference")
        )
    watchers = []
    if has_watchers:
        watchers = list(
            ticket.watchers.only("id", "first_name", "last_name").order_by(
                "first_name", "last_name"
            )
        )
    return Relations(
        watchers=watchers,
        children=[other for other in below if other.parent_id == ticket.pk],
        links=links,
        merged_from=[other for other in below if other.merged_into_id == ticket.pk],
        attachments=list(attachments),
        parent=ticket.parent if can_view(user, ticket.parent) else None,
        merged_into=ticket.merged_into if can_view(user, ticket.merged_into) else None,
    )


def request_details(ticket: Ticket) -> list[tuple[str, Any]]:
    """The request type's own fields as (label, value), in the order the type defines them."""
    values = ticket.custom_fields or {}
    if not values:
        return []
    specs = ticket.request_type.fields if ticket.request_type_id else []
    labels = {spec.get("name"): spec.get("label") or spec.get("name") for spec in specs}
    ordered = [name for name in labels if name in values]
    ordered += [name for name in values if name not in labels]
    return [
        (labels.get(name, name), values[name]) for name in ordered if values[name] not in ("", None)
    ]
