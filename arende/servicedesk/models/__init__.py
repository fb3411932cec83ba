from arende.servicedesk.models.catalogue import (
    Category,
    Impact,
    Priority,
    PriorityRule,
    RequestType,
    Service,
    Urgency,
)
from arende.servicedesk.models.groups import SupportGroup
from arende.servicedesk.models.tickets import (
    Attachment,
    BacklogSnapshot,
    LineSpan,
    SatisfactionRating,
    Ticket,
    TicketActivity,
    TicketCounter,
    TicketLink,
)

__all__ = [
    "Attachment",
    "BacklogSnapshot",
    "Category",
    "Impact",
    "LineSpan",
    "Priority",
    "PriorityRule",
    "RequestType",
    "SatisfactionRating",
    "Service",
    "SupportGroup",
    "Ticket",
    "TicketActivity",
    "TicketCounter",
    "TicketLink",
    "Urgency",
]
