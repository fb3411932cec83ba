from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from arende.core import api as core_api
from arende.core import views as core_views
from arende.mail import api as mail_api
from arende.operations import api as operations_api
from arende.operations.views import status_page as operations_status
from arende.servicedesk import api as servicedesk_api

router = DefaultRouter()
router.register("organisations", core_api.OrganisationViewSet, basename="organisation")
router.register("departments", core_api.DepartmentViewSet, basename="department")
router.register("users", core_api.UserViewSet, basename="user")
router.register("audit-events", core_api.AuditEventViewSet, basename="auditevent")
router.register("tickets", servicedesk_api.TicketViewSet, basename="ticket")
router.register("support-groups", servicedesk_api.SupportGroupViewSet, basename="supportgroup")
router.register("services", servicedesk_api.ServiceViewSet, basename="service")
router.register("categories", servicedesk_api.CategoryViewSet, basename="category")
router.register("inbound-mail", mail_api.InboundMessageViewSet, basename="inboundmessage")
router.register("major-incidents", operations_api.MajorIncidentViewSet, basename="majorincident")
router.register("problems", operations_api.ProblemViewSet, basename="problem")
router.register("changes", operations_api.ChangeViewSet, basename="change")
router.register("change-templates", operations_api.ChangeTemplateViewSet, basename="changetemplate")
router.register("blackout-periods", operations_api.BlackoutPeriodViewSet, basename="blackoutperiod")
router.register("maintenance", operations_api.PlannedMaintenanceViewSet, basename="maintenance")

urlpatterns = [
    path("", include("arende.core.urls")),
    path("", include("arende.servicedesk.urls")),
    path("mail/", include("arende.mail.urls")),
    path("sla/", include("arende.sla.urls")),
    path("accounts/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("operations/", include("arende.operations.urls")),
    path("driftstatus/", operations_status.status_page, name="status_page"),
    path("driftstatus/feed/", operations_status.StatusFeed(), name="status_feed"),
    path("api/operations/figures/", operations_api.OperationsFiguresView.as_view()),
    path("api/operations/availability/", operations_api.AvailabilityView.as_view()),
    path("api/", include(router.urls)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="swagger-ui"),
    path("healthz", core_views.healthz, name="healthz"),
]

handler403 = "arende.core.views.forbidden"
handler404 = "arende.core.views.not_found"
