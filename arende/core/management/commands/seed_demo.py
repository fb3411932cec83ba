"""manage.py seed_demo: build the demo world (idempotent) and print the demo logins."""

from __future__ import annotations

import os

from django.core.management.base import BaseCommand

from arende.core.demo.seed import demo_logins, seed_demo

DEFAULT_DEMO_PASSWORD = "arende-demo"  # noqa: S105 - the demo world's published password


class Command(BaseCommand):
    help = "Create the demo organisations, departments, IT staff and requesters if missing."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing when the database already has users.",
        )
        parser.add_argument(
            "--quiet-logins", action="store_true", help="Do not print the demo logins."
        )

    def handle(self, *args, if_empty: bool = False, quiet_logins: bool = False, **options):
        from arende.core.models import User

        password = os.environ.get("DEMO_PASSWORD", DEFAULT_DEMO_PASSWORD)
        if if_empty and User.objects.exists():
            self.stdout.write("The database has users already; demo data not loaded again.")
        else:
            result = seed_demo(password=password)
            self.stdout.write(
                self.style.SUCCESS(f"Demo data ready ({result.created} users created).")
            )
        logins = demo_logins()
        if quiet_logins or not logins:
            return
        self.stdout.write(f"\nDemo logins (password: {password}, unless changed since):")
        for login in logins:
            self.stdout.write(f"  {login.email:42} {login.name:20} {login.what}")
