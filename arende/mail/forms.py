"""Forms of the mail pages and the administration site. Secrets are write-only."""

from __future__ import annotations

from django import forms
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from arende.mail.models import Mailbox, Notification, NotificationTemplate
from arende.mail.rendering import VARIABLES, TemplateRefused, check_template
from arende.mail.services.settings import MAILBOX_FIELDS


class AssignForm(forms.Form):
    reference = forms.RegexField(
        label=_("Ticket reference"),
        regex=r"^\s*\d{4}-\d{6,}\s*$",
        help_text=_("For example 2026-000123. The message is added to it as a reply."),
        error_messages={"invalid": _("Write a reference such as 2026-000123.")},
    )


class PreferencesForm(forms.Form):
    def __init__(self, *args, current: dict[str, bool], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for kind in Notification.STAFF_KINDS:
            self.fields[kind] = forms.BooleanField(
                label=Notification.Kind(kind).label, required=False, initial=current.get(kind, True)
            )


class MailboxAdminForm(forms.ModelForm):
    new_secret = forms.CharField(
        label=_("Password or client secret"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("Write-only: the stored secret is never shown. Leave empty to keep it."),
    )
    oauth_token_url = forms.URLField(
        label=_("token endpoint"), required=False, assume_scheme="https"
    )

    class Meta:
        model = Mailbox
        fields = list(MAILBOX_FIELDS)


class NotificationTemplateForm(forms.ModelForm):
    class Meta:
        model = NotificationTemplate
        fields = ["kind", "language", "subject", "body"]
        help_texts = {
            "body": format_lazy(
                "{} {}",
                _("Django template syntax ({% if %}, {% for %}, filters). Variables:"),
                ", ".join(VARIABLES),
            )
        }

    def clean(self):
        cleaned = super().clean()
        for name in ("subject", "body"):
            value = cleaned.get(name)
            if value:
                try:
                    check_template(value)
                except TemplateRefused as error:
                    self.add_error(name, str(error))
        return cleaned
