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
from arende.servicedesk.models.saved_views import SavedView
from arende.servicedesk.models.tickets import (
    Attachment,
    BacklogSnapshot,
    LineSpan,
    SatisfactionRating,
    SlaState,
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
    "SavedView",
    "Service",
    "SlaState",
    "SupportGroup",
    "Ticket",
    "TicketActivity",
    "TicketCounter",
    "TicketLink",
    "Urgency",
]
