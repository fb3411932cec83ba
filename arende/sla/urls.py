from django.urls import path

from arende.sla import views

app_name = "sla"

urlpatterns = [
    path("", views.report, name="report"),
    path("breaches/", views.breach_list, name="breaches"),
    path("export/<str:table>.<str:fmt>", views.export, name="export"),
]
