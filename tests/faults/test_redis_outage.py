"""Redis, the broker, stopped for a while and started again: callbacks that come meanwhile are
still answered, a photoshoot started meanwhile still starts, every job finishes, and an e-mail
queued meanwhile is sent once."""

from __future__ import annotations

import time

import pytest
import requests
from django.utils import timezone

from accounts.credits import credits_grant
from tests import factories
from tests.conftest import wait_until, worker_base_env, worker_start
from tests.faults.conftest import scale
from tests.tunes.conftest import ready_selfie_set, start
from tunes.callbacks import callback_secret
from tunes.models import CallbackEvent, Photo, Photoshoot, TrainedModel
from tunes.sweep import overdue_poll

pytestmark = [pytest.mark.faults, pytest.mark.postgres, pytest.mark.redis]


def customer():
    person = factories.UserFactory()
    credits_grant(user=person, amount=20, reason="Test credits")
    return person, ready_selfie_set(person)


def test_a_broker_outage_loses_no_job_and_no_callback_goes_unanswered(
    portal, pack, own_redis, worker_env, live_server, tmp_path, settings
):
    from photoshoot.celery import app

    settings.POLL_AFTER_SECONDS = 1
    outage = scale(short=5, full=30)
    portal.configure(train_seconds=3, generate_seconds=1)
    env = {**worker_base_env(tmp_path), **worker_env, "CELERY_VISIBILITY_TIMEOUT": "5"}
    eager, app.conf.task_always_eager = app.conf.task_always_eager, False
    worker = worker_start(env)
    try:
        person, selfies = customer()
        before = start(person, selfies, pack)
        model = TrainedModel.objects.filter(pk=before.model_id)
        deadline = time.monotonic() + 30
        while model.get().status != "training" and time.monotonic() < deadline:
            time.sleep(0.1)
        trained = model.get()
        assert trained.status == "training"

        own_redis.stop()
        down_since = time.monotonic()
        # A photoshoot started now starts: the user sees it, the sweep sends it later.
        person, selfies = customer()
        during = start(person, selfies, pack)
        assert Photoshoot.objects.get(pk=during.pk).status == "training"
        assert TrainedModel.objects.get(pk=during.model_id).status == "queued"
        # Astria's callback for the first one's model is answered, and recorded.
        response = requests.post(
            f"{live_server.url}/callbacks/astria/tune/{trained.code}/"
            f"?secret={callback_secret('tune', trained.code)}",
            json={"tune": {"id": trained.astria_id}},
            timeout=30,
        )
        assert response.status_code == 200
        assert CallbackEvent.objects.filter(model=trained).exists()
        time.sleep(max(0, outage - (time.monotonic() - down_since)))
        own_redis.start()

        restarts = 0
        deadline = time.monotonic() + 150
        photoshoots = Photoshoot.objects.filter(pk__in=[before.pk, during.pk])
        while photoshoots.exclude(status="ready").exists() and time.monotonic() < deadline:
            if worker.process.poll() is not None:
                # Celery's worker may exit when its broker goes away (a kombu bug in closing
                # the lost connection): production runs it under a supervisor that starts it
                # again, as this test does.
                worker = worker_start(env)
                restarts += 1
            overdue_poll()  # what beat does every minute
            time.sleep(1)
    finally:
        app.conf.task_always_eager = eager
        worker.stop()

    print(f"the worker was started again {restarts} times after the outage")
    statuses = list(photoshoots.values_list("status", flat=True))
    assert statuses == ["ready", "ready"], worker.output[-3000:]
    for photoshoot in photoshoots:
        assert Photo.objects.filter(photoshoot=photoshoot).count() == 6
    # One tune at Astria per model, and one prompt per scene, whatever was sent again.
    titles = [t.title for t in portal.client().tunes_list()]
    assert sorted(titles) == sorted(m.astria_title for m in TrainedModel.objects.all())
    assert len(list(portal.client().prompts_list(1504944))) == 6


def test_the_ready_email_of_a_photoshoot_that_finished_while_the_broker_was_down_arrives_once(
    own_redis, transactional_db, tmp_path
):
    from accounts.models import OutboxEmail
    from accounts.services import outbox_flush
    from photoshoot.celery import app
    from tunes.photoshoots import photoshoot_finish_if_done

    photoshoot = factories.PhotoshootFactory(
        status="generating", model__status=TrainedModel.Status.READY
    )
    factories.PromptFactory(photoshoot=photoshoot, status="done")
    eager, app.conf.task_always_eager = app.conf.task_always_eager, False
    worker = None
    try:
        own_redis.stop()
        # Its last scene ends now: ready, and the e-mail's task cannot reach the broker.
        photoshoot_finish_if_done(photoshoot_id=photoshoot.pk)
        assert Photoshoot.objects.get(pk=photoshoot.pk).status == "ready"
        assert OutboxEmail.objects.get().status == "pending"

        own_redis.start()
        worker = worker_start(worker_base_env(tmp_path))
        OutboxEmail.objects.update(next_try_at=timezone.now())  # its first 30 s are over
        assert outbox_flush() == 1  # what beat does every minute
        mail_dir = tmp_path / "mail"
        wait_until(lambda: OutboxEmail.objects.filter(status="sent").exists(), timeout=60)
        assert outbox_flush() == 0
        time.sleep(2)  # a second send, if there were one, would have landed by now
    finally:
        app.conf.task_always_eager = eager
        if worker is not None:
            worker.stop()

    messages = [f.read_text() for f in mail_dir.iterdir()]
    assert len(messages) == 1, worker.output[-3000:]
    assert f"Subject: [PhotoShoot] Your {photoshoot.pack.title} photos are ready" in messages[0]
    assert OutboxEmail.objects.get().attempts == 1
