"""Recompute SLA clocks from the tickets' history (after an import or a correction)."""

from __future__ import annotations

import os
import time
from typing import Any

from django.core.management.base import BaseCommand

from arende.sla.services import (
    clocks_recompute,
    clocks_recompute_parallel,
    status_spans_rebuild,
)


class Command(BaseCommand):
    help = "Recompute the SLA clocks of open tickets, or of all tickets with --all."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--all", action="store_true", help="also closed tickets")
        parser.add_argument(
            "--rebuild-status-history",
            action="store_true",
            help="first rebuild the status history from the ticket timelines (imports)",
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=os.cpu_count() or 1,
            help="processes for --all (default: one per CPU)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from arende.servicedesk.models import Ticket

        started = time.perf_counter()
        if options["rebuild_status_history"]:
            ids = Ticket.objects.values_list("pk", flat=True)
            spans = status_spans_rebuild(ticket_ids=ids)
            self.stdout.write(f"{spans} status periods rebuilt")
        if options["all"] and options["workers"] > 1:
            count = clocks_recompute_parallel(workers=options["workers"])
        else:
            count = clocks_recompute(open_only=not options["all"])
        self.stdout.write(f"{count} tickets recomputed in {time.perf_counter() - started:.1f} s")
