"""``{% ticket_operations ticket %}``: what operations knows about a ticket, for the ticket page.

Shows the major incident the ticket belongs to (as parent or child), the problems and known
errors it is linked to, a form to link a known error, and a link to declare a major incident
from the ticket. Renders nothing for people without the operations permissions.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.db import connections
from django.db.models import Q

from arende.operations.models import MajorIncident, Problem, ProblemTicket

register = template.Library()


def _links_exist(parent_ids: list[int], ticket_id: int) -> tuple[bool, bool]:
    """Whether a major incident hangs on the ticket (or its parent), and whether a problem is
    linked to it: one plain query, since most tickets have neither."""
    incidents = MajorIncident._meta.db_table
    links = ProblemTicket._meta.db_table
    placeholders = ", ".join(["%s"] * len(parent_ids))
    sql = (
        f"SELECT EXISTS (SELECT 1 FROM {incidents} WHERE parent_ticket_id IN ({placeholders})),"  # noqa: S608
        f" EXISTS (SELECT 1 FROM {links} WHERE ticket_id = %s)"
    )
    with connections[MajorIncident.objects.db].cursor() as cursor:
        cursor.execute(sql, [*parent_ids, ticket_id])
        in_incident, in_problem = cursor.fetchone()
    return bool(in_incident), bool(in_problem)


@register.inclusion_tag("operations/_ticket_operations.html", takes_context=True)
def ticket_operations(context: dict[str, Any], ticket) -> dict[str, Any]:
    user = context["request"].user
    data: dict[str, Any] = {"ticket": ticket, "show": False, "request": context["request"]}
    parent_ids = [pk for pk in (ticket.pk, ticket.parent_id) if pk]
    sees_incidents = user.has_perm("operations.view_majorincident")
    sees_problems = user.has_perm("operations.view_problem")
    if not (sees_incidents or sees_problems):
        return data
    in_incident, in_problem = _links_exist(parent_ids, ticket.pk)
    if sees_incidents:
        data["incident"] = (
            MajorIncident.objects.visible_to(user).filter(parent_ticket_id__in=parent_ids).first()
            if in_incident
            else None
        )
        data["can_declare"] = (
            user.has_perm("operations.add_majorincident")
            and data["incident"] is None
            and not ticket.parent_id
        )
    if sees_problems:
        problems = Problem.objects.visible_to(user)
        data["problems"] = (
            list(problems.filter(ticket_links__ticket=ticket).order_by("pk")) if in_problem else []
        )
        if user.has_perm("operations.change_problem"):
            linked = {problem.pk for problem in data["problems"]}
            data["known_errors"] = [
                problem
                for problem in problems.filter(
                    Q(status=Problem.Status.KNOWN_ERROR), is_known_error=True
                ).order_by("-created_at")[:50]
                if problem.pk not in linked
            ]
    # Only a card with something in it: an incident, a way to declare one, problems or errors.
    data["show"] = any(
        data.get(key) for key in ("incident", "can_declare", "problems", "known_errors")
    )
    return data
