"""`manage.py astria_smoke`: one small tune and one prompt end to end against the configured
Astria (the sandbox by default in development), each step printed with its time."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from astria.client import get_client
from operations.astria_smoke import SmokeFailed, SmokePlan, smoke_run


class Command(BaseCommand):
    help = (
        "Train one small tune and run one prompt on it against the configured Astria, copy the "
        "first image, then delete both. With ASTRIA_BRANCH=fast a real account is not charged; "
        "on any other branch it trains (and pays) for real. Exits non-zero naming the step that "
        "failed."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--timeout",
            type=float,
            default=300,
            help="seconds to wait for the training, and again for the images (default 300)",
        )
        parser.add_argument(
            "--poll",
            type=float,
            default=5,
            help="seconds between two looks at the tune or the prompt (default 5)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        plan = SmokePlan(
            base_tune_id=settings.FLUX_BASE_TUNE_ID,
            branch=settings.ASTRIA_BRANCH,
            preset=settings.ASTRIA_PRESET,
            timeout=options["timeout"],
            poll_seconds=options["poll"],
        )
        try:
            smoke_run(client=get_client(), plan=plan, say=self.stdout.write)
        except SmokeFailed as failed:
            raise CommandError(
                f"astria_smoke failed at step {failed.step!r}: {failed.message}"
            ) from None
        self.stdout.write(self.style.SUCCESS("astria_smoke: every step passed."))
