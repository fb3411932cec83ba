"""Major incident services: declare, update, log, link tickets, change status, resolve; and the
post-incident review with its actions.

Tickets are only ever changed through the service desk's own services (``ticket_set_parent``,
``ticket_resolve``), so their timeline, audit log, SLA clocks and notifications stay right:
resolving a major incident resolves each open child with one public resolution, so each
requester hears once.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from arende.core.audit import audit_record, audit_value
from arende.core.errors import ValidationFailed
from arende.core.models import Organisation, User
from arende.operations.models import (
    Change,
    MajorIncident,
    PostIncidentReview,
    ReviewAction,
    TimelineEntry,
)
from arende.operations.services.common import (
    delta,
    lock,
    m2m_names,
    org_ids,
    require_perm,
    save_versioned,
    snap,
)
from arende.servicedesk.models import Service, Ticket
from arende.servicedesk.services import tickets as ticket_services

ADD = "operations.add_majorincident"
CHANGE = "operations.change_majorincident"
Status = MajorIncident.Status

# The order the work goes in; resolving has a service of its own.
FORWARD = {
    Status.INVESTIGATING: {Status.IDENTIFIED, Status.MITIGATED},
    Status.IDENTIFIED: {Status.MITIGATED, Status.INVESTIGATING},
    Status.MITIGATED: {Status.IDENTIFIED, Status.INVESTIGATING},
}


def _entry(
    incident: MajorIncident,
    *,
    actor: User | None,
    kind: str,
    body: str,
    public: bool,
    at: datetime.datetime,
) -> TimelineEntry:
    return TimelineEntry.objects.create(
        incident=incident,
        at=at,
        kind=kind,
        body=body,
        is_public=public,
        author=actor if actor is not None and actor.is_authenticated else None,
    )


def _check_security(is_security: bool, security_type: str) -> None:
    if is_security and not security_type:
        raise ValidationFailed(
            _("Say what kind of security incident it is."), field="security_type"
        )
    if security_type and not is_security:
        raise ValidationFailed(
            _("Only a security incident has a kind of security incident."), field="security_type"
        )


@transaction.atomic
def major_incident_declare(
    *,
    actor: User | None,
    title: str,
    services: Iterable[Service],
    organisations: Iterable[Organisation] = (),
    severity: int = MajorIncident.Severity.MAJOR,
    impact: str = MajorIncident.Impact.OUTAGE,
    lead: User | None = None,
    parent_ticket: Ticket | None = None,
    description: str = "",
    public_title: str = "",
    public_summary: str = "",
    started_at: datetime.datetime | None = None,
    detected_at: datetime.datetime | None = None,
    is_security: bool = False,
    security_type: str = "",
    attack_source: str = "",
    caused_by_change: Change | None = None,
    at: datetime.datetime | None = None,
    open_parent_ticket: bool = True,
) -> MajorIncident:
    """Declare a major incident, from a ticket (it becomes the parent of all reports of the
    same disruption) or directly (then a parent ticket is opened for it, unless
    ``open_parent_ticket`` is False). ``at`` is for imports of history only."""
    title = title.strip()
    if not title:
        raise ValidationFailed(_("Give the major incident a short title."), field="title")
    services = list(services)
    if not services:
        raise ValidationFailed(_("Choose at least one affected service."), field="services")
    organisations = list(organisations)
    if not organisations and parent_ticket is not None:
        organisations = [parent_ticket.organisation]
    if not organisations:
        raise ValidationFailed(
            _("Choose at least one affected organisation."), field="organisations"
        )
    require_perm(actor, ADD, [org.pk for org in organisations], every=True)
    _check_security(is_security, security_type)
    now = at or timezone.now()
    started_at = started_at or (parent_ticket.created_at if parent_ticket else now)
    detected_at = detected_at or started_at
    if detected_at < started_at:
        raise ValidationFailed(
            _("The disruption cannot be detected before it started."), field="detected_at"
        )
    if parent_ticket is not None:
        if MajorIncident.objects.filter(parent_ticket=parent_ticket).exists():
            raise ValidationFailed(
                _("That ticket is already the parent of a major incident."), field="parent_ticket"
            )
        if parent_ticket.parent_id:
            raise ValidationFailed(
                _("That ticket is a child of another ticket; declare from its parent."),
                field="parent_ticket",
            )
    elif open_parent_ticket:
        first = min(organisations, key=lambda org: org.pk)
        parent_ticket = ticket_services.ticket_create(
            actor=actor,
            channel=Ticket.Channel.MONITORING,
            title=title,
            description=description,
            contact_name=(actor.get_full_name() or actor.email)
            if actor is not None and actor.is_authenticated
            else "Incident Manager",
            contact_email=actor.email if actor is not None and actor.is_authenticated else "",
            organisation=first,
            service=services[0],
            impact=1,
            urgency=1,
            created_at=at,
        )
    incident = MajorIncident.objects.create(
        title=title[:200],
        description=description,
        public_title=public_title.strip(),
        public_summary=public_summary.strip(),
        severity=severity,
        impact=impact,
        lead=lead,
        parent_ticket=parent_ticket,
        started_at=started_at,
        detected_at=detected_at,
        declared_at=now,
        is_security=is_security,
        security_type=security_type,
        attack_source=attack_source,
        caused_by_change=caused_by_change,
        created_by=actor if actor is not None and actor.is_authenticated else None,
    )
    incident.services.set(services)
    incident.organisations.set(organisations)
    _entry(
        incident,
        actor=actor,
        kind=TimelineEntry.Kind.STATUS,
        body=_("Major incident declared."),
        public=False,
        at=now,
    )
    audit_record(
        actor=actor,
        action="create",
        obj=incident,
        verb="declare",
        changes={
            "title": [None, incident.title],
            "severity": [None, incident.severity],
            "parent_ticket": [None, audit_value(parent_ticket)],
            "services": [None, m2m_names(services)],
            "organisations": [None, m2m_names(organisations)],
            "lead": [None, audit_value(lead)],
            "status": [None, incident.status],
        },
    )
    return incident


EDITABLE = (
    "title",
    "description",
    "public_title",
    "public_summary",
    "severity",
    "impact",
    "lead",
    "started_at",
    "detected_at",
    "is_security",
    "security_type",
    "attack_source",
    "reported_to_authority",
    "caused_by_change",
)


@transaction.atomic
def major_incident_update(
    *,
    actor: User | None,
    incident: MajorIncident,
    version: int | None,
    services: Iterable[Service] | None = None,
    organisations: Iterable[Organisation] | None = None,
    **changes: Any,
) -> MajorIncident:
    """Edit the facts of a major incident (not its status)."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValidationFailed(_("This field cannot be changed here."), field=sorted(unknown)[0])
    incident = lock(incident, version)
    require_perm(actor, CHANGE, org_ids(incident), every=False)
    before = snap(incident, *changes)
    for name, value in changes.items():
        setattr(incident, name, value.strip() if isinstance(value, str) else value)
    if "title" in changes and not incident.title:
        raise ValidationFailed(_("Give the major incident a short title."), field="title")
    _check_security(incident.is_security, incident.security_type)
    if incident.detected_at < incident.started_at:
        raise ValidationFailed(
            _("The disruption cannot be detected before it started."), field="detected_at"
        )
    changed = delta(incident, before)
    if services is not None:
        services = list(services)
        if not services:
            raise ValidationFailed(_("Choose at least one affected service."), field="services")
        old = m2m_names(incident.services.all())
        if old != m2m_names(services):
            incident.services.set(services)
            changed["services"] = [old, m2m_names(services)]
    if organisations is not None:
        organisations = list(organisations)
        if not organisations:
            raise ValidationFailed(
                _("Choose at least one affected organisation."), field="organisations"
            )
        require_perm(actor, CHANGE, [org.pk for org in organisations], every=True)
        old = m2m_names(incident.organisations.all())
        if old != m2m_names(organisations):
            incident.organisations.set(organisations)
            changed["organisations"] = [old, m2m_names(organisations)]
    if not changed:
        return incident
    incident.version += 1
    incident.save()
    changed["version"] = [incident.version - 1, incident.version]
    audit_record(actor=actor, action="update", obj=incident, changes=changed)
    return incident


