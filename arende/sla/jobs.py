"""Background jobs of the SLA app."""

from __future__ import annotations

from arende.core.jobs import crontab, job, periodic_job


@periodic_job(crontab(minute="*"))
def send_sla_alerts() -> None:
    """Every minute: warnings, critical warnings and breaches that fell due, each sent once."""
    from arende.sla.services import sla_alerts_send

    sla_alerts_send()


@job()
def recompute_clocks(open_only: bool = True) -> None:
    """After a calendar or policy change: the clocks of the tickets it may touch."""
    from arende.sla.services import clocks_recompute

    clocks_recompute(open_only=open_only)
