"""Tickets and everything that happens to them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from arende.core.access import scope_for
from arende.core.models.scoping import ScopedQuerySet
from arende.servicedesk.models.catalogue import Impact, Priority, Urgency

if TYPE_CHECKING:
    from arende.core.models import User


class TicketQuerySet(ScopedQuerySet):
    """Staff see tickets of the organisations their role reaches; requesters see their own,
    the ones they watch, and (with the department role) their department's."""

    scope_org_field = "organisation"
    scope_perm = "servicedesk.view_ticket"

    def own_q(self, user: User) -> Q:
        # A subquery, not a join, so that a watched ticket is not listed twice; evaluated
        # once (``in_set``), so that each branch of the OR can use its own index.
        watched = Ticket.watchers.through.objects.filter(user_id=user.pk).values("ticket_id")
        condition = Q(requester_id=user.pk) | Q(id__in_set=watched)
        department_scope = scope_for(user, "servicedesk.view_department_tickets")
        reaches_own_organisation = department_scope.all_organisations or (
            user.organisation_id in department_scope.organisation_ids
        )
        if user.department_id and reaches_own_organisation:
            condition |= Q(department_id=user.department_id)
        return condition

    def open(self) -> TicketQuerySet:
        return self.exclude(status__in=Ticket.CLOSED_STATUSES)


OPEN_STATUS_VALUES = (
    "pending_approval",
    "new",
    "assigned",
    "in_progress",
    "waiting_requester",
    "waiting_supplier",
)


class SlaState(models.TextChoices):
    """The worst state among a ticket's SLA clocks; text, so it never depends on colour."""

    NONE = "", _("No SLA")
    RUNNING = "running", _("On track")
    PAUSED = "paused", _("Paused")
    WARNING = "warning", _("About to breach")
    BREACHED = "breached", _("Breached")
    MET = "met", _("Met")