@transaction.atomic
def major_incident_add_entry(
    *,
    actor: User | None,
    incident: MajorIncident,
    kind: str,
    body: str,
    is_public: bool = False,
    at: datetime.datetime | None = None,
) -> TimelineEntry:
    """Log an action, a decision or an update; public ones go to the status page."""
    require_perm(actor, CHANGE, org_ids(incident), every=False)
    if kind not in (
        TimelineEntry.Kind.ACTION,
        TimelineEntry.Kind.DECISION,
        TimelineEntry.Kind.UPDATE,
    ):
        raise ValidationFailed(_("Choose action, decision or update."), field="kind")
    if not body.strip():
        raise ValidationFailed(_("Write what happened."), field="body")
    entry = _entry(
        incident, actor=actor, kind=kind, body=body.strip(), public=is_public,
        at=at or timezone.now(),
    )  # fmt: skip
    audit_record(
        actor=actor,
        action="update",
        obj=incident,
        verb=f"timeline_{kind}",
        changes={"timeline": [None, {"kind": kind, "public": is_public, "text": entry.body}]},
    )
    return entry


@transaction.atomic
def major_incident_set_status(
    *,
    actor: User | None,
    incident: MajorIncident,
    version: int | None,
    status: str,
    message: str = "",
    is_public: bool = True,
    at: datetime.datetime | None = None,
) -> MajorIncident:
    """Move between investigating, identified and mitigated; mitigated stamps the restore."""
    incident = lock(incident, version)
    require_perm(actor, CHANGE, org_ids(incident), every=False)
    if status not in FORWARD.get(incident.status, set()):
        raise ValidationFailed(
            _("The major incident cannot go to that status now."), field="status"
        )
    now = at or timezone.now()
    before = snap(incident, "status", "mitigated_at")
    incident.status = status
    if status == Status.MITIGATED:
        incident.mitigated_at = incident.mitigated_at or now
    incident.version += 1
    incident.save()
    _entry(
        incident,
        actor=actor,
        kind=TimelineEntry.Kind.STATUS,
        body=message.strip() or str(Status(status).label),
        public=is_public and bool(message.strip()),
        at=now,
    )
    changed = delta(incident, before)
    changed["version"] = [incident.version - 1, incident.version]
    audit_record(actor=actor, action="update", obj=incident, verb="status", changes=changed)
    return incident


