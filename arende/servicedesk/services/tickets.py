"""Ticket services: create, assign, escalate, hand back, reply, resolve, reopen, close, merge.

Each function locks the ticket row, checks the version the caller saw (when given), applies the
change, writes the timeline (what the requester and staff see) and the audit log (what the
auditor sees), and leaves notifications to ``transaction.on_commit``.
"""

from __future__ import annotations

import contextlib
import datetime
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from arende.core.audit import audit_record, audit_value
from arende.core.errors import StaleEdit, ValidationFailed
from arende.core.models import Department, Organisation, User
from arende.core.versioning import changes_since
from arende.servicedesk.models import (
    Category,
    LineSpan,
    PriorityRule,
    RequestType,
    SatisfactionRating,
    Service,
    SupportGroup,
    Ticket,
    TicketActivity,
    TicketCounter,
    TicketLink,
)
from arende.servicedesk.signals import ticket_changed

Status = Ticket.Status


@dataclass(frozen=True)
class TicketRules:
    """Time limits of the workflow (configurable later per organisation)."""

    reopen_days: int = 14
    close_after_days: int = 5


RULES = TicketRules()

DEFAULT_MATRIX = {
    (1, 1): 1, (1, 2): 2, (1, 3): 3,
    (2, 1): 2, (2, 2): 3, (2, 3): 4,
    (3, 1): 3, (3, 2): 4, (3, 3): 4,
}  # fmt: skip

# Which status may follow which, when set by hand. Resolve, reopen, close and cancel have
# services of their own because they carry more than a status.
MANUAL_TRANSITIONS = {
    Status.NEW: {
        Status.ASSIGNED,
        Status.IN_PROGRESS,
        Status.WAITING_REQUESTER,
        Status.WAITING_SUPPLIER,
    },
    Status.ASSIGNED: {Status.IN_PROGRESS, Status.WAITING_REQUESTER, Status.WAITING_SUPPLIER},
    Status.IN_PROGRESS: {Status.WAITING_REQUESTER, Status.WAITING_SUPPLIER, Status.ASSIGNED},
    Status.WAITING_REQUESTER: {Status.IN_PROGRESS, Status.WAITING_SUPPLIER},
    Status.WAITING_SUPPLIER: {Status.IN_PROGRESS, Status.WAITING_REQUESTER},
}


_T = TypeVar("_T")
_constants: ContextVar[dict[Any, Any] | None] = ContextVar("ticket_constants", default=None)


@contextlib.contextmanager
def constant_lookups() -> Iterator[None]:
    """Inside the block, the configuration that creating a ticket reads (the priority matrix,
    the first-line group, the SLA's policies and calendars) is read once and then reused.

    For a batch of tickets created together, e.g. one poll of a mailbox: the batch sees the
    configuration as it was when the batch began, as one transaction would. Not for longer.
    """
    token = _constants.set({})
    try:
        yield
    finally:
        _constants.reset(token)


def constant_lookup(key: Any, compute: Callable[[], _T]) -> _T:
    """``compute()``, remembered under ``key`` inside ``constant_lookups`` (else not at all)."""
    store = _constants.get()
    if store is None:
        return compute()
    if key not in store:
        store[key] = compute()
    return store[key]


# Year -> [the number the counter row holds, the last number handed out].
_held_numbers: ContextVar[dict[int, list[int]] | None] = ContextVar("ticket_numbers", default=None)


@contextlib.contextmanager
def reference_numbers_held() -> Iterator[None]:
    """Inside, the year's counter is taken (and locked) at the first new ticket, then counted
    in hand, and written once as the block ends without an error.

    Only inside one transaction that is all or nothing: no savepoint inside may roll back a
    ``ticket_create`` (its number would be handed out again). For a batch of tickets created
    together, whose transaction holds the counter's lock from the first ticket anyway.
    """
    held: dict[int, list[int]] = {}
    token = _held_numbers.set(held)
    try:
        yield
        for year, (stored, last) in held.items():
            if last != stored:
                TicketCounter.objects.filter(year=year).update(last_number=last)
    finally:
        _held_numbers.reset(token)


_deferred_rows: ContextVar[list[Any] | None] = ContextVar("ticket_rows", default=None)


@contextlib.contextmanager
def rows_deferred() -> Iterator[None]:
    """Inside, rows that nothing reads back at once (a new ticket's first line span and first
    status span) are kept in hand and written together, one statement per table, as the block
    ends without an error, or earlier by ``rows_flush``. Only inside one transaction that is
    all or nothing (on an error the rows are dropped; the caller rolls back), and whatever
    inside reads those tables must call ``rows_flush`` first (the SLA receiver does, for every
    change but a creation)."""
    token = _deferred_rows.set([])
    try:
        yield
        rows_flush()
    finally:
        _deferred_rows.reset(token)


def rows_flush() -> None:
    """Write the rows ``rows_deferred`` holds (nothing outside one)."""
    rows = _deferred_rows.get()
    if not rows:
        return
    by_model: dict[Any, list[Any]] = {}
    for row in rows:
        by_model.setdefault(type(row), []).append(row)
    rows.clear()
    for model, objs in by_model.items():
        model.objects.bulk_create(objs)


