"""`manage.py demo_setup`: the demo account `make run` prints, created once and reused, with
pictures for the demo packs and a finished sample photoshoot to look at.

It lives in tunes, not accounts, because it reaches packs and photoshoots, which sit above
accounts (accounts imports neither).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from accounts.services import demo_user_ensure
from tunes.demo import demo_packs_pictures_ensure, sample_photoshoot_ensure


class Command(BaseCommand):
    help = (
        "Create the demo account (DEMO_EMAIL / DEMO_PASSWORD) unless it exists, draw the demo "
        "packs' covers and samples they lack, and give the account a sample photoshoot once."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            self.stderr.write("demo_setup refuses to run under production settings.")
            raise SystemExit(1)
        user, created = demo_user_ensure()
        drawn = demo_packs_pictures_ensure()
        sample, sample_new = sample_photoshoot_ensure(user=user)
        if drawn:
            self.stdout.write(f"Drew {drawn} cover and sample pictures for the demo packs.")
        if sample_new and sample is not None:
            self.stdout.write(f"Added a sample photoshoot ({sample.title}) to the demo account.")
        state = "Created" if created else "Reusing"
        self.stdout.write(f"{state} the demo account to log in with:")
        self.stdout.write(f"  e-mail:   {settings.DEMO_EMAIL}")
        self.stdout.write(f"  password: {settings.DEMO_PASSWORD}")
