"""The service desk's panels on the start page: the agent's queues, the person's own tickets."""

from __future__ import annotations

from typing import Any

from django.db.models import Case, Count, Q, Value, When

from arende.core.home import HomePanel
from arende.servicedesk import approvals, choices, selectors
from arende.servicedesk.models import Ticket
from arende.servicedesk.portal_status import status_for_requester

# The queues an agent starts the day with; the rest are one click away in the workspace.
AGENT_QUEUES = ("mine", "groups", "breach", "unassigned")
# Someone in no support group (the IT manager, say) follows the whole desk instead.
OVERSEER_QUEUES = ("open", "second_line", "breach", "unassigned")
OWN_TICKETS_SHOWN = 5


def desk_panel(user: Any) -> HomePanel | None:
    """How many tickets wait in the agent's own queues, each a link into the workspace."""
    if not user.has_perm(selectors.VIEW_PERM):
        return None
    counts = selectors.queue_counts(user)
    shown = AGENT_QUEUES if choices.groups_of(user.pk) else OVERSEER_QUEUES
    queues = [(queue, counts[queue.key]) for queue in selectors.QUEUES if queue.key in shown]
    return HomePanel(
        "servicedesk/home/_desk.html",
        {"queues": queues, "count_cap": selectors.COUNT_CAP},
        order=10,
    )


def own_tickets_panel(user: Any) -> HomePanel | None:
    """The person's own ongoing tickets (answers asked of them first) and approvals they owe.

    Everyone has it; staff only when they have something of their own going on, since their
    work is in the queues.
    """
    waiting = Q(status=Ticket.Status.WAITING_REQUESTER)
    # Solved ones stay until closed: the requester may still say it is not solved.
    open_tickets = selectors.own_tickets(user).exclude(
        status__in=(Ticket.Status.CLOSED, Ticket.Status.CANCELLED)
    )
    totals = open_tickets.aggregate(open=Count("pk"), waiting=Count("pk", filter=waiting))
    approval_count = len(approvals.tickets_awaiting_approval_by(user))
    is_staff_member = user.has_perm(selectors.VIEW_PERM)
    if is_staff_member and not totals["open"] and not approval_count:
        return None
    # The requester's turn first, then the most recently changed.
    shown = (
        open_tickets.select_related("requester")
        .annotate(their_turn=Case(When(waiting, then=Value(0)), default=Value(1)))
        .order_by("their_turn", "-updated_at", "-pk")[:OWN_TICKETS_SHOWN]
    )
    return HomePanel(
        "servicedesk/home/_own_tickets.html",
        {
            "rows": [
                {"ticket": ticket, "status": status_for_requester(ticket)} for ticket in shown
            ],
            "open_count": totals["open"],
            "awaiting_answer": totals["waiting"],
            "approval_count": approval_count,
        },
        # A requester's own tickets are the page; for staff they come after the work.
        order=50 if is_staff_member else 5,
    )
