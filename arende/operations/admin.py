"""Administration of the operations configuration: status page services, standard change
templates and blackout periods. Incidents, problems and changes are worked in the app itself
(their state changes go through the services), so the admin only shows them read-only."""

from __future__ import annotations

from django.contrib import admin

from arende.core.admin import AuditedAdmin
from arende.operations.models import (
    BlackoutPeriod,
    Change,
    ChangeTemplate,
    MajorIncident,
    Problem,
    StatusPageService,
)


@admin.register(StatusPageService)
class StatusPageServiceAdmin(AuditedAdmin):
    list_display = ["public_name", "service", "position", "is_listed"]
    list_editable = ["position", "is_listed"]


@admin.register(ChangeTemplate)
class ChangeTemplateAdmin(AuditedAdmin):
    list_display = ["name", "is_active"]
    list_filter = ["is_active"]
    filter_horizontal = ["services"]
    search_fields = ["name"]


@admin.register(BlackoutPeriod)
class BlackoutPeriodAdmin(AuditedAdmin):
    list_display = ["name", "starts_at", "ends_at"]
    date_hierarchy = "starts_at"


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(MajorIncident)
class MajorIncidentAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "status", "severity", "started_at", "resolved_at"]
    list_filter = ["status", "severity", "is_security"]


@admin.register(Problem)
class ProblemAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "status", "is_known_error", "created_at"]
    list_filter = ["status"]


@admin.register(Change)
class ChangeAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "type", "status", "risk_level", "planned_start", "outcome"]
    list_filter = ["status", "type", "outcome"]