def row_insert(row: Any) -> None:
    """Save a new row, or keep it for later inside ``rows_deferred``."""
    rows = _deferred_rows.get()
    if rows is None:
        row.save()
    else:
        rows.append(row)


def priority_for(impact: int, urgency: int) -> int:
    rule = constant_lookup(
        ("priority_rule", impact, urgency),
        lambda: PriorityRule.objects.filter(impact=impact, urgency=urgency).first(),
    )
    if rule is not None:
        return rule.priority
    try:
        return DEFAULT_MATRIX[(impact, urgency)]
    except KeyError:
        raise ValidationFailed(_("Impact and urgency must be 1, 2 or 3."), field="impact") from None


# One statement takes the number and keeps the year's row locked until the transaction ends
# (UPDATE ... RETURNING: PostgreSQL, and SQLite from 3.35).
_TAKE_NUMBER = (
    "UPDATE servicedesk_ticketcounter SET last_number = last_number + 1 "
    "WHERE year = %s RETURNING last_number"
)


def _next_reference(at: datetime.datetime) -> str:
    """``YYYY-NNNNNN``, unique per year, safe when many tickets are created at once."""
    year = timezone.localtime(at).year
    held = _held_numbers.get()
    if held is not None and year in held:
        held[year][1] += 1
        return f"{year}-{held[year][1]:06d}"
    for _attempt in range(2):
        with connection.cursor() as cursor:
            cursor.execute(_TAKE_NUMBER, [year])
            row = cursor.fetchone()
        if row is not None:
            if held is not None:
                held[year] = [row[0], row[0]]
            return f"{year}-{row[0]:06d}"
        try:  # the year's first ticket: make its counter, then take the number as above
            with transaction.atomic():
                TicketCounter.objects.get_or_create(year=year)
        except IntegrityError:
            pass  # another transaction created this year's counter first
    raise RuntimeError(f"No ticket counter for {year}.")


def _first_line_group() -> SupportGroup | None:
    return constant_lookup(
        "first_line_group",
        lambda: SupportGroup.objects.filter(line=1, is_active=True).order_by("pk").first(),
    )


def _lock(ticket: Ticket, version: int | None) -> Ticket:
    current = Ticket.objects.select_for_update().get(pk=ticket.pk)
    if version is not None and current.version != version:
        raise StaleEdit(
            _(
                "The ticket was changed by someone else after you opened it. Nothing was saved. "
                "Review the changes and try again."
            ),
            current_version=current.version,
            changed=changes_since(current, version),
        )
    return current


def _activity(
    ticket: Ticket,
    *,
    actor: User | None,
    kind: str,
    at: datetime.datetime,
    public: bool,
    body: str = "",
    data: dict[str, Any] | None = None,
    channel: str = "",
    deferrable: bool = False,
) -> TicketActivity:
    """A timeline entry; ``deferrable``: may be held back inside ``rows_deferred``."""
    activity = TicketActivity(
        ticket=ticket,
        actor=actor if actor and actor.is_authenticated else None,
        kind=kind,
        at=at,
        is_public=public,
        body=body,
        data=data or {},
        channel=channel,
    )
    if deferrable:
        row_insert(activity)
    else:
        activity.save()
    ticket._latest_activity = activity  # what _save tells the listeners the write produced
    return activity


def _changed(
    ticket: Ticket,
    *,
    actor: User | None,
    verb: str,
    activity: TicketActivity | None = None,
    imported: bool = False,
) -> None:
    ticket_changed.send(
        sender=Ticket, ticket=ticket, verb=verb, actor=actor, activity=activity, imported=imported
    )


def _save(
    ticket: Ticket,
    *,
    actor: User | None,
    before: dict[str, Any],
    verb: str,
    activity: TicketActivity | None = None,
) -> Ticket:
    """Bump the version, save, audit the fields that changed, and tell the listeners."""
    changes = {
        field: [old, audit_value(getattr(ticket, field))]
        for field, old in before.items()
        if old != audit_value(getattr(ticket, field))
    }
    ticket.version += 1
    ticket.save()
    changes["version"] = [ticket.version - 1, ticket.version]
    audit_record(actor=actor, action="update", obj=ticket, changes=changes, verb=verb)
    activity = activity or getattr(ticket, "_latest_activity", None)
    _changed(ticket, actor=actor, verb=verb, activity=activity)
    return ticket


def _snapshot(ticket: Ticket, *fields: str) -> dict[str, Any]:
    return {field: audit_value(getattr(ticket, field)) for field in fields}


def _switch_span(
    ticket: Ticket, *, at: datetime.datetime, reason: str, by: User | None, note: str = ""
) -> None:
    LineSpan.objects.filter(ticket=ticket, ended_at__isnull=True).update(ended_at=at)
    LineSpan.objects.create(
        ticket=ticket,
        line=ticket.line,
        group=ticket.group,
        assignee=ticket.assignee,
        reason=reason,
        note=note,
        started_at=at,
        by=by if by and by.is_authenticated else None,
    )


def _end_span(ticket: Ticket, at: datetime.datetime) -> None:
    LineSpan.objects.filter(ticket=ticket, ended_at__isnull=True).update(ended_at=at)


