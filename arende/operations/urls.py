from django.urls import path

from arende.operations.views import changes, incidents, overview, problems

app_name = "operations"

urlpatterns = [
    path("", overview.overview, name="overview"),
    path("figures/", overview.figures, name="figures"),
    path("availability/", overview.availability, name="availability"),
    path("maintenance/", overview.maintenance_list, name="maintenance_list"),
    path("maintenance/<int:pk>/cancel/", overview.maintenance_cancel, name="maintenance_cancel"),
    path("major-incidents/", incidents.incident_list, name="incident_list"),
    path("major-incidents/new/", incidents.incident_declare, name="incident_declare"),
    path("major-incidents/<int:pk>/", incidents.incident_detail, name="incident_detail"),
    path(
        "major-incidents/<int:pk>/<slug:action>/",
        incidents.incident_action,
        name="incident_action",
    ),
    path("problems/", problems.problem_list, name="problem_list"),
    path("problems/new/", problems.problem_create, name="problem_create"),
    path("problems/<int:pk>/", problems.problem_detail, name="problem_detail"),
    path("problems/<int:pk>/<slug:action>/", problems.problem_action, name="problem_action"),
    path(
        "tickets/<str:reference>/known-error/",
        problems.ticket_known_error,
        name="ticket_known_error",
    ),
    path("changes/", changes.change_list, name="change_list"),
    path("changes/new/", changes.change_create, name="change_create"),
    path("changes/calendar/", changes.change_calendar, name="change_calendar"),
    path("changes/<int:pk>/", changes.change_detail, name="change_detail"),
    path("changes/<int:pk>/<slug:action>/", changes.change_action, name="change_action"),
]
