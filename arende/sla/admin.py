from django.contrib import admin

from arende.core.admin import AuditedAdmin
from arende.sla.models import Calendar, CalendarException, SlaPolicy


class CalendarExceptionInline(admin.TabularInline):
    model = CalendarException
    extra = 0


@admin.register(Calendar)
class CalendarAdmin(AuditedAdmin):
    list_display = ["name", "organisation", "service", "always_open"]
    inlines = [CalendarExceptionInline]


@admin.register(SlaPolicy)
class SlaPolicyAdmin(AuditedAdmin):
    list_display = [
        "name",
        "order",
        "organisation",
        "service",
        "kind",
        "priority",
        "first_response_minutes",
        "resolution_minutes",
        "is_active",
    ]
    list_filter = ["is_active", "organisation", "priority"]
    ordering = ["order", "name"]