def _require_open(incident: MajorIncident) -> None:
    if not incident.is_open:
        raise ValidationFailed(_("The major incident is resolved."), field="status")


@transaction.atomic
def major_incident_link_ticket(
    *, actor: User | None, incident: MajorIncident, ticket: Ticket
) -> Ticket:
    """Link a ticket about the same disruption: it becomes a child of the parent ticket."""
    require_perm(actor, CHANGE, org_ids(incident), every=False)
    _require_open(incident)
    parent = incident.parent_ticket
    ticket = Ticket.objects.get(pk=ticket.pk)
    if parent is None:
        # Declared without a ticket: the first ticket linked becomes the parent.
        if MajorIncident.objects.filter(parent_ticket=ticket).exists():
            raise ValidationFailed(
                _("That ticket is already the parent of a major incident."), field="ticket"
            )
        MajorIncident.objects.filter(pk=incident.pk).update(parent_ticket=ticket)
        incident.parent_ticket = ticket
        audit_record(
            actor=actor,
            action="update",
            obj=incident,
            verb="link_ticket",
            changes={"parent_ticket": [None, ticket.reference]},
        )
        return ticket
    if ticket.pk == parent.pk:
        raise ValidationFailed(_("That is the parent ticket itself."), field="ticket")
    if ticket.parent_id == parent.pk:
        raise ValidationFailed(_("The ticket is already linked."), field="ticket")
    if not ticket.is_open:
        raise ValidationFailed(_("Only an open ticket can be linked."), field="ticket")
    ticket = ticket_services.ticket_set_parent(
        actor=actor, ticket=ticket, version=None, parent=parent
    )
    audit_record(
        actor=actor,
        action="update",
        obj=incident,
        verb="link_ticket",
        changes={"tickets": [None, ticket.reference]},
    )
    return ticket


