"""SLA configuration: business calendars and SLA policies. The arithmetic is in engine.py."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from arende.sla import clocks, engine

WEEKDAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def default_weekly_hours() -> dict[str, list[str]]:
    office = ["08:00-12:00", "13:00-16:30"]
    return {key: (office if key not in ("sat", "sun") else []) for key in WEEKDAY_KEYS}


def validate_weekly_hours(value: object) -> None:
    if not isinstance(value, dict) or set(value) - set(WEEKDAY_KEYS):
        raise ValidationError(_("Give the hours per weekday: mon, tue, … sun."))
    for key, spans in value.items():
        try:
            engine.hours(*spans)
        except (TypeError, ValueError):
            raise ValidationError(
                _("The hours for %(day)s are not like 08:00-12:00.") % {"day": key}
            ) from None


class Calendar(models.Model):
    """Opening hours that SLA clocks run on: per organisation, overridable per service."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    organisation = models.ForeignKey(
        "core.Organisation",
        verbose_name=_("organisation"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="sla_calendars",
        help_text=_("Empty: the calendar used when an organisation has none of its own."),
    )
    service = models.ForeignKey(
        "servicedesk.Service",
        verbose_name=_("service"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="sla_calendars",
        help_text=_("Set for a service with other hours, e.g. on-call around the clock."),
    )
    always_open = models.BooleanField(_("open around the clock (24/7)"), default=False)
    weekly_hours = models.JSONField(
        _("opening hours per weekday"),
        default=default_weekly_hours,
        validators=[validate_weekly_hours],
    )
    closed_eves = models.BooleanField(
        _("closed on julafton, midsommarafton and nyårsafton"), default=True
    )
    shortened_days = models.BooleanField(
        _("close at noon on the days before some holidays"), default=True
    )
    time_zone = models.CharField(_("time zone"), max_length=50, default="Europe/Stockholm")
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name = _("business calendar")
        verbose_name_plural = _("business calendars")
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "service"], name="sla_calendar_one_per_scope"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class CalendarException(models.Model):
    """One date that differs from the weekly hours: closed, or open at other hours."""

    calendar = models.ForeignKey(
        Calendar, on_delete=models.CASCADE, related_name="exceptions", verbose_name=_("calendar")
    )
    date = models.DateField(_("date"))
    hours = models.JSONField(
        _("opening hours"),
        default=list,
        blank=True,
        help_text=_('Empty: closed all day. Otherwise e.g. ["08:00-12:00"].'),
    )
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        ordering = ["date"]
        verbose_name = _("calendar exception")
        verbose_name_plural = _("calendar exceptions")
        constraints = [
            models.UniqueConstraint(fields=["calendar", "date"], name="sla_exception_per_date"),
        ]

    def __str__(self) -> str:
        return f"{self.calendar} {self.date}"

    def clean(self) -> None:
        try:
            engine.hours(*self.hours)
        except (TypeError, ValueError):
            raise ValidationError({"hours": _("Give hours like 08:00-12:00.")}) from None


def default_pause_statuses() -> list[str]:
    return sorted(clocks.DEFAULT_PAUSE_STATUSES)


