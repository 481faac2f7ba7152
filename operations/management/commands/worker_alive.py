"""`manage.py worker_alive`: exit 0 while this host's worker is alive, 1 otherwise (a
supervisor's liveness probe; see operations/worker_alive.py)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from operations.worker_alive import alive_file, worker_age, worker_alive


class Command(BaseCommand):
    help = "Exit 0 if the Celery worker touched its alive file lately (WORKER_ALIVE_FILE), else 1."

    def handle(self, *args: Any, **options: Any) -> None:
        age = worker_age()
        if age is None:
            raise CommandError(f"no worker: {alive_file()} does not exist")
        if not worker_alive():
            raise CommandError(f"the worker last said it was alive {age:.0f} s ago")
        self.stdout.write(f"alive ({age:.0f} s ago)")