def _is_staff_on(user: User | None, ticket: Ticket) -> bool:
    return bool(user and user.is_authenticated and user.has_perm("servicedesk.work_ticket", ticket))


def _require_worker(actor: User | None, ticket: Ticket) -> None:
    if actor is not None and not _is_staff_on(actor, ticket):
        raise ValidationFailed(_("Only the service desk can do this."), code="forbidden")


# Creating ------------------------------------------------------------------------------------


def ticket_create(
    *,
    actor: User | None,
    channel: str,
    title: str,
    description: str = "",
    requester: User | None = None,
    contact_name: str = "",
    contact_email: str = "",
    contact_phone: str = "",
    organisation: Organisation | None = None,
    department: Department | None = None,
    kind: str = Ticket.Kind.INCIDENT,
    service: Service | None = None,
    category: Category | None = None,
    request_type: RequestType | None = None,
    custom_fields: dict[str, Any] | None = None,
    impact: int = 3,
    urgency: int = 2,
    group: SupportGroup | None = None,
    assignee: User | None = None,
    created_at: datetime.datetime | None = None,
) -> Ticket:
    """Log a new ticket from any channel. ``created_at`` is for imports of history only.

    Everything is checked before anything is written; the writes are one transaction, or part
    of the caller's (without a savepoint of their own: a failure there fails the caller's
    transaction, or its savepoint; intake makes a ticket per message in one such savepoint).
    """
    title = title.strip()
    if not title:
        raise ValidationFailed(_("Give the ticket a short title."), field="title")
    if requester is None and not (contact_name or contact_email or contact_phone):
        raise ValidationFailed(
            _("Say who the ticket is for: a user or a contact."), field="requester"
        )
    if requester is not None:
        organisation = organisation or requester.organisation
        department = department or requester.department
    if organisation is None:
        raise ValidationFailed(
            _("Choose the organisation the ticket is for."), field="organisation"
        )
    if department is not None and department.organisation_id != organisation.pk:
        raise ValidationFailed(
            _("The department belongs to another organisation."), field="department"
        )
    if request_type is not None:
        service = service or request_type.service
        category = category or request_type.category
        kind = request_type.kind or kind
        custom_fields = _validated_custom_fields(request_type, custom_fields or {})
    if category is not None and service is None:
        service = category.service
    group = group or (service.default_group if service and service.default_group_id else None)
    group = group or _first_line_group()
    at = created_at or timezone.now()
    needs_approval = request_type is not None and request_type.approval != "none"
    priority = priority_for(impact, urgency)
    with transaction.atomic(savepoint=False):
        return _ticket_write(
            actor=actor,
            ticket=Ticket(
                kind=kind,
                channel=channel,
                title=title[:200],
                description=description,
                requester=requester,
                contact_name=contact_name,
                contact_email=contact_email,
                contact_phone=contact_phone,
                organisation=organisation,
                department=department,
                service=service,
                category=category,
                request_type=request_type,
                custom_fields=custom_fields or {},
                impact=impact,
                urgency=urgency,
                priority=priority,
                line=group.line if group else 1,
                group=group,
                assignee=assignee,
                created_at=at,
                status=Status.PENDING_APPROVAL
                if needs_approval
                else (Status.ASSIGNED if assignee else Status.NEW),
            ),
            imported=created_at is not None,
        )


def _ticket_write(*, actor: User | None, ticket: Ticket, imported: bool) -> Ticket:
    """``ticket_create``'s writes, for a checked ticket not yet saved."""
    at, channel, group, assignee = ticket.created_at, ticket.channel, ticket.group, ticket.assignee
    ticket.reference = _next_reference(at)
    ticket.save()
    row_insert(
        LineSpan(
            ticket=ticket,
            line=ticket.line,
            group=group,
            assignee=assignee,
            reason=LineSpan.Reason.CREATED,
            started_at=at,
            by=actor if actor and actor.is_authenticated else None,
        )
    )
    created = _activity(
        ticket,
        actor=actor,
        kind=TicketActivity.Kind.SYSTEM,
        at=at,
        public=True,
        data={"event": "created", "channel": channel},
        channel=channel,
        deferrable=True,  # only read back (by the receipt) as the batch's rows are written
    )
    audit_record(
        actor=actor,
        action="create",
        obj=ticket,
        changes={
            "reference": [None, ticket.reference],
            "title": [None, ticket.title],
            "channel": [None, channel],
            "requester": [None, ticket.requester_label],
            "priority": [None, ticket.priority],
            "group": [None, audit_value(group)],
        },
    )
    _changed(ticket, actor=actor, verb="create", activity=created, imported=imported)
    return ticket


def _validated_custom_fields(request_type: RequestType, values: dict[str, Any]) -> dict[str, Any]:
    cleaned: dict[str, Any] = {}
    for spec in request_type.fields:
        name = spec["name"]
        value = values.get(name, "")
        value = value.strip() if isinstance(value, str) else value
        if spec.get("required") and value in ("", None):
            raise ValidationFailed(_("This field is required."), field=name)
        if spec.get("type") == "choice" and value and value not in spec.get("choices", []):
            raise ValidationFailed(_("Choose one of the given options."), field=name)
        cleaned[name] = value
    return cleaned


