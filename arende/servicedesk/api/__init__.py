"""REST API for the service desk: tickets, their timeline, attachments and the actions on them.

The same rules as the pages: every read goes through ``Ticket.objects.visible_to`` (a ticket of
another municipality answers 404 exactly like a missing one) and every write through the
services in ``arende.servicedesk.services``, so the API leaves the same timeline and audit trail.

A ticket is shown in one of two views. The *staff* view is for users who may read the internal
notes of the ticket's organisation (``servicedesk.view_internal_note``); everyone else (the
requester, a watcher, a department contact) gets the *requester* view, which leaves out all that
is internal: line, group, assignee, watchers, escalation times and the line history with its
reasons. The timeline of a requester never holds internal notes or internal changes.
"""

from arende.servicedesk.api.catalogue import CategoryViewSet, ServiceViewSet, SupportGroupViewSet
from arende.servicedesk.api.tickets import TicketViewSet

__all__ = ["CategoryViewSet", "ServiceViewSet", "SupportGroupViewSet", "TicketViewSet"]
