"""Major incidents, their timeline, their post-incident reviews and review actions."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from arende.operations.models.scoping import OrganisationsScoped


class MajorIncidentQuerySet(OrganisationsScoped, models.QuerySet):
    scope_perm = "operations.view_majorincident"

    def open(self):
        return self.exclude(status=MajorIncident.Status.RESOLVED)


class MajorIncident(models.Model):
    """A disruption big enough to be run as one: a lead, a timeline, children, a review."""

    class Status(models.TextChoices):
        INVESTIGATING = "investigating", _("Investigating")
        IDENTIFIED = "identified", _("Cause identified")
        MITIGATED = "mitigated", _("Mitigated, monitoring")
        RESOLVED = "resolved", _("Resolved")

    class Severity(models.IntegerChoices):
        CRITICAL = 1, _("1 – Critical")
        MAJOR = 2, _("2 – Major")
        MODERATE = 3, _("3 – Moderate")

    class Impact(models.TextChoices):
        OUTAGE = "outage", _("Outage")
        DEGRADED = "degraded", _("Degraded service")

    class SecurityType(models.TextChoices):
        NONE = "", _("Not a security incident")
        DDOS = "ddos", _("Denial of service (DDoS)")
        MALWARE = "malware", _("Malware or ransomware")
        INTRUSION = "intrusion", _("Intrusion")
        PHISHING = "phishing", _("Phishing")
        DATA_LEAK = "data_leak", _("Data leak")
        OTHER = "other", _("Other security incident")

    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("internal description"), blank=True)
    public_title = models.CharField(
        _("public title"),
        max_length=200,
        blank=True,
        help_text=_("Shown on the public status page. Leave empty to keep it off the page."),
    )
    public_summary = models.TextField(
        _("public summary"), blank=True, help_text=_("Shown on the public status page.")
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.INVESTIGATING
    )
    severity = models.PositiveSmallIntegerField(
        _("severity"), choices=Severity.choices, default=Severity.MAJOR
    )
    impact = models.CharField(_("impact"), max_length=20, choices=Impact.choices, default="outage")
    lead = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("incident lead"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="led_major_incidents",
    )
    services = models.ManyToManyField(
        "servicedesk.Service", verbose_name=_("affected services"), related_name="major_incidents"
    )
    organisations = models.ManyToManyField(
        "core.Organisation",
        verbose_name=_("affected organisations"),
        related_name="major_incidents",
    )
    parent_ticket = models.OneToOneField(
        "servicedesk.Ticket",
        verbose_name=_("parent ticket"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="major_incident",
    )
    started_at = models.DateTimeField(_("started"))
    detected_at = models.DateTimeField(_("detected"))
    declared_at = models.DateTimeField(_("declared"))
    mitigated_at = models.DateTimeField(_("mitigated"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    resolution = models.TextField(_("resolution"), blank=True)
    is_security = models.BooleanField(_("security incident"), default=False)
    security_type = models.CharField(
        _("kind of security incident"), max_length=20, choices=SecurityType.choices, blank=True
    )
    attack_source = models.CharField(_("attack source"), max_length=200, blank=True)
    reported_to_authority = models.BooleanField(
        _("reported to the authority (MSB/IMY)"), default=False
    )
    caused_by_change = models.ForeignKey(
        "operations.Change",
        verbose_name=_("caused by change"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="caused_incidents",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    version = models.PositiveIntegerField(default=1, editable=False)

    objects = MajorIncidentQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("major incident")
        verbose_name_plural = _("major incidents")
        indexes = [models.Index(fields=["status", "-started_at"])]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    @property
    def reference(self) -> str:
        return f"MI-{self.pk or 0:04d}"

    @property
    def is_open(self) -> bool:
        return self.status != self.Status.RESOLVED

    @property
    def restored_at(self):
        """When the service worked again: mitigated, or else resolved."""
        return self.mitigated_at or self.resolved_at

    @property
    def time_to_restore(self):
        restored = self.restored_at
        return restored - self.started_at if restored else None

    @property
    def time_to_mitigate(self):
        """From detection to mitigation (for security incidents: how fast it was stopped)."""
        return self.mitigated_at - self.detected_at if self.mitigated_at else None

    @property
    def restore_minutes(self) -> int | None:
        value = self.time_to_restore
        return None if value is None else round(value.total_seconds() / 60)

    @property
    def mitigate_minutes(self) -> int | None:
        value = self.time_to_mitigate
        return None if value is None else round(value.total_seconds() / 60)

    @property
    def is_on_status_page(self) -> bool:
        return bool(self.public_title)


class TimelineEntry(models.Model):
    """One line of a major incident's log: an action, a decision or an update."""

    class Kind(models.TextChoices):
        ACTION = "action", _("Action")
        DECISION = "decision", _("Decision")
        UPDATE = "update", _("Update")
        STATUS = "status", _("Status")

    incident = models.ForeignKey(MajorIncident, on_delete=models.CASCADE, related_name="timeline")
    at = models.DateTimeField(_("time"))
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    body = models.TextField(_("text"))
    is_public = models.BooleanField(
        _("public"),
        default=False,
        help_text=_("Public entries are shown on the status page; internal ones never are."),
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("timeline entry")
        verbose_name_plural = _("timeline entries")
        indexes = [models.Index(fields=["incident", "at"])]

    def __str__(self) -> str:
        return f"{self.incident_id} {self.kind} {self.at:%Y-%m-%d %H:%M}"


class PostIncidentReview(models.Model):
    """The follow-up of a major incident: cause, what worked, what to improve, actions."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        DONE = "done", _("Done")

    incident = models.OneToOneField(MajorIncident, on_delete=models.CASCADE, related_name="review")
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default="open")
    cause = models.TextField(_("cause"), blank=True)
    what_worked = models.TextField(_("what worked"), blank=True)
    what_to_improve = models.TextField(_("what to improve"), blank=True)
    created_at = models.DateTimeField(_("created"))
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("post-incident review")
        verbose_name_plural = _("post-incident reviews")
        indexes = [models.Index(fields=["status"])]

    def __str__(self) -> str:
        return f"{self.incident.reference}: {self.get_status_display()}"


class ReviewAction(models.Model):
    """Something to do after a major incident, with an owner and a due date."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        DONE = "done", _("Done")

    review = models.ForeignKey(PostIncidentReview, on_delete=models.CASCADE, related_name="actions")
    description = models.CharField(_("action"), max_length=300)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="review_actions",
    )
    due_date = models.DateField(_("due date"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default="open")
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    # When the owner was last reminded of it by e-mail (overdue actions, once a week).
    reminded_at = models.DateTimeField(_("last reminded"), null=True, blank=True)

    class Meta:
        ordering = ["due_date", "id"]
        verbose_name = _("review action")
        verbose_name_plural = _("review actions")
        indexes = [models.Index(fields=["status", "due_date"])]

    def __str__(self) -> str:
        return self.description