# Assigning and escalating --------------------------------------------------------------------


@transaction.atomic
def ticket_assign(
    *,
    actor: User | None,
    ticket: Ticket,
    version: int | None,
    group: SupportGroup | None = None,
    assignee: User | None = None,
) -> Ticket:
    """Give the ticket to a group and/or a person within its current line."""
    ticket = _lock(ticket, version)
    _require_worker(actor, ticket)
    group = group or ticket.group
    if group is not None and group.line != ticket.line:
        raise ValidationFailed(
            _("That group is in the other support line: escalate or hand back instead."),
            field="group",
        )
    if (
        assignee is not None
        and group is not None
        and not group.members.filter(pk=assignee.pk).exists()
    ):
        raise ValidationFailed(_("The assignee is not a member of the group."), field="assignee")
    before = _snapshot(ticket, "group", "assignee", "status")
    at = timezone.now()
    ticket.group, ticket.assignee = group, assignee
    if ticket.status == Status.NEW and assignee is not None:
        ticket.status = Status.ASSIGNED
    _switch_span(ticket, at=at, reason=LineSpan.Reason.ASSIGNED, by=actor)
    _activity(
        ticket,
        actor=actor,
        kind=TicketActivity.Kind.ASSIGNMENT,
        at=at,
        public=False,
        data={
            "group": str(group) if group else None,
            "assignee": str(assignee) if assignee else None,
        },
    )
    return _save(ticket, actor=actor, before=before, verb="assign")


@transaction.atomic
def ticket_escalate(
    *,
    actor: User | None,
    ticket: Ticket,
    version: int | None,
    group: SupportGroup,
    reason: str,
    assignee: User | None = None,
) -> Ticket:
    """First line passes the ticket to a second-line group, saying why."""
    ticket = _lock(ticket, version)
    _require_worker(actor, ticket)
    if not ticket.is_open:
        raise ValidationFailed(_("A closed ticket cannot be escalated."), field="status")
    if group.line != 2:
        raise ValidationFailed(_("Escalate to a second-line group."), field="group")
    if not reason.strip():
        raise ValidationFailed(_("Say why the ticket is escalated."), field="reason")
    before = _snapshot(ticket, "line", "group", "assignee", "status")
    at = timezone.now()
    ticket.line, ticket.group, ticket.assignee = 2, group, assignee
    ticket.status = Status.ASSIGNED if assignee else Status.NEW
    ticket.escalated_at = ticket.escalated_at or at
    _switch_span(ticket, at=at, reason=LineSpan.Reason.ESCALATED, by=actor, note=reason)
    _activity(
        ticket,
        actor=actor,
        kind=TicketActivity.Kind.ESCALATION,
        at=at,
        public=False,
        body=reason,
        data={"group": str(group), "line": 2},
    )
    return _save(ticket, actor=actor, before=before, verb="escalate")


@transaction.atomic
def ticket_hand_back(
    *,
    actor: User | None,
    ticket: Ticket,
    version: int | None,
    reason: str,
    group: SupportGroup | None = None,
) -> Ticket:
    """Second line returns the ticket to the first line (with instructions, say)."""
    ticket = _lock(ticket, version)
    _require_worker(actor, ticket)
    if ticket.line != 2:
        raise ValidationFailed(_("Only a second-line ticket can be handed back."), field="line")
    if not reason.strip():
        raise ValidationFailed(_("Say why the ticket is handed back."), field="reason")
    group = group or _first_line_group()
    if group is None or group.line != 1:
        raise ValidationFailed(_("Hand back to a first-line group."), field="group")
    before = _snapshot(ticket, "line", "group", "assignee", "status")
    at = timezone.now()
    ticket.line, ticket.group, ticket.assignee, ticket.status = 1, group, None, Status.NEW
    _switch_span(ticket, at=at, reason=LineSpan.Reason.HANDED_BACK, by=actor, note=reason)
    _activity(
        ticket,
        actor=actor,
        kind=TicketActivity.Kind.ESCALATION,
        at=at,
        public=False,
        body=reason,
        data={"group": str(group), "line": 1, "handed_back": True},
    )
    return _save(ticket, actor=actor, before=before, verb="hand_back")


# Status --------------------------------------------------------------------------------------


@transaction.atomic
def ticket_set_status(
    *, actor: User | None, ticket: Ticket, version: int | None, status: str
) -> Ticket:
    ticket = _lock(ticket, version)
    _require_worker(actor, ticket)
    if status not in MANUAL_TRANSITIONS.get(ticket.status, set()):
        raise ValidationFailed(
            _("A ticket that is “%(old)s” cannot be set to “%(new)s”.")
            % {"old": Status(ticket.status).label, "new": Status(status).label},
            field="status",
        )
    before = _snapshot(ticket, "status")
    at = timezone.now()
    ticket.status = status
    _activity(
        ticket,
        actor=actor,
        kind=TicketActivity.Kind.STATUS,
        at=at,
        public=True,
        data={"from": before["status"], "to": status},
    )
    return _save(ticket, actor=actor, before=before, verb="status")


