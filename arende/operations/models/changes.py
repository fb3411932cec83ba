"""Changes (RFC): templates of standard changes, the change itself, its approvals, blackouts."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from arende.operations.models.scoping import OrganisationsScoped


class RiskLevel(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")


class ChangeTemplate(models.Model):
    """A pre-approved standard change: done often, low risk, same plan every time."""

    name = models.CharField(_("name"), max_length=150, unique=True)
    description = models.TextField(_("description"), blank=True)
    implementation_plan = models.TextField(_("implementation plan"), blank=True)
    backout_plan = models.TextField(_("backout plan"), blank=True)
    services = models.ManyToManyField(
        "servicedesk.Service", verbose_name=_("services"), blank=True, related_name="+"
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("standard change template")
        verbose_name_plural = _("standard change templates")

    def __str__(self) -> str:
        return self.name


class BlackoutPeriod(models.Model):
    """A time when no change may be carried out (year-end closing, elections, school start)."""

    name = models.CharField(_("name"), max_length=150)
    reason = models.TextField(_("reason"), blank=True)
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))

    class Meta:
        ordering = ["starts_at"]
        verbose_name = _("blackout period")
        verbose_name_plural = _("blackout periods")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="blackout_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        return self.name


class ChangeQuerySet(OrganisationsScoped, models.QuerySet):
    scope_perm = "operations.view_change"


class Change(models.Model):
    """A request for change, from draft through the change board to its review."""

    class Type(models.TextChoices):
        STANDARD = "standard", _("Standard (pre-approved)")
        NORMAL = "normal", _("Normal")
        EMERGENCY = "emergency", _("Emergency")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Awaiting approval")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        SCHEDULED = "scheduled", _("Scheduled")
        IN_PROGRESS = "in_progress", _("In progress")
        IMPLEMENTED = "implemented", _("Implemented")
        REVIEWED = "reviewed", _("Reviewed")
        CANCELLED = "cancelled", _("Cancelled")

    class ApprovalRule(models.TextChoices):
        ALL = "all", _("All approver roles must approve")
        ANY = "any", _("One approval is enough")

    class Outcome(models.TextChoices):
        NONE = "", _("Not reviewed")
        SUCCESSFUL = "successful", _("Successful")
        FAILED = "failed", _("Failed, backed out")
        CAUSED_DISRUPTION = "caused_disruption", _("Caused a disruption")

    title = models.CharField(_("title"), max_length=200)
    type = models.CharField(_("type"), max_length=20, choices=Type.choices, default="normal")
    template = models.ForeignKey(
        ChangeTemplate,
        verbose_name=_("standard change template"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="changes",
    )
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default="draft")
    description = models.TextField(_("description"))
    reason = models.TextField(_("reason"), blank=True)
    services = models.ManyToManyField(
        "servicedesk.Service", verbose_name=_("affected services"), related_name="changes"
    )
    organisations = models.ManyToManyField(
        "core.Organisation", verbose_name=_("affected organisations"), related_name="changes"
    )
    systems = models.TextField(
        _("affected systems"), blank=True, help_text=_("One system per line.")
    )
    risk_answers = models.JSONField(_("risk questionnaire"), default=dict, blank=True)
    risk_level = models.CharField(
        _("risk"), max_length=10, choices=RiskLevel.choices, default=RiskLevel.LOW
    )
    planned_start = models.DateTimeField(_("planned start"))
    planned_end = models.DateTimeField(_("planned end"))
    implementation_plan = models.TextField(_("implementation plan"), blank=True)
    backout_plan = models.TextField(_("backout plan"), blank=True)
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="requested_changes",
    )
    implementer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("implementer"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="implemented_changes",
    )
    approval_rule = models.CharField(
        _("approval rule"), max_length=10, choices=ApprovalRule.choices, default="all"
    )
    approver_roles = models.ManyToManyField(
        "core.Role", verbose_name=_("approver roles"), blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"))
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    approved_at = models.DateTimeField(_("approved"), null=True, blank=True)
    actual_start = models.DateTimeField(_("actual start"), null=True, blank=True)
    actual_end = models.DateTimeField(_("actual end"), null=True, blank=True)
    implementation_notes = models.TextField(_("implementation notes"), blank=True)
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices, blank=True)
    review_notes = models.TextField(_("review notes"), blank=True)
    reviewed_at = models.DateTimeField(_("reviewed"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    objects = ChangeQuerySet.as_manager()

    class Meta:
        ordering = ["-planned_start", "-id"]
        verbose_name = _("change")
        verbose_name_plural = _("changes")
        permissions = [
            ("approve_change", _("Can approve changes in the change board")),
            ("manage_change", _("Can schedule, review and cancel changes")),
        ]
        indexes = [models.Index(fields=["planned_start", "planned_end"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(planned_end__gt=models.F("planned_start")),
                name="change_window_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    @property
    def reference(self) -> str:
        return f"RFC-{self.pk or 0:04d}"

    @property
    def system_list(self) -> list[str]:
        return [line.strip() for line in self.systems.splitlines() if line.strip()]


class ChangeApproval(models.Model):
    """One decision of the change board on a change, given for one approver role."""

    class Decision(models.TextChoices):
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    change = models.ForeignKey(Change, on_delete=models.CASCADE, related_name="approvals")
    role = models.ForeignKey(
        "core.Role", verbose_name=_("role"), null=True, blank=True, on_delete=models.PROTECT
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decision = models.CharField(_("decision"), max_length=10, choices=Decision.choices)
    comment = models.TextField(_("comment"), blank=True)
    at = models.DateTimeField(_("time"))

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("change approval")
        verbose_name_plural = _("change approvals")

    def __str__(self) -> str:
        return f"{self.change_id} {self.decision}"
