"""E-mail: the mailboxes Ärende reads, every message it took in, and the mail it sends.

Intake stores a message's raw bytes first (``InboundMessage``) and parses it afterwards, so
nothing that reached a mailbox is lost: a message that cannot be turned into a ticket stays,
raw, in quarantine. Unique constraints on the server position (mailbox, UIDVALIDITY, UID) and
on a hash of the Message-ID make intake idempotent across pollers.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from arende.core.models.scoping import ScopedQuerySet


class MailboxQuerySet(ScopedQuerySet):
    scope_org_field = "organisation"
    scope_perm = "mail.view_mailbox"


class Mailbox(models.Model):
    """An IMAP mailbox polled for new requests (e.g. servicedesk@herrljunga.se)."""

    class Security(models.TextChoices):
        TLS = "tls", _("TLS (IMAPS, port 993)")
        STARTTLS = "starttls", _("STARTTLS (port 143)")
        PLAIN = "plain", _("Unencrypted (only to a server on this machine)")

    class Auth(models.TextChoices):
        PASSWORD = "password", _("User name and password")
        XOAUTH2 = "xoauth2", _("OAuth 2.0 (Microsoft 365, client credentials)")

    name = models.CharField(_("name"), max_length=100)
    address = models.EmailField(
        _("address"),
        help_text=_(
            "The mailbox's own address. Replies are asked to go to a plus-address of it "
            "(servicedesk+2026-000123@…), which leads back into the ticket."
        ),
    )
    host = models.CharField(_("IMAP server"), max_length=255)
    port = models.PositiveIntegerField(_("port"), default=993)
    security = models.CharField(
        _("security"), max_length=10, choices=Security.choices, default=Security.TLS
    )
    username = models.CharField(_("user name"), max_length=255)
    auth_method = models.CharField(
        _("authentication"), max_length=10, choices=Auth.choices, default=Auth.PASSWORD
    )
    # The password or the OAuth client secret, encrypted (arende.mail.secrets). Never shown.
    secret_encrypted = models.TextField(blank=True, editable=False)
    oauth_tenant = models.CharField(
        _("tenant (directory) id"), max_length=100, blank=True, help_text=_("For OAuth 2.0.")
    )
    oauth_client_id = models.CharField(
        _("client (application) id"), max_length=100, blank=True, help_text=_("For OAuth 2.0.")
    )
    oauth_token_url = models.URLField(
        _("token endpoint"),
        blank=True,
        help_text=_(
            "Leave empty for Microsoft 365 "
            "(https://login.microsoftonline.com/<tenant>/oauth2/v2.0/token)."
        ),
    )
    oauth_scope = models.CharField(
        _("scope"), max_length=200, blank=True, default="https://outlook.office365.com/.default"
    )
    folder = models.CharField(_("folder"), max_length=200, default="INBOX")
    processed_folder = models.CharField(
        _("move processed mail to"),
        max_length=200,
        blank=True,
        help_text=_("A folder on the server. Leave empty to keep processed mail and flag it."),
    )
    organisation = models.ForeignKey(
        "core.Organisation",
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Tickets from senders who are not users belong to this organisation."),
    )
    default_group = models.ForeignKey(
        "servicedesk.SupportGroup",
        verbose_name=_("group"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    max_message_bytes = models.PositiveIntegerField(
        _("largest message (bytes)"), default=25 * 1024 * 1024
    )
    rate_limit = models.PositiveSmallIntegerField(
        _("most messages per sender in 10 minutes"),
        default=20,
        help_text=_("Further messages from the sender are quarantined: it stops mail loops."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    last_polled_at = models.DateTimeField(_("last polled"), null=True, blank=True, editable=False)
    last_error = models.TextField(_("last error"), blank=True, editable=False)

    objects = MailboxQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("mailbox")
        verbose_name_plural = _("mailboxes")
        constraints = [
            models.CheckConstraint(
                condition=~Q(security="plain") | Q(host__in=["127.0.0.1", "localhost", "::1"]),
                name="mailbox_plain_only_loopback",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} <{self.address}>"

    @property
    def has_secret(self) -> bool:
        return bool(self.secret_encrypted)

    def plus_address(self, reference: str) -> str:
        local, _at, domain = self.address.partition("@")
        local = local.split("+", 1)[0]
        return f"{local}+{reference}@{domain}"


class InboundMessageQuerySet(ScopedQuerySet):
    scope_org_field = "organisation"
    scope_perm = "mail.manage_inbound"


class InboundMessage(models.Model):
    """One message taken from a mailbox, kept raw, and what became of it."""

    class State(models.TextChoices):
        RECEIVED = "received", _("Received")
        PROCESSED = "processed", _("Processed")
        IGNORED = "ignored", _("Ignored")
        QUARANTINED = "quarantined", _("Quarantined")

    mailbox = models.ForeignKey(
        Mailbox, verbose_name=_("mailbox"), on_delete=models.PROTECT, related_name="messages"
    )
    organisation = models.ForeignKey(
        "core.Organisation", on_delete=models.PROTECT, related_name="+", editable=False
    )
    uidvalidity = models.BigIntegerField(_("UIDVALIDITY"))
    uid = models.BigIntegerField(_("UID"))
    message_id = models.CharField(_("Message-ID"), max_length=998, blank=True)
    # sha256 of the Message-ID (or of the raw bytes when there is none): one ticket per message
    # even when it reaches two mailboxes or two pollers.
    message_key = models.CharField(max_length=64, unique=True, editable=False)
    sha256 = models.CharField(_("SHA-256"), max_length=64, editable=False)
    raw = models.BinaryField(_("raw message"))
    size = models.PositiveIntegerField(_("size"))
    from_address = models.CharField(_("from"), max_length=320, blank=True, db_index=True)
    from_name = models.CharField(_("sender's name"), max_length=200, blank=True)
    subject = models.CharField(_("subject"), max_length=500, blank=True)
    received_at = models.DateTimeField(_("received"), auto_now_add=True, db_index=True)
    state = models.CharField(
        _("state"), max_length=12, choices=State.choices, default=State.RECEIVED
    )
    reason = models.CharField(_("reason"), max_length=40, blank=True)
    error = models.TextField(_("error"), blank=True)
    notes = models.JSONField(default=list, blank=True)
    ticket = models.ForeignKey(
        "servicedesk.Ticket",
        verbose_name=_("ticket"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="inbound_messages",
    )
    processed_at = models.DateTimeField(_("processed"), null=True, blank=True)
    server_done = models.BooleanField(default=False, editable=False)
    version = models.PositiveIntegerField(default=1, editable=False)

    objects = InboundMessageQuerySet.as_manager()

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("incoming message")
        verbose_name_plural = _("incoming messages")
        permissions = [
            ("manage_inbound", _("Can handle quarantined e-mail (download, retry, assign)")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["mailbox", "uidvalidity", "uid"], name="inbound_server_position_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["state", "-received_at"]),
            models.Index(fields=["from_address", "received_at"]),
            models.Index(fields=["message_id"]),
        ]

    def __str__(self) -> str:
        return f"{self.from_address}: {self.subject}"[:200]

    @property
    def reason_label(self) -> str:
        return str(REASON_LABELS.get(self.reason, self.reason))


REASON_LABELS = {
    "auto_submitted": _("automatic reply (Auto-Submitted)"),
    "auto_reply": _("automatic reply"),
    "bulk": _("bulk or list mail"),
    "bounce": _("delivery report (bounce)"),
    "rate_limit": _("too many messages from the sender"),
    "too_large": _("too large"),
    "unparseable": _("cannot be read"),
    "failed": _("could not be processed"),
    "dismissed": _("dismissed by hand"),
}


class OutboundMessage(models.Model):
    """A mail Ärende sent (or is sending). Its Message-ID threads replies back to the ticket."""

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    message_id = models.CharField(_("Message-ID"), max_length=255, unique=True)
    ticket = models.ForeignKey(
        "servicedesk.Ticket",
        verbose_name=_("ticket"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="outbound_messages",
    )
    kind = models.CharField(_("kind"), max_length=40)
    to = models.CharField(_("to"), max_length=320)
    reply_to = models.CharField(_("reply to"), max_length=320, blank=True)
    from_address = models.CharField(_("from"), max_length=320)
    in_reply_to = models.CharField(max_length=998, blank=True)
    subject = models.CharField(_("subject"), max_length=500)
    body = models.TextField(_("text"))
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default="queued")
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("outgoing message")
        verbose_name_plural = _("outgoing messages")
        indexes = [models.Index(fields=["state", "created_at"])]

    def __str__(self) -> str:
        return f"{self.to}: {self.subject}"[:200]


class Notification(models.Model):
    """One reason to tell someone something, collected during a transaction.

    Rows are written inside the transaction that changed the ticket, so they vanish with it on
    rollback. After the commit one job turns a batch into at most one mail per recipient: a
    bulk action on forty tickets gives each person one mail listing them, not forty.
    """

    class Kind(models.TextChoices):
        RECEIPT = "receipt", _("Receipt of a new ticket (requester)")
        REPLY = "reply", _("Reply from the service desk (requester)")
        RESOLVED = "resolved", _("Ticket resolved (requester)")
        ASSIGNED = "assigned", _("Ticket assigned to me")
        ESCALATED = "escalated", _("Ticket escalated to my group")
        REQUESTER_REPLIED = "requester_replied", _("The requester replied to my ticket")
        SLA = "sla", _("SLA warnings")
        DIGEST = "digest", _("Several notifications at once")
        ACTION_OVERDUE = "action_overdue", _("Follow-up action overdue (its owner)")

    STAFF_KINDS = ("assigned", "escalated", "requester_replied", "sla")

    batch = models.UUIDField(db_index=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    email = models.EmailField()
    name = models.CharField(max_length=200, blank=True)
    language = models.CharField(max_length=5, default="sv")
    ticket = models.ForeignKey(
        "servicedesk.Ticket", on_delete=models.CASCADE, related_name="mail_notifications"
    )
    activity = models.ForeignKey(
        "servicedesk.TicketActivity", null=True, blank=True, on_delete=models.SET_NULL
    )
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    outbound = models.ForeignKey(
        OutboundMessage, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")

    def __str__(self) -> str:
        return f"{self.kind} → {self.email}"


class NotificationTemplate(models.Model):
    """The subject and text of one kind of mail in one language, editable by an administrator.

    Written in Django's template language but rendered with a restricted engine and a fixed
    context of plain values (see arende.mail.rendering): no tags or filters that reach files,
    settings or the database.
    """

    kind = models.CharField(_("kind"), max_length=20, choices=Notification.Kind.choices)
    language = models.CharField(
        _("language"), max_length=5, choices=settings.LANGUAGES, default="sv"
    )
    subject = models.CharField(_("subject"), max_length=300)
    body = models.TextField(_("text"))
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["kind", "language"]
        verbose_name = _("notification template")
        verbose_name_plural = _("notification templates")
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "language"], name="notification_template_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.language})"


class NotificationPreference(models.Model):
    """A staff member's choice to receive (or not) one kind of notification. Absent: receive."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mail_preferences"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Notification.Kind.choices)
    enabled = models.BooleanField(_("send"), default=True)

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="notification_preference_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind}: {self.enabled}"
