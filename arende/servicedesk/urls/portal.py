"""The requester portal, mounted at /portal/."""

from django.urls import path

from arende.servicedesk.views import portal

urlpatterns = [
    path("", portal.portal_home, name="portal_home"),
    path("tickets/", portal.portal_tickets, name="portal_tickets"),
    path("new/problem/", portal.portal_new_problem, name="portal_new_problem"),
    path("new/<int:request_type_id>/", portal.portal_new_request, name="portal_new_request"),
    path("tickets/<str:reference>/", portal.portal_ticket, name="portal_ticket"),
    path("tickets/<str:reference>/reply/", portal.portal_ticket_reply, name="portal_ticket_reply"),
    path(
        "tickets/<str:reference>/reopen/", portal.portal_ticket_reopen, name="portal_ticket_reopen"
    ),
    path(
        "tickets/<str:reference>/cancel/", portal.portal_ticket_cancel, name="portal_ticket_cancel"
    ),
    path("tickets/<str:reference>/rate/", portal.portal_ticket_rate, name="portal_ticket_rate"),
    path(
        "tickets/<str:reference>/files/<int:pk>/",
        portal.portal_attachment,
        name="portal_attachment",
    ),
    path("approvals/", portal.portal_approvals, name="portal_approvals"),
    path(
        "approvals/<str:reference>/",
        portal.portal_approval_decide,
        name="portal_approval_decide",
    ),
    path("rate/<str:token>/", portal.portal_rate, name="portal_rate"),
]
