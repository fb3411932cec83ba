"""``{% ticket_operations ticket %}``: what operations knows about a ticket, for the ticket page.

Shows the major incident the ticket belongs to (as parent or child), the problems and known
errors it is linked to, a form to link a known error, and a link to declare a major incident
from the ticket. Renders nothing for people without the operations permissions.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.db.models import Q

from arende.operations.models import MajorIncident, Problem

register = template.Library()


@register.inclusion_tag("operations/_ticket_operations.html", takes_context=True)
def ticket_operations(context: dict[str, Any], ticket) -> dict[str, Any]:
    user = context["request"].user
    data: dict[str, Any] = {"ticket": ticket, "show": False, "request": context["request"]}
    if user.has_perm("operations.view_majorincident"):
        parent_ids = [pk for pk in (ticket.pk, ticket.parent_id) if pk]
        data["incident"] = (
            MajorIncident.objects.visible_to(user).filter(parent_ticket_id__in=parent_ids).first()
        )
        data["can_declare"] = (
            user.has_perm("operations.add_majorincident")
            and data["incident"] is None
            and not ticket.parent_id
        )
    if user.has_perm("operations.view_problem"):
        problems = Problem.objects.visible_to(user)
        data["problems"] = list(problems.filter(ticket_links__ticket=ticket).order_by("pk"))
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
