"""The IT unit's staff: employment form and rate (competences and reviews come later)."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from arende.core.models.scoping import ScopedQuerySet


class EmploymentQuerySet(ScopedQuerySet):
    scope_org_field = "user__organisation"

    def own_q(self, user):
        return models.Q(user_id=user.pk)


class Employment(models.Model):
    """One person's employment in the IT unit, with its form and rate (tjänstgöringsgrad)."""

    class Form(models.TextChoices):
        PERMANENT = "permanent", _("Permanent")
        FIXED_TERM = "fixed_term", _("Fixed term (AVA)")
        LABOUR_MARKET = "labour_market", _("Labour-market measure (AME)")
        INTERN = "intern", _("Intern (LIA)")
        CONSULTANT = "consultant", _("Consultant")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.PROTECT,
        related_name="employments",
    )
    form = models.CharField(_("employment form"), max_length=20, choices=Form.choices)
    rate_percent = models.PositiveSmallIntegerField(
        _("rate (%)"), default=100, validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    starts_on = models.DateField(_("starts"))
    ends_on = models.DateField(_("ends"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    objects = EmploymentQuerySet.as_manager()

    class Meta:
        ordering = ["user__last_name", "starts_on"]
        verbose_name = _("employment")
        verbose_name_plural = _("employments")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(rate_percent__gte=1, rate_percent__lte=100),
                name="employment_rate_range",
            ),
            models.CheckConstraint(
                condition=models.Q(ends_on__isnull=True)
                | models.Q(ends_on__gte=models.F("starts_on")),
                name="employment_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.rate_percent} %)"

    @property
    def organisation_id(self) -> int | None:
        return self.user.organisation_id
