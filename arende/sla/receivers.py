"""The SLA app follows every ticket write: status history first, then the clocks."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from arende.servicedesk.services.tickets import row_insert, rows_flush
from arende.sla import services
from arende.sla.models import StatusSpan

# Verbs after which a ticket's clocks may have changed. Notes, links, ratings and watchers
# change nothing an SLA depends on.
RECOMPUTE_VERBS = {
    "create",
    "assign",
    "escalate",
    "hand_back",
    "status",
    "resolve",
    "reopen",
    "close",
    "cancel",
    "reply",
    "update",
    "approve",
    "reject",
    "merge",
}


def on_ticket_changed(
    sender: Any, *, ticket: Any, verb: str, activity: Any = None, **_: Any
) -> None:
    if verb not in RECOMPUTE_VERBS:
        return
    created = verb == "create"
    if created:
        # A new ticket's first status (a batch of new tickets writes these together).
        row_insert(StatusSpan(ticket=ticket, status=ticket.status, started_at=ticket.created_at))
    else:
        rows_flush()  # what a batch holds back is read below
        at = activity.at if activity else timezone.now()
        services.status_span_track(ticket=ticket, at=at)
    services.ticket_clocks_refresh(ticket=ticket, reason=verb, created=created)


def on_configuration_changed(sender: Any, **_: Any) -> None:
    """A calendar or policy changed: recompute open tickets' clocks once the change commits."""
    from django.db import transaction

    from arende.sla.jobs import recompute_clocks

    transaction.on_commit(lambda: recompute_clocks(open_only=True))
