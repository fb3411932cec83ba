"""Problems: the cause behind one or more incidents, and known errors with a workaround."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from arende.operations.models.scoping import OrganisationsScoped


class ProblemQuerySet(OrganisationsScoped, models.QuerySet):
    scope_perm = "operations.view_problem"


class Problem(models.Model):
    """An underlying cause to find and remove; a known error once cause and workaround are known."""

    class Status(models.TextChoices):
        OPEN = "open", _("Under investigation")
        KNOWN_ERROR = "known_error", _("Known error")
        RESOLVED = "resolved", _("Resolved")

    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default="open")
    root_cause = models.TextField(_("root cause"), blank=True)
    workaround = models.TextField(_("workaround"), blank=True)
    is_known_error = models.BooleanField(_("known error"), default=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="owned_problems",
    )
    services = models.ManyToManyField(
        "servicedesk.Service", verbose_name=_("services"), blank=True, related_name="problems"
    )
    organisations = models.ManyToManyField(
        "core.Organisation", verbose_name=_("organisations"), related_name="problems"
    )
    major_incidents = models.ManyToManyField(
        "operations.MajorIncident",
        verbose_name=_("major incidents"),
        blank=True,
        related_name="problems",
    )
    created_at = models.DateTimeField(_("created"))
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    objects = ProblemQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("problem")
        verbose_name_plural = _("problems")

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    @property
    def reference(self) -> str:
        return f"PRB-{self.pk or 0:04d}"


class ProblemTicket(models.Model):
    """A ticket linked to a problem: an incident it explains (or one that hit a known error)."""

    problem = models.ForeignKey(Problem, on_delete=models.CASCADE, related_name="ticket_links")
    ticket = models.ForeignKey(
        "servicedesk.Ticket", on_delete=models.CASCADE, related_name="problem_links"
    )
    linked_at = models.DateTimeField(_("linked"))
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["linked_at", "id"]
        verbose_name = _("problem ticket")
        verbose_name_plural = _("problem tickets")
        constraints = [
            models.UniqueConstraint(fields=["problem", "ticket"], name="problem_ticket_unique")
        ]

    def __str__(self) -> str:
        return f"{self.problem_id} – {self.ticket_id}"
