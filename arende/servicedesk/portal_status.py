"""A ticket's status in the words of the person who asked for help, for the portal and the
start page (staff words such as "assigned" mean little to a requester)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy

from arende.servicedesk.models import Ticket

Status = Ticket.Status

# What each status means, said to the person who asked for help.
STATUS_HINTS = {
    Status.PENDING_APPROVAL: gettext_lazy(
        "Your request must be approved before IT can start on it."
    ),
    Status.NEW: gettext_lazy("We have received your ticket. Someone at IT will pick it up soon."),
    Status.ASSIGNED: gettext_lazy("Someone at IT has taken your ticket."),
    Status.IN_PROGRESS: gettext_lazy("We are working on it."),
    Status.WAITING_REQUESTER: gettext_lazy(
        "We are waiting for an answer from you. Write it below."
    ),
    Status.WAITING_SUPPLIER: gettext_lazy(
        "We are waiting for a supplier. We will tell you when we know more."
    ),
    Status.RESOLVED: gettext_lazy("We think it is solved. If it is not, tell us below."),
    Status.CLOSED: gettext_lazy("The ticket is finished."),
    Status.CANCELLED: gettext_lazy("The ticket was cancelled."),
}
# The status in plain words.
STATUS_WORDS = {
    Status.PENDING_APPROVAL: gettext_lazy("Awaiting approval"),
    Status.NEW: gettext_lazy("Received"),
    Status.ASSIGNED: gettext_lazy("Someone is on it"),
    Status.IN_PROGRESS: gettext_lazy("Being worked on"),
    Status.WAITING_REQUESTER: gettext_lazy("Waiting for your answer"),
    Status.WAITING_SUPPLIER: gettext_lazy("Waiting for a supplier"),
    Status.RESOLVED: gettext_lazy("Solved"),
    Status.CLOSED: gettext_lazy("Finished"),
    Status.CANCELLED: gettext_lazy("Cancelled"),
}
STATUS_TONE = {
    Status.PENDING_APPROVAL: "waiting",
    Status.WAITING_REQUESTER: "action",
    Status.WAITING_SUPPLIER: "waiting",
    Status.RESOLVED: "done",
    Status.CLOSED: "done",
    Status.CANCELLED: "stopped",
}


def status_for_requester(ticket: Ticket) -> dict[str, str]:
    return {
        "label": STATUS_WORDS.get(ticket.status, Status(ticket.status).label),
        "hint": STATUS_HINTS.get(ticket.status, ""),
        "tone": STATUS_TONE.get(ticket.status, "open"),
    }
