"""Redis, the broker, stopped for a while and started again: callbacks that come meanwhile are
still answered, a photoshoot started meanwhile still starts, and every job finishes."""

from __future__ import annotations

import time

import pytest
import requests

from accounts.credits import credits_grant
from tests import factories
from tests.conftest import worker_base_env, worker_start
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
