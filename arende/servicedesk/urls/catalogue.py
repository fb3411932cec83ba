"""The service catalogue editor, mounted at /catalogue/."""

from django.urls import path

from arende.servicedesk.views import catalogue

urlpatterns = [
    path("", catalogue.catalogue_list, name="catalogue"),
    path("services/new/", catalogue.service_create, name="catalogue_service_create"),
    path("services/<int:pk>/", catalogue.service_edit, name="catalogue_service_edit"),
    path(
        "services/<int:service_pk>/request-types/new/",
        catalogue.request_type_create,
        name="catalogue_request_type_create",
    ),
    path(
        "request-types/<int:pk>/",
        catalogue.request_type_edit,
        name="catalogue_request_type_edit",
    ),
]
