"""The demo's SLA configuration: office hours for both municipalities, round the clock for the
telephone switch, and targets per priority (with an internal target for the second line)."""

from __future__ import annotations

from arende.servicedesk.models import Service
from arende.sla.models import Calendar, SlaPolicy

# (name, priority, first response, resolution, second line) in business minutes.
POLICIES = [
    ("Prio 1 – kritisk", 1, 30, 4 * 60, 3 * 60),
    ("Prio 2 – hög", 2, 2 * 60, 2 * 450, 450),
    ("Prio 3 – normal", 3, 4 * 60, 5 * 450, 3 * 450),
    ("Prio 4 – låg", 4, 450, 10 * 450, 8 * 450),
]


def ensure_sla_configuration() -> None:
    """Idempotent: creates what is missing, changes nothing that exists."""
    Calendar.objects.get_or_create(
        name="Kontorstid", defaults={"organisation": None, "always_open": False}
    )
    telephony = Service.objects.filter(name="Telefoni och växel").first()
    if telephony is not None:
        Calendar.objects.get_or_create(
            name="Växeln dygnet runt", defaults={"service": telephony, "always_open": True}
        )
    for order, (name, priority, response, resolution, second_line) in enumerate(POLICIES):
        SlaPolicy.objects.get_or_create(
            name=name,
            defaults={
                "order": 10 * (order + 1),
                "priority": priority,
                "first_response_minutes": response,
                "resolution_minutes": resolution,
                "second_line_resolution_minutes": second_line,
            },
        )
