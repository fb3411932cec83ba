"""Administration of mailboxes and notification templates. Secrets are write-only here."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from arende.core.admin import AuditedAdmin
from arende.mail.forms import MailboxAdminForm, NotificationTemplateForm
from arende.mail.models import Mailbox, NotificationTemplate, OutboundMessage
from arende.mail.services.settings import MAILBOX_FIELDS, mailbox_save


@admin.register(Mailbox)
class MailboxAdmin(admin.ModelAdmin):
    form = MailboxAdminForm
    list_display = [
        "name",
        "address",
        "host",
        "auth_method",
        "organisation",
        "is_active",
        "last_polled_at",
    ]
    list_filter = ["is_active", "auth_method", "organisation"]
    readonly_fields = ["secret_stored", "last_polled_at", "last_error"]
    fieldsets = [
        (None, {"fields": ["name", "address", "organisation", "default_group", "is_active"]}),
        (_("Server"), {"fields": ["host", "port", "security", "folder", "processed_folder"]}),
        (
            _("Log-in"),
            {
                "fields": [
                    "auth_method", "username", "new_secret", "secret_stored", "oauth_tenant",
                    "oauth_client_id", "oauth_token_url", "oauth_scope",
                ]
            },
        ),
        (_("Limits"), {"fields": ["max_message_bytes", "rate_limit"]}),
        (_("Polling"), {"fields": ["last_polled_at", "last_error"]}),
    ]  # fmt: skip

    @admin.display(description=_("secret stored"), boolean=True)
    def secret_stored(self, obj: Mailbox) -> bool:
        return obj.has_secret

    def save_model(self, request, obj, form, change):
        fields = {
            name: form.cleaned_data[name] for name in MAILBOX_FIELDS if name in form.cleaned_data
        }
        target = Mailbox.objects.get(pk=obj.pk) if change else Mailbox()
        saved = mailbox_save(
            actor=request.user,
            mailbox=target,
            secret=form.cleaned_data.get("new_secret") or None,
            **fields,
        )
        obj.pk = saved.pk
        obj.secret_encrypted = saved.secret_encrypted


@admin.register(NotificationTemplate)
class NotificationTemplateAdmin(AuditedAdmin):
    form = NotificationTemplateForm
    list_display = ["kind", "language", "subject", "updated_at"]
    list_filter = ["kind", "language"]


@admin.register(OutboundMessage)
class OutboundMessageAdmin(admin.ModelAdmin):
    list_display = ["created_at", "to", "subject", "kind", "state", "attempts"]
    list_filter = ["state", "kind"]
    search_fields = ["to", "subject", "message_id"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