class Ticket(models.Model):
    """An ärende: an incident, a service request or a question."""

    class Kind(models.TextChoices):
        INCIDENT = "incident", _("Incident")
        REQUEST = "request", _("Service request")
        QUESTION = "question", _("Question")

    class Channel(models.TextChoices):
        PORTAL = "portal", _("Portal")
        EMAIL = "email", _("E-mail")
        PHONE = "phone", _("Phone")
        WALK_IN = "walk_in", _("Walk-in")
        API = "api", _("API")
        MONITORING = "monitoring", _("Monitoring")

    class Status(models.TextChoices):
        PENDING_APPROVAL = "pending_approval", _("Awaiting approval")
        NEW = "new", _("New")
        ASSIGNED = "assigned", _("Assigned")
        IN_PROGRESS = "in_progress", _("In progress")
        WAITING_REQUESTER = "waiting_requester", _("Waiting for requester")
        WAITING_SUPPLIER = "waiting_supplier", _("Waiting for supplier")
        RESOLVED = "resolved", _("Resolved")
        CLOSED = "closed", _("Closed")
        CANCELLED = "cancelled", _("Cancelled")

    CLOSED_STATUSES = ("resolved", "closed", "cancelled")
    WAITING_STATUSES = ("waiting_requester", "waiting_supplier")

    class Line(models.IntegerChoices):
        FIRST = 1, _("First line")
        SECOND = 2, _("Second line")

    reference = models.CharField(_("reference"), max_length=20, unique=True, editable=False)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.INCIDENT)
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)

    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requester"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="requested_tickets",
    )
    contact_name = models.CharField(_("contact name"), max_length=200, blank=True)
    contact_email = models.EmailField(_("contact e-mail"), blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=40, blank=True)
    organisation = models.ForeignKey(
        "core.Organisation",
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        related_name="tickets",
    )
    department = models.ForeignKey(
        "core.Department",
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tickets",
    )

    service = models.ForeignKey(
        "servicedesk.Service",
        verbose_name=_("service"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tickets",
    )
    category = models.ForeignKey(
        "servicedesk.Category",
        verbose_name=_("category"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tickets",
    )
    request_type = models.ForeignKey(
        "servicedesk.RequestType",
        verbose_name=_("request type"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tickets",
    )
    custom_fields = models.JSONField(_("request details"), default=dict, blank=True)

    impact = models.PositiveSmallIntegerField(
        _("impact"), choices=Impact.choices, default=Impact.LOW
    )
    urgency = models.PositiveSmallIntegerField(
        _("urgency"), choices=Urgency.choices, default=Urgency.MEDIUM
    )
    priority = models.PositiveSmallIntegerField(
        _("priority"), choices=Priority.choices, default=Priority.MEDIUM
    )

    line = models.PositiveSmallIntegerField(_("support line"), choices=Line.choices, default=1)
    group = models.ForeignKey(
        "servicedesk.SupportGroup",
        verbose_name=_("group"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tickets",
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assigned_tickets",
    )
    watchers = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("watchers"),
        blank=True,
        related_name="watched_tickets",
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.NEW, db_index=True
    )
    resolution = models.TextField(_("resolution"), blank=True)

    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent ticket"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("merged into"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged",
    )

    created_at = models.DateTimeField(_("created"), db_index=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    first_response_at = models.DateTimeField(_("first response"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("escalated"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    resolved_in_first_line = models.BooleanField(_("resolved in first line"), null=True)
    # Kept by the SLA app (sla/services.py) so that queues can sort and filter by time left
    # without a join: the earliest deadline among the ticket's running clocks, and their state.
    sla_due_at = models.DateTimeField(_("SLA deadline"), null=True, blank=True, editable=False)
    sla_state = models.CharField(
        _("SLA state"), max_length=12, choices=SlaState.choices, blank=True, editable=False
    )
    version = models.PositiveIntegerField(default=1, editable=False)

    objects = TicketQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        permissions = [
            ("view_department_tickets", _("Can view the tickets of own department")),
            ("work_ticket", _("Can work tickets (assign, reply, resolve)")),
            ("view_internal_note", _("Can read internal notes")),
            ("view_servicedesk_dashboard", _("Can view the service desk dashboard")),
        ]
        indexes = [
            models.Index(fields=["status", "line", "group", "-created_at"]),
            models.Index(fields=["assignee", "status"]),
            models.Index(fields=["organisation", "status", "-created_at"]),
            models.Index(fields=["requester", "-created_at"]),
            models.Index(fields=["resolved_at"]),
            # Queues sorted by priority: open tickets are few, so these partial indexes are small
            # and let the database read the first page in order instead of sorting them all.
            models.Index(
                fields=["line", "priority", "created_at", "id"],
                condition=Q(status__in=OPEN_STATUS_VALUES),
                name="ticket_open_line_priority",
            ),
            models.Index(
                fields=["priority", "created_at", "id"],
                condition=Q(status__in=OPEN_STATUS_VALUES),
                name="ticket_open_priority",
            ),
            models.Index(
                fields=["sla_due_at", "id"],
                condition=Q(status__in=OPEN_STATUS_VALUES),
                name="ticket_open_sla_due",
            ),
            # The "about to breach" queue: few tickets, so its count and first page read a
            # handful of index entries instead of filtering every open ticket.
            models.Index(
                fields=["sla_due_at", "id"],
                condition=Q(status__in=OPEN_STATUS_VALUES, sla_state__in=["warning", "breached"]),
                name="ticket_open_sla_alarm",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.status not in self.CLOSED_STATUSES

    @property
    def status_label(self) -> str:
        """``get_status_display()``, without its per-call dictionary of every choice."""
        return str(_STATUS_LABELS.get(self.status, self.status))

    @property
    def requester_label(self) -> str:
        if self.requester_id:
            return str(self.requester)
        return self.contact_name or self.contact_email or self.contact_phone


_STATUS_LABELS = dict(Ticket.Status.choices)


class TicketCounter(models.Model):
    """The last reference number handed out per year; locked while the next one is taken."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("ticket counter")

    def __str__(self) -> str:
        return f"{self.year}: {self.last_number}"


class TicketActivity(models.Model):
    """One line of a ticket's timeline: a reply, an internal note, or a change."""

    class Kind(models.TextChoices):
        REPLY = "reply", _("Reply")
        NOTE = "note", _("Internal note")
        CHANGE = "change", _("Change")
        STATUS = "status", _("Status")
        ASSIGNMENT = "assignment", _("Assignment")
        ESCALATION = "escalation", _("Escalation")
        RATING = "rating", _("Rating")
        SYSTEM = "system", _("System")

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="activities")
    at = models.DateTimeField(_("time"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    is_public = models.BooleanField(
        _("visible to the requester"),
        default=False,
        help_text=_("Internal notes and internal changes are never shown to requesters."),
    )
    body = models.TextField(_("text"), blank=True)
    data = models.JSONField(default=dict, blank=True)
    channel = models.CharField(_("channel"), max_length=20, blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("ticket activity")
        verbose_name_plural = _("ticket activities")
        indexes = [models.Index(fields=["ticket", "at"])]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.kind} {self.at:%Y-%m-%d %H:%M}"


class LineSpan(models.Model):
    """How long a ticket stayed with one line and group, for first-line rate and line times."""

    class Reason(models.TextChoices):
        CREATED = "created", _("Created")
        ASSIGNED = "assigned", _("Assigned")
        ESCALATED = "escalated", _("Escalated")
        HANDED_BACK = "handed_back", _("Handed back")

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="line_spans")
    line = models.PositiveSmallIntegerField(_("support line"), choices=Ticket.Line.choices)
    group = models.ForeignKey(
        "servicedesk.SupportGroup",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices)
    note = models.TextField(_("reason given"), blank=True)
    started_at = models.DateTimeField(_("from"))
    ended_at = models.DateTimeField(_("to"), null=True, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        ordering = ["started_at", "id"]
        verbose_name = _("line span")
        verbose_name_plural = _("line spans")
        indexes = [models.Index(fields=["ticket", "started_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["ticket"], condition=Q(ended_at__isnull=True), name="one_open_line_span"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} line {self.line} from {self.started_at:%Y-%m-%d %H:%M}"


class TicketLink(models.Model):
    """A relation between two tickets other than parent/child (related, duplicate of)."""

    class Kind(models.TextChoices):
        RELATED = "related", _("Related to")
        DUPLICATE = "duplicate", _("Duplicate of")
        CAUSED_BY = "caused_by", _("Caused by")

    source = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="links_out")
    target = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="links_in")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("ticket link")
        verbose_name_plural = _("ticket links")
        constraints = [
            models.UniqueConstraint(fields=["source", "target", "kind"], name="ticket_link_unique"),
            models.CheckConstraint(
                condition=~Q(source=models.F("target")), name="ticket_link_not_self"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source_id} {self.kind} {self.target_id}"


def attachment_path(instance: Attachment, filename: str) -> str:
    return f"attachments/{instance.ticket.reference}/{filename}"


class Attachment(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="attachments")
    activity = models.ForeignKey(
        TicketActivity,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="attachments",
    )
    file = models.FileField(_("file"), upload_to=attachment_path, max_length=300)
    filename = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("type"), max_length=100)
    size = models.PositiveBigIntegerField(_("size"))
    is_public = models.BooleanField(_("visible to the requester"), default=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["uploaded_at", "id"]
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.filename


class SatisfactionRating(models.Model):
    """The requester's rating of a resolution, 1–5, given once through a signed link."""

    ticket = models.OneToOneField(Ticket, on_delete=models.CASCADE, related_name="rating")
    score = models.PositiveSmallIntegerField(_("rating"))
    comment = models.TextField(_("comment"), blank=True)
    rated_at = models.DateTimeField(_("rated"))

    class Meta:
        verbose_name = _("satisfaction rating")
        verbose_name_plural = _("satisfaction ratings")
        constraints = [
            models.CheckConstraint(
                condition=Q(score__gte=1, score__lte=5), name="rating_score_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.score}"


class BacklogSnapshot(models.Model):
    """Open tickets at the end of one day, per organisation, group and line: the backlog chart."""

    day = models.DateField(_("day"), db_index=True)
    organisation = models.ForeignKey(
        "core.Organisation", on_delete=models.CASCADE, related_name="+"
    )
    group = models.ForeignKey(
        "servicedesk.SupportGroup",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    line = models.PositiveSmallIntegerField(choices=Ticket.Line.choices)
    open_count = models.PositiveIntegerField(_("open tickets"))

    class Meta:
        ordering = ["day"]
        verbose_name = _("backlog snapshot")
        verbose_name_plural = _("backlog snapshots")
        constraints = [
            models.UniqueConstraint(
                fields=["day", "organisation", "group", "line"], name="backlog_snapshot_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.organisation_id} line {self.line}: {self.open_count}"
