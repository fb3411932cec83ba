"""Phone intake for the switchboard, mounted at /phone/."""

from django.urls import path

from arende.servicedesk.views import phone

urlpatterns = [
    path("", phone.phone_intake, name="phone_intake"),
    path("search/", phone.phone_search, name="phone_search"),
]
