"""Showing SLA time: business durations in hours and minutes, and the state in words."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext as _

from arende.sla.formatting import business_duration

register = template.Library()


register.filter("business_duration", business_duration)


@register.inclusion_tag("sla/_time_left.html")
def sla_time_left(ticket, time_left: dict | None = None):
    """The queue's "time left" cell: the state in words, the business time left (from
    ``selectors.time_left_for``) and the deadline."""
    seconds = (time_left or {}).get(ticket.pk)
    return {"ticket": ticket, "seconds": seconds}


@register.filter
def sla_when(value: str | None) -> str:
    """An ISO time stored in a timeline entry, in local time ("2021-03-01 14:00")."""
    import datetime

    from django.utils import timezone

    if not value:
        return "–"
    try:
        moment = datetime.datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return str(value)
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


@register.filter
def sla_metric(value: str) -> str:
    from arende.sla.models import Metric

    try:
        return str(Metric(value).label)
    except ValueError:
        return value


@register.filter
def sla_level(value: str) -> str:
    """The alert level recorded on a ticket, in words."""
    return {
        "warning": _("First warning"),
        "critical": _("Second warning"),
        "breached": _("Breached"),
    }.get(value, value)
