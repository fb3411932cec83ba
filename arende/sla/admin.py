from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from arende.core.admin import AuditedAdmin
from arende.servicedesk.models import Ticket
from arende.sla.models import Calendar, CalendarException, SlaClock, SlaPolicy

OPEN_STATUSES = [
    (value, label) for value, label in Ticket.Status.choices if value not in Ticket.CLOSED_STATUSES
]


class SlaPolicyForm(forms.ModelForm):
    pause_statuses = forms.MultipleChoiceField(
        label=_("statuses that pause the clocks"),
        choices=OPEN_STATUSES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("While a ticket has one of these statuses, none of its clocks count."),
    )

    class Meta:
        model = SlaPolicy
        fields = [
            "name",
            "order",
            "organisation",
            "service",
            "kind",
            "priority",
            "first_response_minutes",
            "resolution_minutes",
            "second_line_resolution_minutes",
            "warn_at_percent",
            "second_warn_at_percent",
            "pause_statuses",
            "is_active",
        ]


class CalendarExceptionInline(admin.TabularInline):
    model = CalendarException
    extra = 0


@admin.register(Calendar)
class CalendarAdmin(AuditedAdmin):
    list_display = ["name", "organisation", "service", "always_open"]
    inlines = [CalendarExceptionInline]


@admin.register(SlaPolicy)
class SlaPolicyAdmin(AuditedAdmin):
    form = SlaPolicyForm
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


@admin.register(SlaClock)
class SlaClockAdmin(admin.ModelAdmin):
    """Read only: clocks are computed from the tickets' history, never edited."""

    list_display = ["ticket", "metric", "state", "deadline", "stopped_at", "policy"]
    list_filter = ["metric", "state"]
    raw_id_fields = ["ticket"]
    list_select_related = ["ticket", "policy"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
