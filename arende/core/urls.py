from django.urls import path

from arende.core import views

app_name = "core"

urlpatterns = [
    path("", views.home, name="home"),
    path("people/", views.user_list, name="user_list"),
    path("people/<int:pk>/", views.user_detail, name="user_detail"),
    path("organisations/", views.organisation_list, name="organisation_list"),
    path("organisations/<int:pk>/", views.organisation_detail, name="organisation_detail"),
    path("audit/", views.audit_list, name="audit_list"),
    path("status/", views.system_status, name="system_status"),
]