@transaction.atomic
def ticket_resolve(
    *, actor: User | None, ticket: Ticket, version: int | None, resolution: str
) -> Ticket:
    ticket = _lock(ticket, version)
    _require_worker(actor, ticket)
    if not ticket.is_open or ticket.status == Status.PENDING_APPROVAL:
        raise ValidationFailed(_("Only an open ticket can be resolved."), field="status")
    if not resolution.strip():
        raise ValidationFailed(_("Describe the resolution for the requester."), field="resolution")
    before = _snapshot(ticket, "status", "resolution")
    at = timezone.now()
    ticket.status, ticket.resolution, ticket.resolved_at = Status.RESOLVED, resolution, at
    ticket.resolved_in_first_line = ticket.escalated_at is None
    ticket.first_response_at = ticket.first_response_at or at
    _end_span(ticket, at)
    _activity(
        ticket,
        actor=actor,
        kind=TicketActivity.Kind.STATUS,
        at=at,
        public=True,
        body=resolution,
        data={"from": before["status"], "to": Status.RESOLVED},
    )
    return _save(ticket, actor=actor, before=before, verb="resolve")


@transaction.atomic
def ticket_reopen(
    *, actor: User | None, ticket: Ticket, reason: str, rules: TicketRules = RULES
) -> Ticket:
    """The requester (or staff) reopens a resolved ticket within the reopen window."""
    ticket = _lock(ticket, None)
    if ticket.status != Status.RESOLVED:
        raise ValidationFailed(_("Only a resolved ticket can be reopened."), field="status")
    at = timezone.now()
    if ticket.resolved_at and at - ticket.resolved_at > datetime.timedelta(days=rules.reopen_days):
        raise ValidationFailed(
            _("The ticket was resolved more than %(days)d days ago; report a new one instead.")
            % {"days": rules.reopen_days},
            field="status",
        )
    before = _snapshot(ticket, "status")
    ticket.status = Status.IN_PROGRESS if ticket.assignee_id else Status.NEW
    ticket.resolved_at, ticket.resolved_in_first_line = None, None
    _switch_span(ticket, at=at, reason=LineSpan.Reason.ASSIGNED, by=actor, note=reason)
    _activity(
        ticket,
        actor=actor,
        kind=TicketActivity.Kind.STATUS,
        at=at,
        public=True,
        body=reason,
        data={"from": Status.RESOLVED, "to": ticket.status, "reopened": True},
    )
    return _save(ticket, actor=actor, before=before, verb="reopen")


@transaction.atomic
def ticket_close(*, actor: User | None, ticket: Ticket) -> Ticket:
    ticket = _lock(ticket, None)
    if ticket.status != Status.RESOLVED:
        raise ValidationFailed(_("Only a resolved ticket can be closed."), field="status")
    before = _snapshot(ticket, "status")
    at = timezone.now()
    ticket.status, ticket.closed_at = Status.CLOSED, at
    _activity(
        ticket,
        actor=actor,
        kind=TicketActivity.Kind.STATUS,
        at=at,
        public=True,
        data={"from": Status.RESOLVED, "to": Status.CLOSED},
    )
    return _save(ticket, actor=actor, before=before, verb="close")


def tickets_close_resolved(
    *, now: datetime.datetime | None = None, rules: TicketRules = RULES
) -> int:
    """Close tickets resolved more than ``close_after_days`` ago. Returns how many."""
    limit = (now or timezone.now()) - datetime.timedelta(days=rules.close_after_days)
    closed = 0
    for ticket in Ticket.objects.filter(status=Status.RESOLVED, resolved_at__lt=limit).only("pk"):
        try:
            ticket_close(actor=None, ticket=ticket)
            closed += 1
        except ValidationFailed:
            continue  # reopened meanwhile
    return closed


@transaction.atomic
def ticket_cancel(
    *, actor: User | None, ticket: Ticket, version: int | None, reason: str
) -> Ticket:
    ticket = _lock(ticket, version)
    is_requester = actor is not None and ticket.requester_id == actor.pk
    if not (is_requester or actor is None or _is_staff_on(actor, ticket)):
        raise ValidationFailed(_("Only the service desk can do this."), code="forbidden")
    if not ticket.is_open:
        raise ValidationFailed(_("The ticket is already finished."), field="status")
    before = _snapshot(ticket, "status")
    at = timezone.now()
    ticket.status, ticket.closed_at = Status.CANCELLED, at
    _end_span(ticket, at)
    _activity(
        ticket,
        actor=actor,
        kind=TicketActivity.Kind.STATUS,
        at=at,
        public=True,
        body=reason,
        data={"from": before["status"], "to": Status.CANCELLED},
    )
    return _save(ticket, actor=actor, before=before, verb="cancel")


# Conversation --------------------------------------------------------------------------------