@transaction.atomic
def major_incident_unlink_ticket(
    *, actor: User | None, incident: MajorIncident, ticket: Ticket
) -> Ticket:
    require_perm(actor, CHANGE, org_ids(incident), every=False)
    ticket = Ticket.objects.get(pk=ticket.pk)
    if ticket.parent_id != incident.parent_ticket_id:
        raise ValidationFailed(_("The ticket is not linked."), field="ticket")
    ticket = ticket_services.ticket_set_parent(
        actor=actor, ticket=ticket, version=None, parent=None
    )
    audit_record(
        actor=actor,
        action="update",
        obj=incident,
        verb="unlink_ticket",
        changes={"tickets": [ticket.reference, None]},
    )
    return ticket


def review_open(
    *, actor: User | None, incident: MajorIncident, at: datetime.datetime
) -> PostIncidentReview:
    review, created = PostIncidentReview.objects.get_or_create(
        incident=incident, defaults={"created_at": at}
    )
    if created:
        audit_record(
            actor=actor,
            action="create",
            obj=review,
            changes={"incident": [None, incident.reference], "status": [None, review.status]},
        )
    return review


@transaction.atomic
def major_incident_resolve(
    *,
    actor: User | None,
    incident: MajorIncident,
    version: int | None,
    resolution: str,
    public_message: str = "",
    at: datetime.datetime | None = None,
    resolve_tickets: bool = True,
) -> MajorIncident:
    """Resolve the major incident, the parent ticket and every open child (one public
    resolution each), and open its post-incident review."""
    incident = lock(incident, version)
    require_perm(actor, CHANGE, org_ids(incident), every=False)
    _require_open(incident)
    resolution = resolution.strip()
    if not resolution:
        raise ValidationFailed(
            _("Describe the resolution; it is sent to everyone who reported the disruption."),
            field="resolution",
        )
    now = at or timezone.now()
    before = snap(incident, "status", "resolution", "mitigated_at", "resolved_at")
    incident.status = Status.RESOLVED
    incident.resolution = resolution
    incident.resolved_at = now
    incident.mitigated_at = incident.mitigated_at or now
    incident.version += 1
    incident.save()
    _entry(
        incident,
        actor=actor,
        kind=TimelineEntry.Kind.STATUS,
        body=public_message.strip() or resolution,
        public=bool(public_message.strip()),
        at=now,
    )
    resolved: list[str] = []
    if resolve_tickets and incident.parent_ticket_id:
        parent = incident.parent_ticket
        children = list(
            Ticket.objects.filter(parent=parent)
            .exclude(status__in=(*Ticket.CLOSED_STATUSES, Ticket.Status.PENDING_APPROVAL))
            .order_by("pk")
        )
        for ticket in [parent, *children]:
            if ticket.is_open and ticket.status != Ticket.Status.PENDING_APPROVAL:
                ticket_services.ticket_resolve(
                    actor=actor, ticket=ticket, version=None, resolution=resolution
                )
                resolved.append(ticket.reference)
    changed = delta(incident, before)
    changed["version"] = [incident.version - 1, incident.version]
    if resolved:
        changed["resolved_tickets"] = [None, resolved]
    audit_record(actor=actor, action="update", obj=incident, verb="resolve", changes=changed)
    review_open(actor=actor, incident=incident, at=now)
    return incident


# Post-incident review -------------------------------------------------------------------------


def _review_perm(actor: User | None, review: PostIncidentReview) -> None:
    require_perm(actor, CHANGE, org_ids(review.incident), every=False)


@transaction.atomic
def review_update(
    *,
    actor: User | None,
    review: PostIncidentReview,
    version: int | None,
    cause: str,
    what_worked: str,
    what_to_improve: str,
) -> PostIncidentReview:
    review = lock(review, version)
    _review_perm(actor, review)
    before = snap(review, "cause", "what_worked", "what_to_improve")
    review.cause, review.what_worked = cause.strip(), what_worked.strip()
    review.what_to_improve = what_to_improve.strip()
    changed = delta(review, before)
    if not changed:
        return review
    review.version += 1
    review.save()
    changed["version"] = [review.version - 1, review.version]
    audit_record(actor=actor, action="update", obj=review, changes=changed)
    return review


