"""The agent workspace, mounted under /desk/ in the "servicedesk" namespace."""

from django.urls import path, re_path

from arende.servicedesk.views import agent

REFERENCE = r"(?P<reference>\d{4}-\d{6,})"

urlpatterns = [
    path("", agent.queue, name="queue"),
    path("filters/", agent.queue_filters, name="queue_filters"),
    path("queues/", agent.queue_counts, name="queue_counts"),
    path("bulk/", agent.bulk, name="bulk"),
    path("views/", agent.saved_view_create, name="saved_view_create"),
    path("views/<int:pk>/delete/", agent.saved_view_remove, name="saved_view_delete"),
    re_path(rf"^{REFERENCE}/$", agent.ticket_detail, name="ticket"),
    re_path(
        rf"^{REFERENCE}/files/(?P<pk>\d+)/$", agent.ticket_attachment, name="ticket_attachment"
    ),
    re_path(rf"^{REFERENCE}/(?P<action>[a-z_]+)/$", agent.ticket_action, name="ticket_action"),
]
