"""Mailbox configuration and each person's notification choices."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from arende.core.audit import audit_record, audit_value
from arende.core.errors import ValidationFailed
from arende.core.models import User
from arende.mail.imap import LOOPBACK
from arende.mail.models import Mailbox, Notification, NotificationPreference
from arende.mail.secrets import encrypt_secret

MAILBOX_FIELDS = (
    "name", "address", "host", "port", "security", "username", "auth_method", "oauth_tenant",
    "oauth_client_id", "oauth_token_url", "oauth_scope", "folder", "processed_folder",
    "organisation", "default_group", "max_message_bytes", "rate_limit", "is_active",
)  # fmt: skip


@transaction.atomic
def mailbox_save(
    *, actor: User | None, mailbox: Mailbox, secret: str | None = None, **fields: Any
) -> Mailbox:
    """Create or change a mailbox. ``secret`` (password or client secret) replaces the stored
    one when given; it is encrypted and never written to the audit log."""
    unknown = set(fields) - set(MAILBOX_FIELDS)
    if unknown:
        raise ValidationFailed(_("This field cannot be changed here."), field=sorted(unknown)[0])
    creating = mailbox.pk is None
    before = {name: audit_value(getattr(mailbox, name, None)) for name in fields}
    for name, value in fields.items():
        setattr(mailbox, name, value)
    if mailbox.security == Mailbox.Security.PLAIN and mailbox.host not in LOOPBACK:
        raise ValidationFailed(
            _("Unencrypted IMAP is only allowed to a server on this machine."), field="security"
        )
    if mailbox.auth_method == Mailbox.Auth.XOAUTH2 and not (
        mailbox.oauth_client_id and (mailbox.oauth_tenant or mailbox.oauth_token_url)
    ):
        raise ValidationFailed(
            _("OAuth 2.0 needs the tenant id and the client id."), field="oauth_client_id"
        )
    changes = {
        name: [before[name], audit_value(getattr(mailbox, name))]
        for name in fields
        if before[name] != audit_value(getattr(mailbox, name))
    }
    if secret:
        mailbox.secret_encrypted = encrypt_secret(secret)
        changes["secret"] = ["…", "… (changed)"]
    mailbox.save()
    audit_record(
        actor=actor,
        action="create" if creating else "update",
        obj=mailbox,
        changes=changes,
        organisation_id=mailbox.organisation_id,
    )
    return mailbox


@transaction.atomic
def notification_preferences_set(*, user: User, enabled: dict[str, bool]) -> None:
    """Which staff notifications ``user`` wants; kinds not named keep their setting."""
    allowed = set(Notification.STAFF_KINDS)
    changes = {}
    for kind, on in enabled.items():
        if kind not in allowed:
            raise ValidationFailed(_("Unknown kind of notification."), field=kind)
        preference, _created = NotificationPreference.objects.get_or_create(
            user=user, kind=kind, defaults={"enabled": on}
        )
        if preference.enabled != on or _created:
            if preference.enabled != on:
                preference.enabled = on
                preference.save(update_fields=["enabled"])
            changes[kind] = [not on, on]
    if changes:
        audit_record(
            actor=user, action="update", obj=user, verb="mail_preferences", changes=changes
        )
