"""The IT manager's dashboard, mounted at /dashboard/."""

from django.urls import path

from arende.servicedesk.views import dashboard

urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("export/<slug:table>.<slug:fmt>", dashboard.dashboard_export, name="dashboard_export"),
]
