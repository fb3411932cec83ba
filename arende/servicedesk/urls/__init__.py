"""The service desk's URLs, one module per part so that each part can grow on its own."""

from django.urls import include, path

from arende.servicedesk.urls import agent, catalogue, dashboard, phone, portal

app_name = "servicedesk"

urlpatterns = [
    path("desk/", include(agent.urlpatterns)),
    path("portal/", include(portal.urlpatterns)),
    path("phone/", include(phone.urlpatterns)),
    path("dashboard/", include(dashboard.urlpatterns)),
    path("catalogue/", include(catalogue.urlpatterns)),
]