@transaction.atomic
def review_complete(
    *,
    actor: User | None,
    review: PostIncidentReview,
    version: int | None,
    at: datetime.datetime | None = None,
) -> PostIncidentReview:
    """Mark the follow-up done: the cause must be written down first."""
    review = lock(review, version)
    _review_perm(actor, review)
    if review.status == PostIncidentReview.Status.DONE:
        raise ValidationFailed(_("The review is already done."), field="status")
    if not review.cause:
        raise ValidationFailed(_("Write down the cause before closing the review."), field="cause")
    before = snap(review, "status", "completed_at")
    review.status = PostIncidentReview.Status.DONE
    review.completed_at = at or timezone.now()
    return save_versioned(review, actor=actor, before=before, verb="complete")


@transaction.atomic
def review_reopen(
    *, actor: User | None, review: PostIncidentReview, version: int | None
) -> PostIncidentReview:
    review = lock(review, version)
    _review_perm(actor, review)
    if review.status != PostIncidentReview.Status.DONE:
        raise ValidationFailed(_("The review is open."), field="status")
    before = snap(review, "status", "completed_at")
    review.status, review.completed_at = PostIncidentReview.Status.OPEN, None
    return save_versioned(review, actor=actor, before=before, verb="reopen")


@transaction.atomic
def review_action_add(
    *,
    actor: User | None,
    review: PostIncidentReview,
    description: str,
    owner: User,
    due_date: datetime.date,
) -> ReviewAction:
    _review_perm(actor, review)
    if not description.strip():
        raise ValidationFailed(_("Describe the action."), field="description")
    if owner is None:
        raise ValidationFailed(_("Choose who owns the action."), field="owner")
    action = ReviewAction.objects.create(
        review=review, description=description.strip()[:300], owner=owner, due_date=due_date
    )
    audit_record(
        actor=actor,
        action="create",
        obj=action,
        changes={
            "review": [None, review.incident.reference],
            "description": [None, action.description],
            "owner": [None, str(owner)],
            "due_date": [None, due_date.isoformat()],
        },
    )
    return action


@transaction.atomic
def review_action_set_done(
    *,
    actor: User | None,
    action: ReviewAction,
    done: bool = True,
    at: datetime.datetime | None = None,
) -> ReviewAction:
    action = ReviewAction.objects.select_for_update().get(pk=action.pk)
    is_owner = actor is not None and actor.pk == action.owner_id
    if not is_owner:
        _review_perm(actor, action.review)
    before = snap(action, "status", "done_at")
    action.status = ReviewAction.Status.DONE if done else ReviewAction.Status.OPEN
    action.done_at = (at or timezone.now()) if done else None
    changed = delta(action, before)
    if changed:
        action.save()
        audit_record(actor=actor, action="update", obj=action, verb="done" if done else "reopen",
                     changes=changed)  # fmt: skip
    return action


# How often the owner of an overdue follow-up action is reminded: the day after it fell due,
# then once a week until it is done (or someone moves the due date).
REMIND_EVERY = datetime.timedelta(days=7)


def review_actions_remind(*, now: datetime.datetime | None = None) -> list[ReviewAction]:
    """Remind the owner of each open action past its due date (``action_overdue``), at most
    once per ``REMIND_EVERY``. Returns the actions reminded. Each reminder is claimed with a
    conditional UPDATE, so two workers running the job at once remind once."""
    from arende.operations.signals import action_overdue

    now = now or timezone.now()
    today = timezone.localdate(now)
    due = (
        ReviewAction.objects.filter(
            status=ReviewAction.Status.OPEN,
            due_date__lt=today,
            owner__is_active=True,
        )
        .exclude(owner__email="")
        .exclude(reminded_at__gt=now - REMIND_EVERY)
        .order_by("due_date", "pk")
    )
    reminded = []
    for pk, previous in list(due.values_list("pk", "reminded_at")):
        with transaction.atomic():
            claimed = ReviewAction.objects.filter(pk=pk, reminded_at=previous).update(
                reminded_at=now
            )
            if not claimed:
                continue  # another worker reminded it a moment ago
            action = ReviewAction.objects.select_related("review__incident", "owner").get(pk=pk)
            audit_record(
                actor=None,
                action="update",
                verb="remind",
                obj=action,
                changes={
                    "reminded_at": [audit_value(previous), audit_value(now)],
                },
            )
            action_overdue.send(sender=ReviewAction, action=action)
            reminded.append(action)
    return reminded
