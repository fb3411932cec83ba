"""Administration of the service desk's configuration: catalogue, groups, priority matrix."""

from __future__ import annotations

from django.contrib import admin

from arende.core.admin import AuditedAdmin
from arende.servicedesk.models import (
    Category,
    PriorityRule,
    RequestType,
    Service,
    SupportGroup,
)


@admin.register(SupportGroup)
class SupportGroupAdmin(AuditedAdmin):
    list_display = ["name", "line", "email", "is_active"]
    list_filter = ["line", "is_active"]
    filter_horizontal = ["members"]
    search_fields = ["name"]


@admin.register(Service)
class ServiceAdmin(AuditedAdmin):
    list_display = ["name", "owner", "default_group", "is_public", "is_active"]
    list_filter = ["is_public", "is_active"]
    search_fields = ["name"]


@admin.register(Category)
class CategoryAdmin(AuditedAdmin):
    list_display = ["__str__", "service", "is_active"]
    list_filter = ["service", "is_active"]
    search_fields = ["name"]


@admin.register(RequestType)
class RequestTypeAdmin(AuditedAdmin):
    list_display = ["name", "service", "kind", "approval", "is_active"]
    list_filter = ["service", "approval", "is_active"]
    search_fields = ["name"]


@admin.register(PriorityRule)
class PriorityRuleAdmin(AuditedAdmin):
    list_display = ["impact", "urgency", "priority"]
    ordering = ["impact", "urgency"]
