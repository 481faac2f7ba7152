"""The Celery worker SIGKILLed (its whole process group, by pid) at random moments while it
copies a photoshoot's results into storage: every photo arrives exactly once, and the
photoshoot ends ready, within the broker's visibility timeout plus the sweep."""

from __future__ import annotations

import random
import time

import pytest

from accounts.credits import credits_grant
from packs.models import Pack, PackPrompt
from tests.conftest import require, worker_base_env, worker_start
from tests.faults.conftest import scale
from tests.tunes.conftest import ready_selfie_set, start
from tunes.models import Photo, Photoshoot
from tunes.sweep import overdue_poll

pytestmark = [pytest.mark.faults, pytest.mark.postgres, pytest.mark.redis]

VISIBILITY = 5  # seconds before Redis hands an unacknowledged task to another worker


def test_no_photo_is_lost_or_doubled_when_the_worker_is_killed(
    portal, owner, worker_env, tmp_path, settings
):
    require("postgres", "redis")
    from photoshoot.celery import app

    settings.POLL_AFTER_SECONDS = 1
    images, kills = scale(short=20, full=100), scale(short=1, full=3)
    portal.configure(train_seconds=0, generate_seconds=0)
    pack = Pack.objects.create(title="Many", slug="many", price=1, classes=["woman"])
    for n in range(images // 4):
        PackPrompt.objects.create(pack=pack, template=f"{{subject}}, scene {n}", order=n, seed=n)
    credits_grant(user=owner, amount=5, reason="Test credits")
    env = {**worker_base_env(tmp_path), **worker_env, "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY)}
    app.control.purge()
    eager, app.conf.task_always_eager = app.conf.task_always_eager, False
    worker = worker_start(env, own_session=True)
    try:
        photoshoot = start(owner, ready_selfie_set(owner), pack)
        rng = random.Random(7)
        copied_at_kills = []
        for kill in range(kills):
            # Somewhere in the middle of the copies.
            at = images * (kill + 1) // (kills + 1) + rng.randrange(-2, 3)
            deadline = time.monotonic() + 60
            while Photo.objects.count() < at and time.monotonic() < deadline:
                time.sleep(0.05)
            copied_at_kills.append(Photo.objects.count())
            worker.kill()
            worker = worker_start(env, own_session=True)
        deadline = time.monotonic() + VISIBILITY + 90
        ready = Photoshoot.objects.filter(pk=photoshoot.pk, status="ready")
        while not ready.exists() and time.monotonic() < deadline:
            overdue_poll()  # what beat does every minute
            time.sleep(1)
    finally:
        app.conf.task_always_eager = eager
        worker.stop()

    assert all(0 < copied < images for copied in copied_at_kills), copied_at_kills
    photoshoot.refresh_from_db()
    assert photoshoot.status == "ready", (photoshoot.status, worker.output[-2000:])
    assert Photo.objects.filter(photoshoot=photoshoot).count() == images
    assert all(p.photos.count() == 4 for p in photoshoot.prompts.all())
    # A kill while a scene was being sent leaves it at Astria once (it is looked up first).
    assert len(list(portal.client().prompts_list(1504944))) == images // 4