@transaction.atomic
def ticket_reply(
    *,
    actor: User | None,
    ticket: Ticket,
    body: str,
    channel: str = "portal",
    rules: TicketRules = RULES,
) -> TicketActivity:
    """A public message on the ticket, from staff or from the requester."""
    if not body.strip():
        raise ValidationFailed(_("Write a message."), field="body")
    ticket = _lock(ticket, None)
    at = timezone.now()
    before = _snapshot(ticket, "status", "first_response_at")
    staff = _is_staff_on(actor, ticket)
    if staff:
        ticket.first_response_at = ticket.first_response_at or at
    elif ticket.status == Status.WAITING_REQUESTER:
        ticket.status = Status.IN_PROGRESS if ticket.assignee_id else Status.NEW
    activity = _activity(
        ticket,
        actor=actor,
        kind=TicketActivity.Kind.REPLY,
        at=at,
        public=True,
        body=body,
        channel=channel,
    )
    if not staff and ticket.status == Status.RESOLVED:
        # A reply to a resolved ticket means it is not solved after all (within the window).
        ticket_reopen(actor=actor, ticket=ticket, reason=body, rules=rules)
        return activity
    if not ticket.is_open:
        raise ValidationFailed(_("The ticket is closed; report a new one instead."), field="body")
    _save(ticket, actor=actor, before=before, verb="reply", activity=activity)
    return activity


@transaction.atomic
def ticket_add_note(*, actor: User | None, ticket: Ticket, body: str) -> TicketActivity:
    """An internal note: never shown to the requester, in the portal, in mail or in the API."""
    if not body.strip():
        raise ValidationFailed(_("Write a note."), field="body")
    ticket = _lock(ticket, None)
    _require_worker(actor, ticket)
    activity = _activity(
        ticket,
        actor=actor,
        kind=TicketActivity.Kind.NOTE,
        at=timezone.now(),
        public=False,
        body=body,
    )
    audit_record(
        actor=actor,
        action="update",
        obj=ticket,
        verb="note",
        changes={"note": [None, f"#{activity.pk}"]},
    )
    _changed(ticket, actor=actor, verb="note", activity=activity)
    return activity


