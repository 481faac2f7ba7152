"""`manage.py demo_setup`: the demo account `make run` prints, created once and reused."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from accounts.services import demo_user_ensure


class Command(BaseCommand):
    help = "Create the demo account (DEMO_EMAIL / DEMO_PASSWORD) unless it exists."

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            self.stderr.write("demo_setup refuses to run under production settings.")
            raise SystemExit(1)
        _, created = demo_user_ensure()
        state = "Created" if created else "Reusing"
        self.stdout.write(f"{state} the demo account to log in with:")
        self.stdout.write(f"  e-mail:   {settings.DEMO_EMAIL}")
        self.stdout.write(f"  password: {settings.DEMO_PASSWORD}")
