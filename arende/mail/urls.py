"""The mail pages, mounted at /mail/."""

from django.urls import path

from arende.mail import views

app_name = "mail"

urlpatterns = [
    path("inbound/", views.inbound_list, name="inbound_list"),
    path("inbound/<int:pk>/", views.inbound_detail, name="inbound_detail"),
    path("inbound/<int:pk>/raw/", views.inbound_raw, name="inbound_raw"),
    path("inbound/<int:pk>/retry/", views.inbound_retry_view, name="inbound_retry"),
    path("inbound/<int:pk>/assign/", views.inbound_assign_view, name="inbound_assign"),
    path("inbound/<int:pk>/dismiss/", views.inbound_dismiss_view, name="inbound_dismiss"),
    path("notifications/", views.preferences, name="preferences"),
]
