"""Problem services: create, update, mark as known error, link tickets, resolve."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from arende.core.audit import audit_record
from arende.core.errors import ValidationFailed
from arende.core.models import Organisation, User
from arende.operations.models import MajorIncident, Problem, ProblemTicket
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

ADD = "operations.add_problem"
CHANGE = "operations.change_problem"


@transaction.atomic
def problem_create(
    *,
    actor: User | None,
    title: str,
    organisations: Iterable[Organisation],
    services: Iterable[Service] = (),
    description: str = "",
    owner: User | None = None,
    major_incidents: Iterable[MajorIncident] = (),
    at: datetime.datetime | None = None,
) -> Problem:
    title = title.strip()
    if not title:
        raise ValidationFailed(_("Give the problem a short title."), field="title")
    organisations = list(organisations)
    if not organisations:
        raise ValidationFailed(_("Choose at least one organisation."), field="organisations")
    require_perm(actor, ADD, [org.pk for org in organisations], every=True)
    problem = Problem.objects.create(
        title=title[:200], description=description, owner=owner, created_at=at or timezone.now()
    )
    problem.organisations.set(organisations)
    problem.services.set(list(services))
    problem.major_incidents.set(list(major_incidents))
    audit_record(
        actor=actor,
        action="create",
        obj=problem,
        changes={
            "title": [None, problem.title],
            "organisations": [None, m2m_names(organisations)],
            "services": [None, m2m_names(problem.services.all())],
            "major_incidents": [None, m2m_names(problem.major_incidents.all())],
        },
    )
    return problem


EDITABLE = ("title", "description", "root_cause", "workaround", "owner")


@transaction.atomic
def problem_update(
    *, actor: User | None, problem: Problem, version: int | None, **changes: Any
) -> Problem:
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValidationFailed(_("This field cannot be changed here."), field=sorted(unknown)[0])
    problem = lock(problem, version)
    require_perm(actor, CHANGE, org_ids(problem), every=False)
    before = snap(problem, *changes)
    for name, value in changes.items():
        setattr(problem, name, value.strip() if isinstance(value, str) else value)
    if not problem.title:
        raise ValidationFailed(_("Give the problem a short title."), field="title")
    changed = delta(problem, before)
    if not changed:
        return problem
    problem.version += 1
    problem.save()
    changed["version"] = [problem.version - 1, problem.version]
    audit_record(actor=actor, action="update", obj=problem, changes=changed)
    return problem


@transaction.atomic
def problem_mark_known_error(
    *, actor: User | None, problem: Problem, version: int | None, root_cause: str, workaround: str
) -> Problem:
    """Cause and workaround are known: agents can now link new tickets to it."""
    problem = lock(problem, version)
    require_perm(actor, CHANGE, org_ids(problem), every=False)
    if problem.status == Problem.Status.RESOLVED:
        raise ValidationFailed(_("The problem is resolved."), field="status")
    if not root_cause.strip():
        raise ValidationFailed(_("Describe the root cause."), field="root_cause")
    if not workaround.strip():
        raise ValidationFailed(_("Describe the workaround."), field="workaround")
    before = snap(problem, "status", "is_known_error", "root_cause", "workaround")
    problem.status, problem.is_known_error = Problem.Status.KNOWN_ERROR, True
    problem.root_cause, problem.workaround = root_cause.strip(), workaround.strip()
    return save_versioned(problem, actor=actor, before=before, verb="known_error")


@transaction.atomic
def problem_resolve(
    *,
    actor: User | None,
    problem: Problem,
    version: int | None,
    at: datetime.datetime | None = None,
) -> Problem:
    problem = lock(problem, version)
    require_perm(actor, CHANGE, org_ids(problem), every=False)
    if problem.status == Problem.Status.RESOLVED:
        raise ValidationFailed(_("The problem is already resolved."), field="status")
    if not problem.root_cause:
        raise ValidationFailed(_("Describe the root cause."), field="root_cause")
    before = snap(problem, "status", "resolved_at")
    problem.status, problem.resolved_at = Problem.Status.RESOLVED, at or timezone.now()
    return save_versioned(problem, actor=actor, before=before, verb="resolve")


@transaction.atomic
def problem_link_ticket(
    *, actor: User | None, problem: Problem, ticket: Ticket, at: datetime.datetime | None = None
) -> ProblemTicket:
    """Link a ticket to the problem. For a known error, the ticket gets an internal note with
    the workaround, so the agent has it on the ticket's timeline."""
    require_perm(actor, CHANGE, org_ids(problem), every=False)
    if ProblemTicket.objects.filter(problem=problem, ticket=ticket).exists():
        raise ValidationFailed(_("The ticket is already linked."), field="ticket")
    link = ProblemTicket.objects.create(
        problem=problem,
        ticket=ticket,
        linked_at=at or timezone.now(),
        linked_by=actor if actor is not None and actor.is_authenticated else None,
    )
    if problem.is_known_error:
        ticket_services.ticket_add_note(
            actor=actor,
            ticket=ticket,
            body=_("Known error %(reference)s: %(title)s. Workaround: %(workaround)s")
            % {
                "reference": problem.reference,
                "title": problem.title,
                "workaround": problem.workaround,
            },
        )
    audit_record(
        actor=actor,
        action="update",
        obj=problem,
        verb="link_ticket",
        changes={"tickets": [None, ticket.reference]},
    )
    return link


@transaction.atomic
def problem_unlink_ticket(*, actor: User | None, problem: Problem, ticket: Ticket) -> None:
    require_perm(actor, CHANGE, org_ids(problem), every=False)
    deleted, _rows = ProblemTicket.objects.filter(problem=problem, ticket=ticket).delete()
    if not deleted:
        raise ValidationFailed(_("The ticket is not linked."), field="ticket")
    audit_record(
        actor=actor,
        action="update",
        obj=problem,
        verb="unlink_ticket",
        changes={"tickets": [ticket.reference, None]},
    )