class SlaPolicy(models.Model):
    """Targets for a set of tickets. Policies are tried in order; the first that matches wins."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    order = models.PositiveIntegerField(_("order"), default=100)
    organisation = models.ForeignKey(
        "core.Organisation",
        verbose_name=_("organisation"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="sla_policies",
    )
    service = models.ForeignKey(
        "servicedesk.Service",
        verbose_name=_("service"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="sla_policies",
    )
    kind = models.CharField(_("ticket kind"), max_length=20, blank=True)
    priority = models.PositiveSmallIntegerField(_("priority"), null=True, blank=True)
    first_response_minutes = models.PositiveIntegerField(_("first response (business minutes)"))
    resolution_minutes = models.PositiveIntegerField(_("resolution (business minutes)"))
    # Not counted yet (no clock uses it) and not offered in the administration: kept so that a
    # "next update" clock can come without a migration.
    next_update_minutes = models.PositiveIntegerField(
        _("next update (business minutes)"), null=True, blank=True
    )
    second_line_resolution_minutes = models.PositiveIntegerField(
        _("second line, from escalation (business minutes)"),
        null=True,
        blank=True,
        help_text=_("An internal target (OLA) for the second line."),
    )
    warn_at_percent = models.PositiveSmallIntegerField(_("first warning at (%)"), default=75)
    second_warn_at_percent = models.PositiveSmallIntegerField(
        _("second warning at (%)"), default=90
    )
    pause_statuses = models.JSONField(
        _("statuses that pause the clocks"),
        default=default_pause_statuses,
        blank=True,
        help_text=_("While a ticket has one of these statuses, none of its clocks count."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        ordering = ["order", "name"]
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(warn_at_percent__lt=models.F("second_warn_at_percent"))
                & models.Q(second_warn_at_percent__lte=100),
                name="sla_policy_warnings_in_order",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Metric(models.TextChoices):
    FIRST_RESPONSE = clocks.FIRST_RESPONSE, _("First response")
    RESOLUTION = clocks.RESOLUTION, _("Resolution")
    SECOND_LINE = clocks.SECOND_LINE, _("Second line (OLA)")


class ClockState(models.TextChoices):
    RUNNING = clocks.RUNNING, _("On track")
    PAUSED = clocks.PAUSED, _("Paused")
    MET = clocks.MET, _("Met")
    BREACHED = clocks.BREACHED, _("Breached")
    CANCELLED = clocks.CANCELLED, _("Cancelled")


class StatusSpan(models.Model):
    """How long a ticket had each status: the history that pauses are computed from."""

    ticket = models.ForeignKey(
        "servicedesk.Ticket", on_delete=models.CASCADE, related_name="status_spans"
    )
    status = models.CharField(_("status"), max_length=20)
    started_at = models.DateTimeField(_("from"))
    ended_at = models.DateTimeField(_("to"), null=True, blank=True)

    class Meta:
        ordering = ["started_at", "id"]
        verbose_name = _("status period")
        verbose_name_plural = _("status periods")
        indexes = [models.Index(fields=["ticket", "started_at"])]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.status} {self.started_at:%Y-%m-%d %H:%M}"


class SlaClock(models.Model):
    """One metric's clock on one ticket, as last computed from the ticket's history.

    Rows are derived data: ``sla/services.py`` recomputes them whenever the ticket, its policy
    or its calendar changes. ``alert_level`` is the one field that is not derived: it records
    which alerts were sent (1 warning, 2 critical, 3 breached), so each is sent once.
    """

    # No index of their own: (ticket, metric) is unique, which serves lookups by ticket, and
    # clocks are rewritten by the million after a calendar change, where each index costs.
    ticket = models.ForeignKey(
        "servicedesk.Ticket",
        on_delete=models.CASCADE,
        related_name="sla_clocks",
        db_index=False,
    )
    metric = models.CharField(_("metric"), max_length=20, choices=Metric.choices)
    policy = models.ForeignKey(
        SlaPolicy,
        verbose_name=_("SLA policy"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="clocks",
        db_index=False,
    )
    calendar_name = models.CharField(_("calendar"), max_length=100, blank=True)
    # The ticket's dimensions as of the last computation (every ticket change recomputes), so
    # that the compliance report groups clocks without joining a million tickets.
    organisation = models.ForeignKey(
        "core.Organisation",
        null=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    service = models.ForeignKey(
        "servicedesk.Service",
        null=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    group = models.ForeignKey(
        "servicedesk.SupportGroup",
        null=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    priority = models.PositiveSmallIntegerField(null=True)
    line = models.PositiveSmallIntegerField(null=True)
    target_minutes = models.PositiveIntegerField(_("target (business minutes)"))
    state = models.CharField(_("state"), max_length=12, choices=ClockState.choices)
    started_at = models.DateTimeField(_("started"))
    elapsed_seconds = models.PositiveIntegerField(_("counted (business seconds)"), default=0)
    stopped_at = models.DateTimeField(_("stopped"), null=True, blank=True)
    deadline = models.DateTimeField(_("deadline"), null=True, blank=True)
    breached_at = models.DateTimeField(_("breached"), null=True, blank=True)
    warn_at = models.DateTimeField(null=True, blank=True)
    critical_at = models.DateTimeField(null=True, blank=True)
    alert_level = models.PositiveSmallIntegerField(default=0)
    computed_at = models.DateTimeField(_("computed"))

    class Meta:
        ordering = ["ticket", "metric"]
        verbose_name = _("SLA clock")
        verbose_name_plural = _("SLA clocks")
        constraints = [
            models.UniqueConstraint(fields=["ticket", "metric"], name="sla_clock_per_metric"),
        ]
        indexes = [
            # The alert job's three questions: which running clocks passed a threshold.
            models.Index(
                fields=["warn_at"],
                condition=models.Q(state="running", alert_level__lt=1),
                name="sla_clock_due_warning",
            ),
            models.Index(
                fields=["critical_at"],
                condition=models.Q(state="running", alert_level__lt=2),
                name="sla_clock_due_critical",
            ),
            models.Index(
                fields=["deadline"],
                condition=models.Q(state__in=["running", "breached"], alert_level__lt=3),
                name="sla_clock_due_breach",
            ),
            # The compliance report reads clocks by when their outcome became known.
            models.Index(fields=["stopped_at"], name="sla_clock_stopped"),
            models.Index(
                fields=["breached_at"],
                condition=models.Q(stopped_at__isnull=True),
                name="sla_clock_breached_running",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.metric} {self.state}"

    @property
    def remaining_seconds(self) -> int:
        return self.target_minutes * 60 - self.elapsed_seconds
