"""Listeners: ticket writes, SLA alerts and overdue follow-up actions become mail (sent after
the commit)."""

from __future__ import annotations

from django.dispatch import receiver

from arende.operations.signals import action_overdue
from arende.servicedesk.signals import ticket_changed
from arende.sla.signals import sla_alert


@receiver(ticket_changed, dispatch_uid="mail.ticket_changed")
def _ticket_changed(sender, ticket, verb, actor=None, activity=None, imported=False, **kwargs):
    if imported:
        return  # history being replayed: no one is told
    from arende.mail.services.outbound import notify_ticket_changed

    notify_ticket_changed(ticket=ticket, verb=verb, actor=actor, activity=activity)


@receiver(sla_alert, dispatch_uid="mail.sla_alert")
def _sla_alert(sender, ticket, level, deadline=None, recipients=(), metric_label="", **kwargs):
    from arende.mail.services.outbound import notify_sla_alert

    notify_sla_alert(
        ticket=ticket,
        metric_label=metric_label or kwargs.get("metric", ""),
        level=level,
        deadline=deadline,
        recipients=list(recipients),
    )


@receiver(action_overdue, dispatch_uid="mail.action_overdue")
def _action_overdue(sender, action, **kwargs):
    from arende.mail.services.outbound import notify_action_overdue

    notify_action_overdue(action=action)