@transaction.atomic
def ticket_update(
    *, actor: User | None, ticket: Ticket, version: int | None, **changes: Any
) -> Ticket:
    """Change the ticket's descriptive fields; priority follows impact and urgency."""
    allowed = {"title", "description", "kind", "service", "category", "impact", "urgency"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationFailed(_("This field cannot be changed here."), field=sorted(unknown)[0])
    ticket = _lock(ticket, version)
    _require_worker(actor, ticket)
    before = _snapshot(ticket, *changes, "priority")
    for field, value in changes.items():
        setattr(ticket, field, value)
    if "title" in changes and not str(ticket.title).strip():
        raise ValidationFailed(_("Give the ticket a short title."), field="title")
    ticket.priority = priority_for(ticket.impact, ticket.urgency)
    after = _snapshot(ticket, *changes, "priority")
    delta = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
    if not delta:
        return ticket
    _activity(
        ticket,
        actor=actor,
        kind=TicketActivity.Kind.CHANGE,
        at=timezone.now(),
        public=False,
        data={"changes": delta},
    )
    return _save(ticket, actor=actor, before=before, verb="update")


# Relations -----------------------------------------------------------------------------------


@transaction.atomic
def ticket_link(*, actor: User | None, source: Ticket, target: Ticket, kind: str) -> TicketLink:
    if source.pk == target.pk:
        raise ValidationFailed(_("A ticket cannot be linked to itself."), field="target")
    _require_worker(actor, source)
    link, created = TicketLink.objects.get_or_create(source=source, target=target, kind=kind)
    if created:
        _activity(
            source,
            actor=actor,
            kind=TicketActivity.Kind.CHANGE,
            at=timezone.now(),
            public=False,
            data={"link": kind, "target": target.reference},
        )
        audit_record(
            actor=actor,
            action="update",
            obj=source,
            verb="link",
            changes={"link": [None, f"{kind} {target.reference}"]},
        )
    return link


@transaction.atomic
def ticket_merge(*, actor: User | None, source: Ticket, target: Ticket) -> Ticket:
    """Fold a duplicate into ``target``: its requester watches the target, it is cancelled."""
    if source.pk == target.pk:
        raise ValidationFailed(_("A ticket cannot be merged into itself."), field="target")
    locked = {
        t.pk: t
        for t in Ticket.objects.select_for_update()
        .filter(pk__in=[source.pk, target.pk])
        .order_by("pk")
    }
    source, target = locked[source.pk], locked[target.pk]
    _require_worker(actor, source)
    if not target.is_open:
        raise ValidationFailed(_("Merge into an open ticket."), field="target")
    if source.merged_into_id:
        raise ValidationFailed(_("The ticket is already merged."), field="source")
    at = timezone.now()
    before = _snapshot(source, "status", "merged_into")
    source.status, source.merged_into, source.closed_at = Status.CANCELLED, target, at
    _end_span(source, at)
    if source.requester_id and source.requester_id != target.requester_id:
        target.watchers.add(source.requester_id)
    _activity(
        source,
        actor=actor,
        kind=TicketActivity.Kind.SYSTEM,
        at=at,
        public=True,
        data={"event": "merged_into", "target": target.reference},
    )
    _activity(
        target,
        actor=actor,
        kind=TicketActivity.Kind.SYSTEM,
        at=at,
        public=False,
        data={"event": "merged_from", "source": source.reference},
    )
    TicketLink.objects.get_or_create(source=source, target=target, kind=TicketLink.Kind.DUPLICATE)
    return _save(source, actor=actor, before=before, verb="merge")


# Satisfaction --------------------------------------------------------------------------------


@transaction.atomic
def ticket_rate(*, ticket: Ticket, score: int, comment: str = "") -> SatisfactionRating:
    """Record the requester's rating (the signed link is checked by the caller)."""
    if not 1 <= int(score) <= 5:
        raise ValidationFailed(_("Give a rating from 1 to 5."), field="score")
    ticket = _lock(ticket, None)
    if ticket.status not in (Status.RESOLVED, Status.CLOSED):
        raise ValidationFailed(_("Only a resolved ticket can be rated."), field="score")
    if SatisfactionRating.objects.filter(ticket=ticket).exists():
        raise ValidationFailed(
            _("This ticket has already been rated. Thank you!"), field="score", code="already_rated"
        )
    at = timezone.now()
    rating = SatisfactionRating.objects.create(
        ticket=ticket, score=int(score), comment=comment.strip(), rated_at=at
    )
    _activity(
        ticket,
        actor=ticket.requester,
        kind=TicketActivity.Kind.RATING,
        at=at,
        public=True,
        body=comment.strip(),
        data={"score": int(score)},
    )
    audit_record(
        actor=ticket.requester,
        action="update",
        obj=ticket,
        verb="rate",
        changes={"rating": [None, int(score)]},
    )
    return rating


# Attachments and approval (portal) -----------------------------------------------------------


@transaction.atomic
def ticket_add_attachment(
    *, actor: User | None, ticket: Ticket, uploaded_file: Any, is_public: bool = True
):
    """Attach a file (at most 10 MB; images, PDF, office documents, text) to the ticket.

    The requester (and whoever may see the ticket) may attach files the requester sees; only
    the service desk may attach internal ones. Returns the ``Attachment``.
    """
    from arende.servicedesk.attachments import check_upload
    from arende.servicedesk.models import Attachment

    filename, content_type = check_upload(uploaded_file)
    ticket = _lock(ticket, None)
    may_attach = (
        actor is None
        or _is_staff_on(actor, ticket)
        or (is_public and Ticket.objects.visible_to(actor).filter(pk=ticket.pk).exists())
    )
    if not may_attach:
        raise ValidationFailed(_("Only the service desk can do this."), code="forbidden")
    if ticket.status in (Status.CLOSED, Status.CANCELLED):
        raise ValidationFailed(
            _("The ticket is closed; report a new one instead."), field="attachments"
        )
    at = timezone.now()
    size = int(uploaded_file.size)
    activity = _activity(
        ticket,
        actor=actor,
        kind=TicketActivity.Kind.SYSTEM,
        at=at,
        public=is_public,
        data={"event": "attachment", "filename": filename, "size": size},
    )
    attachment = Attachment(
        ticket=ticket,
        activity=activity,
        filename=filename,
        content_type=content_type,
        size=size,
        is_public=is_public,
        uploaded_by=actor if actor and actor.is_authenticated else None,
    )
    uploaded_file.seek(0)
    attachment.file.save(filename, uploaded_file, save=False)
    attachment.save()
    audit_record(
        actor=actor,
        action="update",
        obj=ticket,
        verb="attach",
        changes={"attachment": [None, filename], "size": [None, size]},
    )
    return attachment


@transaction.atomic
def ticket_approve(*, actor: User, ticket: Ticket, comment: str = "") -> Ticket:
    """The approver lets a request that needs approval through: it becomes a new ticket."""
    from arende.servicedesk.approvals import can_approve

    ticket = _lock(ticket, None)
    if ticket.status != Status.PENDING_APPROVAL:
        raise ValidationFailed(_("The request is not awaiting approval."), field="status")
    if not can_approve(actor, ticket):
        raise ValidationFailed(_("You cannot approve this request."), code="forbidden")
    before = _snapshot(ticket, "status")
    ticket.status = Status.ASSIGNED if ticket.assignee_id else Status.NEW
    _activity(
        ticket,
        actor=actor,
        kind=TicketActivity.Kind.STATUS,
        at=timezone.now(),
        public=True,
        body=comment.strip(),
        data={"from": Status.PENDING_APPROVAL, "to": ticket.status, "approved": True},
    )
    return _save(ticket, actor=actor, before=before, verb="approve")


@transaction.atomic
def ticket_reject(*, actor: User, ticket: Ticket, reason: str) -> Ticket:
    """The approver turns a request down, saying why: the ticket is cancelled."""
    from arende.servicedesk.approvals import can_approve

    if not reason.strip():
        raise ValidationFailed(_("Say why the request is turned down."), field="reason")
    ticket = _lock(ticket, None)
    if ticket.status != Status.PENDING_APPROVAL:
        raise ValidationFailed(_("The request is not awaiting approval."), field="status")
    if not can_approve(actor, ticket):
        raise ValidationFailed(_("You cannot approve this request."), code="forbidden")
    before = _snapshot(ticket, "status")
    at = timezone.now()
    ticket.status, ticket.closed_at = Status.CANCELLED, at
    _end_span(ticket, at)
    _activity(
        ticket,
        actor=actor,
        kind=TicketActivity.Kind.STATUS,
        at=at,
        public=True,
        body=reason.strip(),
        data={"from": Status.PENDING_APPROVAL, "to": Status.CANCELLED, "rejected": True},
    )
    return _save(ticket, actor=actor, before=before, verb="reject")


# Agent workspace: bulk actions and version checks ---------------------------------------------


def ticket_lock_at_version(*, ticket: Ticket, version: int) -> Ticket:
    """Lock the ticket for the caller's transaction; StaleEdit if it is no longer at ``version``.

    For callers that hold a version when the service they call next takes none (reopen,
    merge): call both inside one ``transaction.atomic`` block.
    """
    return _lock(ticket, version)


@dataclass(frozen=True)
class BulkResult:
    """What a bulk action did: the tickets changed, and the ones refused with the reason."""

    changed: list[Ticket]
    refused: list[tuple[Ticket, str]]


def _bulk(items: list[tuple[Ticket, int | None]], apply: Any) -> BulkResult:
    changed: list[Ticket] = []
    refused: list[tuple[Ticket, str]] = []
    with transaction.atomic():
        for ticket, version in items:
            try:
                with transaction.atomic():  # a refusal undoes that ticket only
                    changed.append(apply(ticket, version))
            except StaleEdit:
                refused.append(
                    (
                        ticket,
                        _(
                            "Changed by someone else after the list was loaded; nothing was "
                            "saved. Open the ticket to see what changed."
                        ),
                    )
                )
            except ValidationFailed as error:
                refused.append((ticket, str(error.message)))
    return BulkResult(changed=changed, refused=refused)


def tickets_bulk_assign(
    *,
    actor: User | None,
    items: list[tuple[Ticket, int | None]],
    group: SupportGroup | None = None,
    assignee: User | None = None,
) -> BulkResult:
    """``ticket_assign`` on each ``(ticket, version)`` in one transaction; refusals reported."""
    return _bulk(
        items,
        lambda ticket, version: ticket_assign(
            actor=actor, ticket=ticket, version=version, group=group, assignee=assignee
        ),
    )


def tickets_bulk_set_status(
    *, actor: User | None, items: list[tuple[Ticket, int | None]], status: str
) -> BulkResult:
    """``ticket_set_status`` on each ``(ticket, version)`` in one transaction."""
    return _bulk(
        items,
        lambda ticket, version: ticket_set_status(
            actor=actor, ticket=ticket, version=version, status=status
        ),
    )


# Parent and watchers -------------------------------------------------------------------------


@transaction.atomic
def ticket_set_parent(
    *, actor: User | None, ticket: Ticket, version: int | None, parent: Ticket | None
) -> Ticket:
    """Make ``ticket`` a child of ``parent`` (or of nothing). A ticket cannot descend from itself."""
    ticket = _lock(ticket, version)
    _require_worker(actor, ticket)
    node = parent
    seen: set[int] = set()
    while node is not None and node.pk not in seen:
        if node.pk == ticket.pk:
            raise ValidationFailed(
                _("A ticket cannot be placed under itself or one of its own children."),
                field="parent",
            )
        seen.add(node.pk)
        node = node.parent
    if ticket.parent_id == (parent.pk if parent else None):
        return ticket
    before = _snapshot(ticket, "parent")
    ticket.parent = parent
    _activity(
        ticket,
        actor=actor,
        kind=TicketActivity.Kind.CHANGE,
        at=timezone.now(),
        public=False,
        data={"changes": {"parent": [before["parent"], audit_value(parent)]}},
    )
    return _save(ticket, actor=actor, before=before, verb="parent")


@transaction.atomic
def ticket_set_watching(
    *, actor: User | None, ticket: Ticket, user: User, watching: bool
) -> Ticket:
    """Add or remove a watcher: someone who follows the ticket besides its requester.

    Staff add or remove anyone; others only themselves. Watching lets a person see the ticket,
    so a watcher added by someone else is of the ticket's organisation or staff who may see it
    anyway: one municipality's people never reach the other's tickets this way.
    """
    ticket = _lock(ticket, None)
    if actor is not None and actor.pk != user.pk:
        _require_worker(actor, ticket)
        if (
            watching
            and user.organisation_id != ticket.organisation_id
            and not user.has_perm("servicedesk.view_ticket", ticket)
        ):
            raise ValidationFailed(
                _("Only people of the ticket's organisation can follow it."), field="user"
            )
    already = ticket.watchers.filter(pk=user.pk).exists()
    if already == watching:
        return ticket
    if watching:
        ticket.watchers.add(user)
    else:
        ticket.watchers.remove(user)
    _activity(
        ticket,
        actor=actor,
        kind=TicketActivity.Kind.CHANGE,
        at=timezone.now(),
        public=False,
        data={"watcher": str(user), "watching": watching},
    )
    audit_record(
        actor=actor,
        action="update",
        obj=ticket,
        verb="watch" if watching else "unwatch",
        changes={"watchers": [None, str(user)] if watching else [str(user), None]},
    )
    return ticket
